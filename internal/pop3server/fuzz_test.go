package pop3server

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// FuzzCommandLine fuzzes the command parser: splitting and the number
// arguments of LIST/RETR/TOP, which must never panic and must accept only
// digits followed by the right separator.
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{"USER alice", "LIST 1", "TOP 2 10", "RETR 99999999999", "LIST 1 2", "TOP 2",
		"", " ", "AUTH PLAIN =", "uidl  3", "TOP 1 18446744073709551616", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		name, args := splitCommand(line)
		if strings.ToUpper(name) != name || strings.HasPrefix(args, " ") {
			t.Fatalf("split %q -> %q %q", line, name, args)
		}
		for _, space := range []bool{false, true} {
			n, rest, err := parseNumber(args, 32, space, "message number")
			if err != nil {
				continue
			}
			if n > 1<<32-1 || strings.HasPrefix(rest, " ") || !space && rest != "" {
				t.Fatalf("parseNumber(%q, %v) = %d, %q", args, space, n, rest)
			}
		}
	})
}

// FuzzStuffer checks the RETR/TOP encoder: the output has CRLF line ends
// only, no line that is a lone ".", and unstuffs back to the input with
// CRLF line ends.
func FuzzStuffer(f *testing.F) {
	for _, s := range []string{msgDots, msgLong, msgNoEOL, ".\r\n", "\n\n.", "a\r\r\n.b"} {
		f.Add(s, int64(-1))
		f.Add(s, int64(1))
	}
	f.Fuzz(func(t *testing.T, msg string, lines int64) {
		if lines == 0 {
			lines = -1
		}
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		s := stuffer{w: w, lines: lines}
		if err := s.copy(strings.NewReader(msg)); err != nil {
			t.Fatal(err)
		}
		s.finish()
		w.Flush()
		got := out.String()
		if !strings.HasSuffix(got, "\r\n") {
			t.Fatalf("output does not end with CRLF: %q", got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] == '\n' && (i == 0 || got[i-1] != '\r') {
				t.Fatalf("bare LF in %q", got)
			}
		}
		for l := range strings.SplitSeq(strings.TrimSuffix(got, "\r\n"), "\r\n") {
			if l == "." {
				t.Fatalf("lone dot line in %q", got)
			}
		}
		if lines < 0 {
			want := strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n")
			unstuffed := strings.ReplaceAll("\r\n"+got, "\r\n..", "\r\n.")[2:]
			if strings.HasSuffix(want, "\r") || !strings.HasSuffix(want, "\r\n") {
				return // the added final CRLF and stray CRs make the round trip inexact
			}
			if unstuffed != want {
				t.Fatalf("round trip:\n%q\nwant\n%q", unstuffed, want)
			}
		}
	})
}
