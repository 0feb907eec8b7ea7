package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// LMTP and LDA limits and refusals: STARTTLS, lmtp_user_concurrency_limit, quota_max_mail_size,
// and the LDA's rejection through sendmail_path (without -e) or exit 77 (with -e).

// TestLMTPStartTLS: swaks --tls upgrades an LMTP session with STARTTLS and delivers, against
// both servers.
func TestLMTPStartTLS(t *testing.T) {
	t.Parallel()
	swaks := need(t, "swaks")
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) {
				env := newLMTPEnv(t, withTLS())
				startServer(t, env.mailEnv, kind)
				out, err := runClient(t, nil, swaks, "--protocol", "LMTP", "--server", "127.0.0.1",
					"--port", fmt.Sprint(env.LMTPPort), "--tls", "--tls-verify", "--tls-ca-path", env.certPath(),
					"--from", "s@example.org", "--to", "alice@example.net", "--header", "Subject: over tls")
				if err != nil {
					t.Fatalf("%s: swaks --tls: %v\n%s", kind, err, out)
				}
				for _, want := range []string{"<-  220 2.0.0 Begin TLS negotiation now.", "~> LHLO", "<~  250 2.0.0 <alice@example.net>"} {
					if !strings.Contains(out, want) {
						t.Errorf("%s: swaks transcript lacks %q:\n%s", kind, want, out)
					}
				}
				got := env.stored(t, "alice", "")
				if len(got) != 1 || headerValue(got[0], "Subject") != "over tls" {
					t.Errorf("%s: alice has %q", kind, got)
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

// TestLMTPUserConcurrencyLimit runs two interleaved sessions with lmtp_user_concurrency_limit
// = 1 against both servers: a user with a delivery in flight is refused at RCPT with 451 4.3.0
// (also a second address of the same user in the same transaction), and gets in again once
// that delivery ended.
func TestLMTPUserConcurrencyLimit(t *testing.T) {
	t.Parallel()
	results := map[string]string{}
	var mu sync.Mutex // guards results
	t.Cleanup(func() {
		if d, r := results["dovecot"], results["roost"]; d != "" && r != "" && d != r {
			t.Errorf("transcripts differ: -dovecot +roost\n%s", lineDiff(d, r))
		}
	})
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) {
				env := newLMTPEnv(t, withConfig("lmtp_user_concurrency_limit = 1"))
				startServer(t, env.mailEnv, kind)
				addr := fmt.Sprintf("127.0.0.1:%d", env.LMTPPort)
				a, b := dialLMTP(t, "tcp", addr), dialLMTP(t, "tcp", addr)
				a.send("LHLO a\r\n", 1)
				b.send("LHLO b\r\n", 1)
				a.send("MAIL FROM:<s@example.org>\r\n", 1)
				a.send("RCPT TO:<bob@example.net>\r\n", 1)
				a.send("RCPT TO:<bob+x@example.net>\r\n", 1)
				a.send("RCPT TO:<alice@example.net>\r\n", 1)
				b.send("MAIL FROM:<s@example.org>\r\n", 1)
				b.send("RCPT TO:<bob@example.net>\r\n", 1)
				b.send("RCPT TO:<alice@example.net>\r\n", 1)
				a.send("DATA\r\n", 1)
				a.send("Subject: first\r\n\r\nx\r\n.\r\n", 2)
				b.send("RCPT TO:<bob@example.net>\r\n", 1)
				b.send("DATA\r\n", 1)
				b.send("Subject: second\r\n\r\nx\r\n.\r\n", 1)
				b.send("QUIT\r\n", 1)
				a.send("QUIT\r\n", 1)
				tr := "--- a\n" + strings.Join(a.tr, "\n") + "\n--- b\n" + strings.Join(b.tr, "\n") + "\n"
				if !strings.Contains(tr, "S: 451 4.3.0 <bob@example.net> Too many concurrent deliveries for user") {
					t.Errorf("%s: no concurrency refusal:\n%s", kind, tr)
				}
				if n := len(env.stored(t, "bob", "")); n != 2 {
					t.Errorf("%s: bob has %d messages, want 2", kind, n)
				}
				mu.Lock()
				results[kind] = tr
				mu.Unlock()
			}
			if kind == "roost" {
				roostCase(t, body)
				return
			}
			body(t)
		})
	}
}

// quotaPluginConf loads the quota plugin with quota_max_mail_size (roost's size limit) and,
// for Dovecot, a tiny quota_rule, so that either server refuses a 2 KB message for bob.
func quotaPluginConf(kind, sink string) string {
	conf := "mail_plugins = $mail_plugins quota\npostmaster_address = postmaster@example.net\n" +
		"sendmail_path = " + sink + "\nplugin {\n  quota = maildir:User quota\n"
	if kind == "dovecot" {
		// Dovecot answers quota_max_mail_size with a temporary failure; its permanent
		// refusal (and rejection) is over quota.
		conf += "  quota_rule = *:storage=1k\n"
	} else {
		conf += "  quota_max_mail_size = 1k\n"
	}
	return conf + "}\n"
}

// sinkScript writes a sendmail_path stand-in that stores its arguments and input.
func sinkScript(t testing.TB, dir string) (script, out string) {
	t.Helper()
	out = filepath.Join(dir, "sent")
	if err := os.MkdirAll(out, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(out, 0o777)
	script = filepath.Join(dir, "sendmail-sink")
	body := "#!/bin/sh\n{ echo \"ARGS: $*\"; cat; } > " + out + "/$$.eml\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, out
}

func sentMessages(t testing.TB, dir string) []string {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

// ldaRun runs kind's dovecot-lda (roost through a link of that name) as the mail user.
func ldaRun(t testing.TB, env *lmtpEnv, kind string, input string, args ...string) (int, string) {
	t.Helper()
	bin := "/usr/lib/dovecot/dovecot-lda"
	if kind == "roost" {
		bin = filepath.Join(env.Dir, "dovecot-lda")
		if _, err := os.Lstat(bin); err != nil {
			if err := os.Symlink(needRoost(t), bin); err != nil {
				t.Fatal(err)
			}
		}
	}
	cmd := exec.Command(bin, append([]string{"-c", env.Conf}, args...)...)
	cmd.Stdin = strings.NewReader(input)
	cmd.Dir = env.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(env.UID), Gid: uint32(env.GID)}}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	} else if err != nil {
		t.Fatalf("run %s: %v", bin, err)
	}
	return 0, string(out)
}

var bigMsg = "From: s@example.org\nSubject: too big\nMessage-ID: <big@example.org>\n\n" + strings.Repeat("0123456789abcdef\n", 120)

// TestLDARejection: a permanent refusal (Dovecot: over quota; roost: over quota_max_mail_size,
// as roost has no quota yet) makes the LDA send a rejection from <> to the sender through
// sendmail_path and exit 0 without -e, or exit 77 with the reason on stderr and send nothing
// with -e; nothing is stored either way. No rejection goes to a null sender or for an
// Auto-Submitted message, and a sendmail_path that fails is a temporary failure (75).
func TestLDARejection(t *testing.T) {
	t.Parallel()
	need(t, "dovecot")
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) {
				base := newLMTPEnv(t)
				sink, sent := sinkScript(t, base.Dir)
				env := newLMTPEnv(t, withConfig("service auth {\n  unix_listener auth-userdb {\n    mode = 0666\n  }\n}\n"+
					quotaPluginConf(kind, sink)))
				startServer(t, env.mailEnv, kind)
				code, out := ldaRun(t, env, kind, bigMsg, "-d", "bob", "-f", "s@example.org", "-e")
				if code != 77 || strings.TrimSpace(out) == "" || len(sentMessages(t, sent)) != 0 {
					t.Errorf("%s -e: exit %d, %q, %d sent", kind, code, out, len(sentMessages(t, sent)))
				}
				code, out = ldaRun(t, env, kind, bigMsg, "-d", "bob", "-f", "s@example.org")
				msgs := sentMessages(t, sent)
				if code != 0 || len(msgs) != 1 {
					t.Fatalf("%s without -e: exit %d %q, %d sent", kind, code, out, len(msgs))
				}
				for _, want := range []string{"ARGS: -i -f <> -- s@example.org\n", "From: Postmaster <postmaster@example.net>\r\n",
					"To: <s@example.org>\r\n", "Subject: Rejected: too big\r\n", "Auto-Submitted: auto-replied (rejected)\r\n",
					"report-type=delivery-status", "Your message to <bob@mail.example.net> was automatically rejected:\r\n",
					"Final-Recipient: rfc822; bob@mail.example.net\r\n", "Action: failed\r\n", "Status: 5.2.",
					"Content-Type: message/rfc822\r\n\r\nFrom: s@example.org\nSubject: too big\nMessage-ID: <big@example.org>\n\n\r\n\r\n--"} {
					if !strings.Contains(msgs[0], want) {
						t.Errorf("%s: rejection lacks %q:\n%s", kind, want, msgs[0])
					}
				}
				code, _ = ldaRun(t, env, kind, bigMsg, "-d", "bob")
				code2, _ := ldaRun(t, env, kind, "Auto-Submitted: auto-replied\n"+bigMsg, "-d", "bob", "-f", "s@example.org")
				if code != 0 || code2 != 0 || len(sentMessages(t, sent)) != 1 {
					t.Errorf("%s: null sender exit %d, Auto-Submitted exit %d, %d sent (want 0, 0, 1)", kind, code, code2, len(sentMessages(t, sent)))
				}
				os.WriteFile(sink, []byte("#!/bin/sh\ncat >/dev/null\nexit 1\n"), 0o755)
				if code, out := ldaRun(t, env, kind, bigMsg, "-d", "bob", "-f", "s@example.org"); code != 75 {
					t.Errorf("%s: failing sendmail_path: exit %d %q, want 75", kind, code, out)
				}
				if n := len(env.stored(t, "bob", "")); n != 0 {
					t.Errorf("%s: %d refused messages stored", kind, n)
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

// TestLMTPMaxMailSize: with the quota plugin's quota_max_mail_size roost advertises SIZE,
// refuses a larger MAIL SIZE= and a larger message permanently (552 5.2.3) and stores nothing,
// while a message under the limit is delivered. Dovecot 2.3.19 answers the oversized message
// with 451 4.2.0 (checked here so the deliberate difference stays known).
func TestLMTPMaxMailSize(t *testing.T) {
	t.Parallel()
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) {
				env := newLMTPEnv(t, withConfig("mail_plugins = $mail_plugins quota\nplugin {\n  quota = maildir:User quota\n  quota_max_mail_size = 1k\n}\n"))
				startServer(t, env.mailEnv, kind)
				c := dialLMTP(t, "tcp", fmt.Sprintf("127.0.0.1:%d", env.LMTPPort))
				c.send("LHLO x\r\n", 1)
				big := strings.ReplaceAll(bigMsg, "\n", "\r\n")
				c.send("MAIL FROM:<s@example.org>\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<alice@example.net>\r\nDATA\r\n", 4)
				c.send(big+".\r\n", 2)
				c.send("MAIL FROM:<s@example.org>\r\nRCPT TO:<bob@example.net>\r\nDATA\r\n", 3)
				c.send("Subject: small\r\n\r\nx\r\n.\r\n", 1)
				tr := strings.Join(c.tr, "\n")
				want := "S: 552 5.2.3 <bob@example.net> Mail size is larger than the maximum size allowed by server configuration"
				if kind == "dovecot" {
					want = "S: 451 4.2.0 <bob@example.net> Mail size is larger than the maximum size allowed by server configuration"
				}
				if !strings.Contains(tr, want) || !strings.Contains(tr, "S: 250 2.0.0 <bob@example.net> ID:T2 Saved") {
					t.Errorf("%s: transcript lacks %q:\n%s", kind, want, tr)
				}
				if kind == "roost" {
					raw := dialLMTP(t, "tcp", fmt.Sprintf("127.0.0.1:%d", env.LMTPPort))
					raw.nc.Write([]byte("LHLO x\r\n"))
					lhlo := readRawReply(t, raw)
					raw.send("MAIL FROM:<s@example.org> SIZE=5000\r\n", 1)
					if !strings.Contains(lhlo, "SIZE 1024\r\n") || raw.tr[len(raw.tr)-1] != "S: 552 5.2.3 Message size exceeds administrative limit" {
						t.Errorf("roost: LHLO %q, MAIL SIZE=5000: %q", lhlo, raw.tr)
					}
				}
				if got := env.stored(t, "bob", ""); len(got) != 1 || headerValue(got[0], "Subject") != "small" {
					t.Errorf("%s: bob has %q", kind, got)
				}
				if got := env.stored(t, "alice", ""); len(got) != 0 {
					t.Errorf("%s: alice has %d messages", kind, len(got))
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

// readRawReply reads one multi-line reply without normalising it.
func readRawReply(t testing.TB, c *lmtpConn) string {
	t.Helper()
	var b strings.Builder
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(l)
		if len(l) < 4 || l[3] == ' ' {
			return b.String()
		}
	}
}
