package loadgen

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"time"
)

// sortThreadSteps are the commands of a sortthread session (issue #6):
// SORT by date, subject and from, THREAD=REFERENCES and an ESEARCH over
// two header fields, each over the whole mailbox. Servers without SORT
// only get SELECT and the ESEARCH.
func sortThreadSteps(o Options, sortOK bool) []step {
	steps := []step{{"select", "SELECT INBOX"}}
	if sortOK {
		steps = append(steps,
			step{"sort_date", "SORT (DATE) UTF-8 ALL"},
			step{"sort_subject", "SORT (SUBJECT) UTF-8 ALL"},
			step{"sort_from", "SORT (FROM) UTF-8 ALL"},
			step{"thread_references", "THREAD REFERENCES UTF-8 ALL"})
	}
	return append(steps, step{"esearch_header",
		"SEARCH RETURN (MIN MAX COUNT) OR SUBJECT " + quote(o.SearchSubject) + " FROM " + quote("example")})
}

// SortThreadMessages returns n messages for the sortthread mailbox, made
// from corpus messages (their From, To, other header fields and body) with
// a fixed seed: about 60% are replies to one of the 2,000 messages before
// them, with "Re: " and the thread's subject, References and In-Reply-To;
// the rest start threads with the corpus message's own subject. Sent
// dates run forward about 7 minutes a message with up to an hour of
// jitter and varying zones, so DATE order is not arrival order.
func SortThreadMessages(corpus [][]byte, seed uint64, n int) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 0x736f7274))
	type thread struct {
		id, subject string
		refs        []string
	}
	sent := make([]thread, n)
	out := make([][]byte, n)
	base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	zones := []*time.Location{time.UTC, time.FixedZone("", -5*3600), time.FixedZone("", 3600), time.FixedZone("", 9*3600+1800)}
	for i := range out {
		hdr, body := splitMessage(corpus[rng.IntN(len(corpus))])
		t := thread{id: fmt.Sprintf("%d.%x@sortthread.example", i, rng.Uint32()), subject: headerValue(hdr, "Subject")}
		var b bytes.Buffer
		fmt.Fprintf(&b, "Message-ID: <%s>\r\n", t.id)
		date := base.Add(time.Duration(i)*7*time.Minute + time.Duration(rng.IntN(3600))*time.Second)
		fmt.Fprintf(&b, "Date: %s\r\n", date.In(zones[rng.IntN(len(zones))]).Format(time.RFC1123Z))
		subject := t.subject
		if i > 0 && rng.IntN(10) < 6 {
			p := sent[i-1-rng.IntN(min(i, 2000))]
			t.subject, subject = p.subject, "Re: "+p.subject
			t.refs = append(append([]string(nil), p.refs[max(0, len(p.refs)-11):]...), p.id)
			b.WriteString("References:")
			for _, r := range t.refs {
				fmt.Fprintf(&b, "\r\n <%s>", r)
			}
			fmt.Fprintf(&b, "\r\nIn-Reply-To: <%s>\r\n", p.id)
		}
		fmt.Fprintf(&b, "Subject: %s\r\n", subject)
		b.Write(dropFields(hdr, "Message-ID", "Date", "Subject", "References", "In-Reply-To"))
		b.WriteString("\r\n")
		b.Write(body)
		sent[i], out[i] = t, b.Bytes()
	}
	return out
}

// splitMessage splits a CRLF message into its header lines (each ending
// in CRLF) and its body.
func splitMessage(m []byte) (hdr, body []byte) {
	if i := bytes.Index(m, []byte("\r\n\r\n")); i >= 0 {
		return m[:i+2], m[i+4:]
	}
	return m, nil
}

// headerFields calls fn for each field of a CRLF header block with its
// name and its lines (continuations included).
func headerFields(hdr []byte, fn func(name, lines []byte)) {
	for len(hdr) > 0 {
		end := 0
		for {
			i := bytes.Index(hdr[end:], []byte("\r\n"))
			if i < 0 {
				end = len(hdr)
				break
			}
			end += i + 2
			if end >= len(hdr) || (hdr[end] != ' ' && hdr[end] != '\t') {
				break
			}
		}
		lines := hdr[:end]
		name, _, _ := bytes.Cut(lines, []byte(":"))
		fn(bytes.TrimSpace(name), lines)
		hdr = hdr[end:]
	}
}

// headerValue is the unfolded value of the first field name ("" if none).
func headerValue(hdr []byte, name string) string {
	v := ""
	found := false
	headerFields(hdr, func(n, lines []byte) {
		if !found && bytes.EqualFold(n, []byte(name)) {
			_, val, _ := bytes.Cut(lines, []byte(":"))
			v = string(bytes.TrimSpace(bytes.ReplaceAll(val, []byte("\r\n"), nil)))
			found = true
		}
	})
	return v
}

// dropFields returns hdr without the fields named in names.
func dropFields(hdr []byte, names ...string) []byte {
	var out []byte
	headerFields(hdr, func(n, lines []byte) {
		for _, drop := range names {
			if bytes.EqualFold(n, []byte(drop)) {
				return
			}
		}
		out = append(out, lines...)
	})
	return out
}
