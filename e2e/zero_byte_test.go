package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Zero-byte messages: Dovecot's IMAP refuses to APPEND them ("Can't save a zero byte
// message"), but its LDA stores an empty input as an empty file (S=0,W=0) and exits 0, and its
// LMTP never has zero bytes to store (Return-Path and the other trace headers come first).

// zeroByteFiles returns the sizes of alice's INBOX files.
func zeroByteFiles(t testing.TB, e *mailEnv) []int64 {
	t.Helper()
	var sizes []int64
	for _, sub := range []string{"new", "cur"} {
		ents, _ := os.ReadDir(filepath.Join(e.Maildir("alice"), sub))
		for _, ent := range ents {
			fi, err := os.Stat(filepath.Join(e.Maildir("alice"), sub, ent.Name()))
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, fi.Size())
		}
	}
	return sizes
}

// TestLMTPZeroByte: an empty DATA and a BDAT 0 LAST are stored as the trace headers alone, by
// both servers.
func TestLMTPZeroByte(t *testing.T) {
	t.Parallel()
	forEachLMTPServer(t, func(t testing.TB, env *lmtpEnv, kind string) {
		c := dialLMTP(t, "tcp", fmt.Sprintf("127.0.0.1:%d", env.LMTPPort))
		c.send("LHLO x\r\nMAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.net>\r\nDATA\r\n", 4)
		c.send(".\r\n", 1)
		c.send("MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.net>\r\nBDAT 0 LAST\r\n", 3)
		tr := strings.Join(c.tr, "\n")
		if strings.Count(tr, "S: 250 2.0.0 <alice@example.net>") != 2 {
			t.Fatalf("%s: %s", kind, tr)
		}
		for _, m := range env.stored(t, "alice", "") {
			if stripTrace(m) != "" || !strings.HasPrefix(m, "Return-Path: <s@example.org>\n") {
				t.Errorf("%s: stored %q, want the trace headers alone", kind, m)
			}
		}
	})
}

// TestLDAZeroByte: the LDA given an empty message stores an empty file and exits 0, as
// dovecot-lda does.
func TestLDAZeroByte(t *testing.T) {
	t.Parallel()
	need(t, "dovecot")
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) {
				env := newLMTPEnv(t, withConfig("service auth {\n  unix_listener auth-userdb {\n    mode = 0666\n  }\n}"))
				startServer(t, env.mailEnv, kind)
				code, out := ldaRun(t, env, kind, "", "-d", "alice", "-f", "s@example.org")
				sizes := zeroByteFiles(t, env.mailEnv)
				if code != 0 || len(sizes) != 1 || sizes[0] != 0 {
					t.Errorf("%s: empty message: exit %d %q, files %v; want exit 0 and one empty file", kind, code, out, sizes)
				}
			}
			if kind == "roost" {
				roostCase(t, body)
				return
			}
			body(t)
		})
	}
}
