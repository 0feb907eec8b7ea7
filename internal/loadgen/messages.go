package loadgen

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// SyntheticMessages returns n CRLF messages of about size bytes with
// distinct subjects, dates and senders, from seed.
func SyntheticMessages(seed uint64, n, size int) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 0x6d736773))
	out := make([][]byte, n)
	for i := range out {
		out[i] = syntheticMessage(rng, i, size, "")
	}
	return out
}

// words fill synthetic bodies and subjects.
var words = strings.Fields("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu")

func syntheticMessage(rng *rand.Rand, i, size int, subject string) []byte {
	var b bytes.Buffer
	date := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(5*365*24*3600)) * time.Second)
	if subject == "" {
		subject = words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))] + " " + strconv.Itoa(i)
	}
	fmt.Fprintf(&b, "Return-Path: <sender%d@example.org>\r\n", rng.IntN(1000))
	fmt.Fprintf(&b, "From: Sender %d <sender%d@example.org>\r\n", i%97, i%97)
	fmt.Fprintf(&b, "To: Recipient <rcpt@example.com>\r\n")
	fmt.Fprintf(&b, "Subject: %s\r\n", subject)
	fmt.Fprintf(&b, "Date: %s\r\n", date.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%d.%d@loadgen.example>\r\n", i, rng.Uint32())
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	line := 0
	for b.Len() < size {
		b.WriteString(words[rng.IntN(len(words))])
		line++
		if line%12 == 0 {
			b.WriteString("\r\n")
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// LoadCorpus reads up to limit messages of between minSize and maxSize
// bytes listed in dir/manifest.tsv (the layout of ../shared/corpus), in
// manifest order, stripping an mbox "From " line and converting to CRLF.
func LoadCorpus(dir string, minSize, maxSize, limit int) ([][]byte, error) {
	f, err := os.Open(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		return nil, fmt.Errorf("open corpus manifest: %w", err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() && len(out) < limit {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) < 2 {
			continue
		}
		size, err := strconv.Atoi(fields[1])
		if err != nil || size < minSize || size > maxSize {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, fields[0]))
		if err != nil {
			return nil, fmt.Errorf("read corpus message: %w", err)
		}
		out = append(out, toCRLF(stripFromLine(raw)))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read corpus manifest: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no corpus message of %d..%d bytes in %s", minSize, maxSize, dir)
	}
	return out, nil
}

func stripFromLine(m []byte) []byte {
	if bytes.HasPrefix(m, []byte("From ")) {
		if i := bytes.IndexByte(m, '\n'); i >= 0 {
			return m[i+1:]
		}
	}
	return m
}

// toCRLF normalises line ends to CRLF and ends the message with one.
func toCRLF(m []byte) []byte {
	lf := bytes.ReplaceAll(m, []byte("\r\n"), []byte("\n"))
	if len(lf) == 0 || lf[len(lf)-1] != '\n' {
		lf = append(lf, '\n')
	}
	return bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
}

// toLF is the on-disk form Dovecot writes (mail_save_crlf = no).
func toLF(m []byte) []byte { return bytes.ReplaceAll(m, []byte("\r\n"), []byte("\n")) }

// MaildirFiller writes messages straight into a Maildir's cur/ with
// Dovecot's file names (S= and W= sizes), so each server indexes the
// same store itself on first access.
type MaildirFiller struct {
	Root     string // the Maildir (holding cur/ new/ tmp/)
	UID, GID int    // owner, or -1
	seq      int
}

// Fill writes count messages taken round robin from msgs, flagged
// \Seen when seen is set.
func (m *MaildirFiller) Fill(msgs [][]byte, count int, seen bool) error {
	for _, d := range []string{"cur", "new", "tmp"} {
		p := filepath.Join(m.Root, d)
		if err := os.MkdirAll(p, 0o700); err != nil {
			return fmt.Errorf("create maildir: %w", err)
		}
		m.chown(p)
	}
	m.chown(m.Root)
	flags := ""
	if seen {
		flags = "S"
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i := range count {
		m.seq++
		lf := toLF(msgs[i%len(msgs)])
		vsize := len(lf) + bytes.Count(lf, []byte("\n"))
		name := fmt.Sprintf("%d.M%dP%d.loadgen,S=%d,W=%d:2,%s", base+int64(m.seq), m.seq, os.Getpid(), len(lf), vsize, flags)
		p := filepath.Join(m.Root, "cur", name)
		if err := os.WriteFile(p, lf, 0o600); err != nil {
			return fmt.Errorf("write message: %w", err)
		}
		m.chown(p)
		t := time.Unix(base+int64(m.seq), 0)
		os.Chtimes(p, t, t)
	}
	return nil
}

func (m *MaildirFiller) chown(p string) {
	if m.UID >= 0 {
		os.Lchown(p, m.UID, m.GID)
	}
}

// BigboxMessages returns n small messages for the bigbox mailbox; every
// hundredth has the subject needle.
func BigboxMessages(seed uint64, n int, needle string) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 0x626967))
	out := make([][]byte, n)
	for i := range out {
		subj := ""
		if i%100 == 7 {
			subj = "about the " + needle + " " + strconv.Itoa(i)
		}
		out[i] = syntheticMessage(rng, i, 600, subj)
	}
	return out
}
