package imap

// TestGenerateSortThreadOracle records what a private Dovecot answers to
// SORT, THREAD and ESEARCH/ESORT for the mailboxes of sortThreadMailboxes.
// It runs only with -sortthread.generate; see testdata/sortthread/README.md.

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"roost/internal/dovecottest"
	"roost/internal/shareddir"
)

var sortThreadGenerate = flag.Bool("sortthread.generate", false, "record "+sortThreadOracleFile+" from a private Dovecot (needs /usr/sbin/dovecot)")

const sortThreadOracleFile = "testdata/sortthread/dovecot-2.3.19-sortthread.jsonl.gz"

// sortThreadKeyLists are the SORT criteria recorded for every mailbox.
var sortThreadKeyLists = []string{
	"ARRIVAL", "REVERSE ARRIVAL", "DATE", "REVERSE DATE", "SIZE", "REVERSE SIZE",
	"SUBJECT", "REVERSE SUBJECT", "FROM", "REVERSE FROM", "TO", "REVERSE TO", "CC", "REVERSE CC",
	"DISPLAYFROM", "REVERSE DISPLAYFROM", "DISPLAYTO", "REVERSE DISPLAYTO",
	"SUBJECT DATE", "FROM REVERSE DATE", "REVERSE SUBJECT ARRIVAL", "CC SIZE", "DISPLAYTO REVERSE SIZE",
	"TO SUBJECT", "REVERSE CC REVERSE FROM", "DATE SUBJECT", "SIZE REVERSE ARRIVAL",
}

// sortThreadExtra are ESEARCH/ESORT exchanges recorded for the corpus
// mailbox, each with the plain SEARCH/SORT it extends.
var sortThreadExtra = []string{
	"SEARCH RETURN (MIN MAX COUNT ALL) ALL", "SEARCH ALL",
	"SEARCH RETURN (MIN MAX COUNT ALL) LARGER 4000", "SEARCH LARGER 4000",
	"UID SEARCH RETURN (ALL) SMALLER 3000", "UID SEARCH SMALLER 3000",
	"SEARCH RETURN (ALL) 1:20,25,27:29,100:*", "SEARCH 1:20,25,27:29,100:*",
	"SEARCH RETURN (COUNT) SUBJECT nosuchsubjectanywhere", "SEARCH RETURN (MIN MAX ALL) SUBJECT nosuchsubjectanywhere",
	"SEARCH RETURN () SMALLER 2500", "SEARCH RETURN (PARTIAL 5:30) LARGER 3000", "SEARCH RETURN (PARTIAL 30:5 COUNT) LARGER 3000",
	"SEARCH RETURN (PARTIAL 1000:2000) ALL", "SEARCH RETURN (MAX PARTIAL 1:1 MIN) SMALLER 5000",
	"SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL", "SORT (DATE) UTF-8 ALL",
	"SORT RETURN (ALL) (ARRIVAL) UTF-8 1:100", "SORT (ARRIVAL) UTF-8 1:100",
	"UID SORT RETURN (ALL MIN MAX) (SUBJECT) UTF-8 LARGER 3000", "UID SORT (SUBJECT) UTF-8 LARGER 3000",
	"SORT RETURN (PARTIAL 10:40 COUNT) (SIZE) UTF-8 ALL", "SORT RETURN (COUNT MIN) (SIZE) UTF-8 SUBJECT nosuchsubjectanywhere",
}

// sortThreadMessage is one message appended to an oracle mailbox.
type sortThreadMessage struct {
	path string // corpus path, or "" for a synthetic message
	data []byte // as appended
	date string // INTERNALDATE argument of APPEND
}

// sortThreadRecord is one line of the oracle file.
type sortThreadRecord struct {
	Kind    string `json:"kind"` // "append" or "cmd"
	Mailbox string `json:"mailbox"`
	UID     uint32 `json:"uid,omitempty"`
	Path    string `json:"path,omitempty"`
	Msg     string `json:"msg,omitempty"` // synthetic message text
	Date    string `json:"date,omitempty"`
	Size    int    `json:"size,omitempty"`
	Cmd     string `json:"cmd,omitempty"`
	Resp    string `json:"resp,omitempty"`
}

func TestGenerateSortThreadOracle(t *testing.T) {
	if !*sortThreadGenerate {
		t.Skip("run with -sortthread.generate to record the oracle from Dovecot")
	}
	if _, err := os.Stat(dovecottest.Binary); err != nil {
		t.Fatalf("dovecot not installed: %v", err)
	}
	dir := sortThreadCorpusDir(t)
	boxes, err := sortThreadMailboxes(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := dialDovecot(t, dovecottest.StartIMAP(t, dovecottest.Options{Env: []string{"TZ=UTC"}}))
	var out []sortThreadRecord
	for _, box := range boxes {
		c.mustDo(t, "CREATE "+box.name)
		for i, m := range box.msgs {
			cmd := fmt.Sprintf("APPEND %s %q {%d}\r\n%s", box.name, m.date, len(m.data), m.data)
			c.mustDo(t, cmd)
			r := sortThreadRecord{Kind: "append", Mailbox: box.name, UID: uint32(i + 1), Path: m.path, Date: m.date, Size: len(m.data)}
			if m.path == "" {
				r.Msg = string(m.data)
			}
			out = append(out, r)
		}
		c.mustDo(t, "SELECT "+box.name)
		cmds := []string{"THREAD REFERENCES UTF-8 ALL", "THREAD REFS UTF-8 ALL", "THREAD ORDEREDSUBJECT UTF-8 ALL"}
		for _, keys := range sortThreadKeyLists {
			cmds = append(cmds, "SORT ("+keys+") UTF-8 ALL")
		}
		if box.name == "corpus" {
			cmds = append(cmds, sortThreadExtra...)
		}
		for _, cmd := range cmds {
			out = append(out, sortThreadRecord{Kind: "cmd", Mailbox: box.name, Cmd: cmd, Resp: c.mustDo(t, cmd)})
		}
	}
	c.mustDo(t, "LOGOUT")
	if err := dovecottest.WriteOracle(sortThreadOracleFile, out); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d lines for %d mailboxes", len(out), len(boxes))
}

type sortThreadBox struct {
	name string
	msgs []sortThreadMessage
}

// sortThreadMailboxes builds the oracle mailboxes: "corpus" (300 corpus
// messages of every kind), "threads" (the first 300 SpamAssassin ham
// messages, mailing-list threads) and "synth00".."synth59" (random
// synthetic messages that stress threading and the sort keys).
func sortThreadMailboxes(dir string) ([]sortThreadBox, error) {
	var boxes []sortThreadBox
	corpus, err := sortThreadCorpusPick(dir)
	if err != nil {
		return nil, err
	}
	for _, sel := range []struct {
		name  string
		paths []string
	}{{"corpus", corpus}, {"threads", sortThreadHamPick(dir)}} {
		box := sortThreadBox{name: sel.name}
		for i, p := range sel.paths {
			raw, err := os.ReadFile(filepath.Join(dir, p))
			if err != nil {
				return nil, err
			}
			box.msgs = append(box.msgs, sortThreadMessage{path: p, data: appendForm(raw, true), date: sortThreadArrival(i)})
		}
		boxes = append(boxes, box)
	}
	for k := range 60 {
		n := 10 + k%5*15
		boxes = append(boxes, sortThreadBox{name: fmt.Sprintf("synth%02d", k), msgs: synthMessages(uint64(k), n)})
	}
	return boxes, nil
}

// sortThreadArrival is the INTERNALDATE of the i-th message: scattered
// over 97 values so that ARRIVAL differs from UID order and has ties.
func sortThreadArrival(i int) string {
	t := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration((i*37)%97) * time.Hour)
	return t.Format("02-Jan-2006 15:04:05 -0700")
}

// sortThreadCorpusPick takes 300 non-empty corpus messages spread over
// every folder: every 18th line of the manifest.
func sortThreadCorpusPick(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 0; sc.Scan() && len(out) < 300; n++ {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 2 || cols[0] == "path" || cols[1] == "0" {
			continue
		}
		if n%18 == 0 || strings.HasPrefix(cols[0], "torture/") && n%3 == 0 {
			out = append(out, cols[0])
		}
	}
	return out, sc.Err()
}

// sortThreadHamPick is the first 300 messages of easy-ham-1 by name: the
// corpus is in arrival order, so mailing-list threads are close together.
func sortThreadHamPick(dir string) []string {
	names, _ := filepath.Glob(filepath.Join(dir, "spamassassin", "easy-ham-1", "*.eml"))
	var out []string
	for _, n := range names {
		if len(out) == 300 {
			break
		}
		rel, _ := filepath.Rel(dir, n)
		out = append(out, filepath.ToSlash(rel))
	}
	return out
}

// synthMessages makes n random messages from a small pool of message IDs,
// subjects, dates and addresses, so that duplicates, loops, missing
// parents, subject merges and sort ties are frequent.
func synthMessages(seed uint64, n int) []sortThreadMessage {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	id := func() string { return fmt.Sprintf("<m%d.%d@synth.example>", seed, r.IntN(n/2+3)) }
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	var msgs []sortThreadMessage
	for i := range n {
		var h strings.Builder
		if r.IntN(10) > 0 {
			fmt.Fprintf(&h, "Date: %s\r\n", synthDate(r))
		}
		for _, name := range []string{"From", "To", "Cc"} {
			if r.IntN(6) > 0 {
				fmt.Fprintf(&h, "%s: %s\r\n", name, pick(synthAddresses))
			}
		}
		if r.IntN(12) > 0 {
			fmt.Fprintf(&h, "Subject: %s\r\n", synthSubject(r))
		}
		switch r.IntN(12) {
		case 0:
		case 1:
			h.WriteString("Message-ID: <no-at-sign>\r\n")
		default:
			fmt.Fprintf(&h, "Message-ID: %s\r\n", id())
		}
		if r.IntN(2) == 0 {
			var refs []string
			for range 1 + r.IntN(4) {
				refs = append(refs, id())
			}
			if r.IntN(8) == 0 {
				refs = append(refs, "junk")
			}
			fmt.Fprintf(&h, "References: %s\r\n", strings.Join(refs, pick([]string{" ", "\r\n ", ""})))
		}
		if r.IntN(3) == 0 {
			fmt.Fprintf(&h, "In-Reply-To: %s\r\n", pick([]string{id(), id() + " (comment)", "<broken", "Your message of today " + id()}))
		}
		body := strings.Repeat("line of text\r\n", 1+r.IntN(20))
		date := time.Date(2022, 5, 1, r.IntN(6), 0, 0, 0, time.UTC).Format("02-Jan-2006 15:04:05 -0700")
		msgs = append(msgs, sortThreadMessage{data: []byte(h.String() + "\r\n" + body), date: date})
		_ = i
	}
	return msgs
}

var synthAddresses = []string{
	"alice@example.com", "Bob <bob@example.com>", "\"Zed, Z.\" <zed@example.org>",
	"=?UTF-8?Q?=C3=89mile?= <emile@example.fr>", "carol@Example.COM (Carol C)",
	"undisclosed-recipients:;", "<>", "group: dave@example.com, eve@example.com;",
	"\"\" <empty-name@example.com>", "ÅSA <asa@example.se>", "mallory", "bob@example.com, alice@example.com",
	"=?ISO-8859-1?Q?J=F6rg?= <jorg@example.de>", "\"bob\" <Bob@example.com>",
}

var synthBases = []string{"hello world", "Hello World", "meeting", "", "Ünïcödé ß", "[x] y", "fwd", "=?UTF-8?B?w4lt?= z"}

// synthSubject decorates a base subject with RFC 5256 section 2.1 leaders,
// blobs and trailers.
func synthSubject(r *rand.Rand) string {
	s := synthBases[r.IntN(len(synthBases))]
	for range r.IntN(3) {
		switch r.IntN(9) {
		case 0:
			s = "Re: " + s
		case 1:
			s = "RE:" + s
		case 2:
			s = "Fwd: " + s
		case 3:
			s = "[list] " + s
		case 4:
			s = s + " (fwd)"
		case 5:
			s = "[Fwd: " + s + "]"
		case 6:
			s = "Re[2]: " + s
		case 7:
			s = "  fw:\t" + s + "  "
		case 8:
			s = "re: [list] " + s
		}
	}
	return s
}

func synthDate(r *rand.Rand) string {
	switch r.IntN(15) {
	case 0:
		return "not a date"
	case 1:
		return "Sun, 1 May 2022 03:00:00 +0200"
	}
	return time.Date(2022, 4, 30, r.IntN(8), 0, 0, 0, time.UTC).Format(time.RFC1123Z)
}

func sortThreadCorpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ROOST_CORPUS")
	if dir == "" {
		dir = shareddir.Path("corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.tsv")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus missing: %v", err)
		}
		t.Skipf("corpus not found at %s (set ROOST_CORPUS)", dir)
	}
	return dir
}

// oracleConn is a minimal IMAP client for the generator.
type oracleConn struct {
	nc  net.Conn
	br  *bufio.Reader
	seq int
}

func dialDovecot(t *testing.T, addr string) *oracleConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &oracleConn{nc: nc, br: bufio.NewReaderSize(nc, 1<<20)}
	if line, err := c.br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "* OK") {
		t.Fatalf("greeting %q: %v", line, err)
	}
	c.mustDo(t, "LOGIN "+dovecottest.User+" "+dovecottest.Password)
	return c
}

var oracleTiming = regexp.MustCompile(` \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)\.`)

// mustDo sends cmd (one "{n}\r\n" literal allowed) and returns the
// response with the tag replaced by "T" and the timing removed; it fails
// the test unless the answer is OK.
func (c *oracleConn) mustDo(t *testing.T, cmd string) string {
	t.Helper()
	c.seq++
	tag := "A" + strconv.Itoa(c.seq)
	if head, lit, ok := strings.Cut(cmd, "}\r\n"); ok {
		fmt.Fprintf(c.nc, "%s %s}\r\n", tag, head)
		if line, err := c.br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+") {
			t.Fatalf("%s: no continuation: %q %v", head, line, err)
		}
		fmt.Fprintf(c.nc, "%s\r\n", lit)
	} else {
		fmt.Fprintf(c.nc, "%s %s\r\n", tag, cmd)
	}
	var resp strings.Builder
	for {
		line, err := c.br.ReadString('\n')
		if err != nil && err != io.EOF {
			t.Fatalf("%s: %v", cmd, err)
		}
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") {
				t.Fatalf("%.60s: %s", cmd, rest)
			}
			resp.WriteString("T " + oracleTiming.ReplaceAllString(rest, "."))
			return resp.String()
		}
		resp.WriteString(line)
		if err == io.EOF {
			t.Fatalf("%s: connection closed", cmd)
		}
	}
}
