package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ldaSieveConf turns on Sieve for the LDA, with outgoing mail to a sendmail_path sink and
// vnd.dovecot.debug enabled.
func ldaSieveConf(sink string) string {
	return "postmaster_address = postmaster@example.net\nsendmail_path = " + sink + "\n" +
		"protocol lda {\n  mail_plugins = $mail_plugins sieve\n}\n" +
		"plugin {\n  sieve = file:~/sieve;active=~/.dovecot.sieve\n  sieve_extensions = +vnd.dovecot.debug\n}\n" +
		"service auth {\n  unix_listener auth-userdb {\n    mode = 0666\n  }\n}\n"
}

// forEachSieveKind runs body against Dovecot+Pigeonhole and roost.
func forEachSieveKind(t *testing.T, body func(t testing.TB, kind string)) {
	t.Helper()
	need(t, "dovecot")
	forEachKind(t, body)
}

// TestLDASieveReject: a Sieve reject at LDA delivery sends the rejection (from <> to the
// sender: Dovecot's rejection with a message/disposition-notification part) and exits 0, with
// -e too: dovecot-lda's -e concerns its own permanent failures, not a script's reject.
// Nothing is stored; the log has Pigeonhole's "reject action" line.
func TestLDASieveReject(t *testing.T) {
	t.Parallel()
	forEachSieveKind(t, func(t testing.TB, kind string) {
		base := newLMTPEnv(t)
		sink, sent := sinkScript(t, base.Dir)
		env := newLMTPEnv(t, withConfig(ldaSieveConf(sink)))
		env.activateScript(t, "bob", "main", "require \"reject\";\nreject \"I do not want this.\nReally.\";\n")
		startServer(t, env.mailEnv, kind)
		msg := "From: s@example.org\nSubject: hello\nMessage-ID: <rej@example.org>\n\nbody\n"
		for i, args := range [][]string{{"-e"}, nil} {
			code, out := ldaRun(t, env, kind, msg, append([]string{"-d", "bob", "-f", "s@example.org"}, args...)...)
			if n := len(sentMessages(t, sent)); code != 0 || n != i+1 {
				t.Errorf("%s %v: exit %d (%q), %d rejections sent, want 0 and %d", kind, args, code, out, n, i+1)
			}
		}
		msgs := sentMessages(t, sent)
		if len(msgs) == 0 {
			t.Fatalf("%s: no rejection sent", kind)
		}
		for _, want := range []string{"ARGS: -i -f <> -- s@example.org\n", "From: Postmaster <postmaster@example.net>\r\n",
			"To: <s@example.org>\r\n", "Subject: Rejected: hello\r\n", "Auto-Submitted: auto-replied (rejected)\r\n",
			"report-type=disposition-notification;",
			"Your message to <bob@mail.example.net> was automatically rejected:\r\nI do not want this.\r\nReally.\r\n--",
			"Content-Type: message/disposition-notification\r\n\r\nReporting-UA: mail.example.net; Dovecot Mail Delivery Agent\r\n" +
				"Final-Recipient: rfc822; bob@mail.example.net\r\nOriginal-Message-ID: <rej@example.org>\r\n" +
				"Disposition: automatic-action/MDN-sent-automatically; deleted\r\n\r\n--",
			"Content-Type: message/rfc822\r\n\r\nFrom: s@example.org\nSubject: hello\nMessage-ID: <rej@example.org>\n\n\r\n\r\n--"} {
			if !strings.Contains(msgs[0], want) {
				t.Errorf("%s: rejection lacks %q:\n%s", kind, want, msgs[0])
			}
		}
		if n := len(env.stored(t, "bob", "")); n != 0 {
			t.Errorf("%s: %d rejected messages stored", kind, n)
		}
		b, _ := os.ReadFile(env.LogPath())
		if want := "sieve: msgid=<rej@example.org>: reject action: rejected message from <s@example.org> (reject)"; !strings.Contains(string(b), want) {
			t.Errorf("%s: log lacks %q:\n%s", kind, want, b)
		}
	})
}

// TestLDASieveDebugLog: debug_log messages (vnd.dovecot.debug) and run-time errors of the
// personal script go to the user's ~/.dovecot.sieve.log as Pigeonhole writes them.
func TestLDASieveDebugLog(t *testing.T) {
	t.Parallel()
	forEachSieveKind(t, func(t testing.TB, kind string) {
		base := newLMTPEnv(t)
		sink, _ := sinkScript(t, base.Dir)
		env := newLMTPEnv(t, withConfig(ldaSieveConf(sink)))
		env.activateScript(t, "bob", "main", "require [\"vnd.dovecot.debug\", \"variables\", \"regex\"];\n"+
			"debug_log \"hello ${1} world\";\nset \"r\" \"[\";\nif header :regex \"subject\" \"${r}\" { discard; }\n")
		startServer(t, env.mailEnv, kind)
		msg := "From: s@example.org\nSubject: hello\nMessage-ID: <dbg@example.org>\n\nbody\n"
		if code, out := ldaRun(t, env, kind, msg, "-d", "bob", "-f", "s@example.org"); code != 0 {
			t.Fatalf("%s: exit %d %q", kind, code, out)
		}
		if n := len(env.stored(t, "bob", "")); n != 1 {
			t.Errorf("%s: %d messages in INBOX, want 1", kind, n)
		}
		b, err := os.ReadFile(filepath.Join(env.Home("bob"), ".dovecot.sieve.log"))
		for _, want := range []string{"\ninfo: DEBUG: hello  world.\n", "\nerror: invalid regular expression '[' for regex match: "} {
			if err != nil || !strings.Contains(string(b), want) {
				t.Errorf("%s: ~/.dovecot.sieve.log lacks %q: %q %v", kind, want, b, err)
			}
		}
	})
}

// TestSieveMultiscriptLMTP: at LMTP delivery a sieve_before script's edits (editheader) and
// internal imap4flags carry into the personal script, and a sieve_before script that cancels
// the implicit keep ends the chain (the personal script does not run). Its debug_log goes to
// the main log.
func TestSieveMultiscriptLMTP(t *testing.T) {
	t.Parallel()
	forEachSieveKind(t, func(t testing.TB, kind string) {
		sink := newSMTPSink(t)
		base := newLMTPEnv(t)
		before := filepath.Join(base.Dir, "before.sieve")
		if err := os.WriteFile(before, []byte("require [\"editheader\", \"imap4flags\", \"fileinto\", \"vnd.dovecot.debug\"];\n"+
			"debug_log \"before ran\";\n"+
			"if header :contains \"subject\" \"stop\" { fileinto \"Stopped\"; stop; }\n"+
			"addheader \"X-Before\" \"yes\";\naddflag \"\\\\Flagged\";\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chmod(base.Dir, 0o755)
		env := newLMTPEnv(t, withSieve(sink.Addr, freePort(t)),
			withConfig("plugin {\n  sieve_before = "+before+"\n  sieve_global_extensions = +vnd.dovecot.debug +editheader\n}\n"))
		env.makeFolder(t, "alice", "Marked")
		env.makeFolder(t, "alice", "Stopped")
		env.activateScript(t, "alice", "main", "require \"fileinto\";\n"+
			"if header :is \"X-Before\" \"yes\" { fileinto \"Marked\"; }\n"+
			"if header :contains \"subject\" \"stop\" { fileinto \"Marked\"; }\n")
		startServer(t, env.mailEnv, kind)
		lmtpDeliver(t, env, "go on")
		lmtpDeliver(t, env, "please stop")
		marked := env.stored(t, "alice", "Marked")
		if len(marked) != 1 || !strings.Contains(marked[0], "X-Before: yes") || !strings.Contains(marked[0], "Subject: go on") {
			t.Errorf("%s: Marked holds %q, want the first message with X-Before", kind, marked)
		}
		if got := env.flagsOf("alice", "Marked"); len(got) != 1 || got[0] != "F" {
			t.Errorf("%s: Marked flags %q, want [F] (the before script's internal flags)", kind, got)
		}
		if got := env.stored(t, "alice", "Stopped"); len(got) != 1 || strings.Contains(got[0], "X-Before") {
			t.Errorf("%s: Stopped holds %q, want the second message unedited", kind, got)
		}
		if n := len(env.stored(t, "alice", "")); n != 0 {
			t.Errorf("%s: %d messages in INBOX, want 0", kind, n)
		}
		b, _ := os.ReadFile(env.LogPath())
		if want := "Info: sieve: DEBUG: before ran\n"; strings.Count(string(b), want) != 2 {
			t.Errorf("%s: log lacks two %q:\n%s", kind, want, b)
		}
	})
}

// TestLDASieveActionLog: the mail log lines of Sieve actions at LDA delivery are Pigeonhole's
// ("sieve: msgid=<...>: redirect action: forwarded to <...>", ...), and a vacation reply goes out
// for a message to the user's address although the LDA was given a bare user name (-d bob: the
// recipient is bob@hostname, as in dovecot-lda).
func TestLDASieveActionLog(t *testing.T) {
	t.Parallel()
	forEachSieveKind(t, func(t testing.TB, kind string) {
		base := newLMTPEnv(t)
		sink, _ := sinkScript(t, base.Dir)
		env := newLMTPEnv(t, withConfig(ldaSieveConf(sink)))
		env.makeFolder(t, "bob", "Lists")
		startServer(t, env.mailEnv, kind)
		var got []string
		for _, sc := range []string{"keep;\n", "require \"fileinto\";\nfileinto \"Lists\";\n", "discard;\n",
			"redirect \"x@example.com\";\n", "require \"vacation\";\nvacation \"away\";\n"} {
			env.activateScript(t, "bob", "main", sc)
			msg := "From: s@example.org\nTo: bob@mail.example.net\nSubject: hello\nMessage-ID: <p@example.org>\n\nbody\n"
			if code, out := ldaRun(t, env, kind, msg, "-d", "bob", "-f", "s@example.org"); code != 0 {
				t.Fatalf("%s %q: exit %d %q", kind, sc, code, out)
			}
		}
		b, _ := os.ReadFile(env.LogPath())
		for _, l := range strings.Split(string(b), "\n") {
			if _, rest, ok := strings.Cut(l, "Info: sieve: msgid=<p@example.org>: "); ok {
				got = append(got, rest)
			}
		}
		want := []string{"stored mail into mailbox 'INBOX'", "fileinto action: stored mail into mailbox 'Lists'",
			"discard action: Marked message to be discarded if not explicitly delivered (discard action)",
			"redirect action: forwarded to <x@example.com>", "vacation action: sent vacation response to <s@example.org>",
			"stored mail into mailbox 'INBOX'"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: sieve log lines\n%s\nwant\n%s", kind, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestSieveRejectLMTP: at LMTP a Sieve reject is accepted (250) and reported to the sender with
// the same rejection as at the LDA, through submission_host.
func TestSieveRejectLMTP(t *testing.T) {
	t.Parallel()
	forEachSieveKind(t, func(t testing.TB, kind string) {
		sink := newSMTPSink(t)
		env := newLMTPEnv(t, withSieve(sink.Addr, freePort(t)))
		env.activateScript(t, "alice", "main", "require \"reject\";\nreject \"no thanks\";\n")
		startServer(t, env.mailEnv, kind)
		lmtpDeliver(t, env, "unwanted")
		sent := sink.messages()
		if len(sent) != 1 {
			t.Fatalf("%s: %d messages sent, want 1", kind, len(sent))
		}
		for _, want := range []string{"MAIL FROM:<>\n", "RCPT TO:<bob@example.org>\n", "Subject: Rejected: unwanted\r\n",
			"report-type=disposition-notification;", "Your message to <alice@example.net> was automatically rejected:\r\nno thanks\r\n",
			"Final-Recipient: rfc822; alice@example.net\r\nOriginal-Message-ID: <unwanted@example.org>\r\n"} {
			if !strings.Contains(sent[0], want) {
				t.Errorf("%s: rejection lacks %q:\n%s", kind, want, sent[0])
			}
		}
		if n := len(env.stored(t, "alice", "")); n != 0 {
			t.Errorf("%s: %d rejected messages stored", kind, n)
		}
	})
}

// TestLDASieveEnvironment: vnd.dovecot.environment at LDA delivery (enabled through
// sieve_extensions): the user name, the default mailbox (-m) and vnd.dovecot.config items from
// sieve_env_NAME settings, read through the env variable namespace.
func TestLDASieveEnvironment(t *testing.T) {
	t.Parallel()
	forEachSieveKind(t, func(t testing.TB, kind string) {
		base := newLMTPEnv(t)
		sink, _ := sinkScript(t, base.Dir)
		env := newLMTPEnv(t, withConfig(ldaSieveConf(sink)+
			"plugin {\n  sieve_extensions = +vnd.dovecot.debug +vnd.dovecot.environment\n  sieve_env_team = blue\n}\n"))
		env.makeFolder(t, "bob", "Lists")
		env.activateScript(t, "bob", "main", "require [\"vnd.dovecot.environment\", \"variables\", \"vnd.dovecot.debug\"];\n"+
			"debug_log \"user=${env.vnd.dovecot.username} box=${env.vnd.dovecot.default_mailbox} team=${env.vnd.dovecot.config.team}\";\n")
		startServer(t, env.mailEnv, kind)
		msg := "From: s@example.org\nSubject: hello\nMessage-ID: <e@example.org>\n\nbody\n"
		if code, out := ldaRun(t, env, kind, msg, "-d", "bob", "-f", "s@example.org", "-m", "Lists"); code != 0 {
			t.Fatalf("%s: exit %d %q", kind, code, out)
		}
		b, err := os.ReadFile(filepath.Join(env.Home("bob"), ".dovecot.sieve.log"))
		if want := "info: DEBUG: user=bob box=Lists team=blue.\n"; err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s: ~/.dovecot.sieve.log lacks %q: %q %v", kind, want, b, err)
		}
		if n := len(env.stored(t, "bob", "Lists")); n != 1 {
			t.Errorf("%s: Lists holds %d messages, want 1", kind, n)
		}
	})
}

// TestLDASieveReport: vnd.dovecot.report at LDA delivery sends an RFC 5965 abuse report from
// <> to the given address, laid out as Pigeonhole's, and logs Pigeonhole's line.
func TestLDASieveReport(t *testing.T) {
	t.Parallel()
	forEachSieveKind(t, func(t testing.TB, kind string) {
		base := newLMTPEnv(t)
		sink, sent := sinkScript(t, base.Dir)
		env := newLMTPEnv(t, withConfig(ldaSieveConf(sink)+"plugin {\n  sieve_extensions = +vnd.dovecot.report\n}\n"))
		env.activateScript(t, "bob", "main", "require \"vnd.dovecot.report\";\nreport \"abuse\" \"This is spam.\" \"abuse@example.com\";\n")
		startServer(t, env.mailEnv, kind)
		msg := "From: s@example.org\nSubject: cheap\nMessage-ID: <rep@example.org>\n\nbuy\n"
		if code, out := ldaRun(t, env, kind, msg, "-d", "bob", "-f", "s@example.org"); code != 0 {
			t.Fatalf("%s: exit %d %q", kind, code, out)
		}
		msgs := sentMessages(t, sent)
		if len(msgs) != 1 {
			t.Fatalf("%s: %d messages sent, want 1", kind, len(msgs))
		}
		for _, want := range []string{"ARGS: -i -f <> -- abuse@example.com\n", "From: Postmaster <postmaster@example.net>\r\n",
			"To: <abuse@example.com>\r\n", "Subject: Report: cheap\r\n", "Auto-Submitted: auto-generated (report)\r\n",
			"report-type=feedback-report;", "\r\n\r\nThis is spam.\r\n", "Content-Type: message/feedback-report\r\n\r\nVersion: 1\r\nFeedback-Type: abuse\r\n",
			"Original-Mail-From: <s@example.org>\r\n", "Original-Rcpt-To: <bob@mail.example.net>\r\nDovecot-Reporting-User: <bob@mail.example.net>\r\n",
			"Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\nContent-Disposition: inline\r\n",
			"Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\nFrom: s@example.org\n", "buy\n\r\n\r\n--"} {
			if !strings.Contains(msgs[0], want) {
				t.Errorf("%s: report lacks %q", kind, want)
			}
		}
		b, _ := os.ReadFile(env.LogPath())
		if want := "sieve: msgid=<rep@example.org>: report action: sent `abuse' report to <abuse@example.com>"; !strings.Contains(string(b), want) {
			t.Errorf("%s: log lacks %q", kind, want)
		}
	})
}

// TestLDASieveEreject: with sieve_extensions = +ereject, dovecot-lda -e refuses the message of
// an ereject: the reason on stderr, exit 77 (EX_NOPERM), nothing sent or stored (RFC 5429
// section 2.1); without -e the ereject is a reject (a rejection to the sender, exit 0). roost
// only: Debian's Pigeonhole 0.5.19 has no ereject ("ignored unknown extension").
func TestLDASieveEreject(t *testing.T) {
	t.Parallel()
	roostCase(t, func(t testing.TB) {
		base := newLMTPEnv(t)
		sink, sent := sinkScript(t, base.Dir)
		env := newLMTPEnv(t, withConfig(ldaSieveConf(sink)+"plugin {\n  sieve_extensions = +ereject\n}\n"))
		env.activateScript(t, "bob", "main", "require \"ereject\";\nereject \"Not wanted here.\";\n")
		startServer(t, env.mailEnv, "roost")
		msg := "From: s@example.org\nSubject: hello\nMessage-ID: <er@example.org>\n\nbody\n"
		code, out := ldaRun(t, env, "roost", msg, "-d", "bob", "-f", "s@example.org", "-e")
		if code != 77 || !strings.Contains(out, "Not wanted here.") || len(sentMessages(t, sent)) != 0 {
			t.Errorf("-e: exit %d, %q, %d sent; want 77, the reason, 0", code, out, len(sentMessages(t, sent)))
		}
		code, out = ldaRun(t, env, "roost", msg, "-d", "bob", "-f", "s@example.org")
		if msgs := sentMessages(t, sent); code != 0 || len(msgs) != 1 || !strings.Contains(msgs[0], "Not wanted here.") {
			t.Errorf("without -e: exit %d %q, %d sent; want 0 and one rejection", code, out, len(msgs))
		}
		if n := len(env.stored(t, "bob", "")); n != 0 {
			t.Errorf("%d messages stored", n)
		}
	})
}

// TestLDASieveFailureLog: a personal script that does not compile or fails at run time keeps the
// message; the details go to ~/.dovecot.sieve.log and the mail log has Pigeonhole's pointer to it.
func TestLDASieveFailureLog(t *testing.T) {
	t.Parallel()
	forEachSieveKind(t, func(t testing.TB, kind string) {
		base := newLMTPEnv(t)
		sink, _ := sinkScript(t, base.Dir)
		env := newLMTPEnv(t, withConfig(ldaSieveConf(sink)+"plugin {\n  sieve_max_redirects = 1\n}\n"))
		startServer(t, env.mailEnv, kind)
		msg := "From: s@example.org\nSubject: hello\nMessage-ID: <f@example.org>\n\nbody\n"
		for _, sc := range []string{"require \"fileinto\";\nfileinto \"x\"\nkeep;\n",
			"redirect \"a@example.com\";\nredirect \"b@example.com\";\n"} {
			env.activateScript(t, "bob", "main", sc)
			if code, out := ldaRun(t, env, kind, msg, "-d", "bob", "-f", "s@example.org"); code != 0 {
				t.Fatalf("%s: exit %d %q", kind, code, out)
			}
		}
		if n := len(env.stored(t, "bob", "")); n != 2 {
			t.Errorf("%s: INBOX holds %d messages, want 2", kind, n)
		}
		home := env.Home("bob")
		b, _ := os.ReadFile(env.LogPath())
		for _, want := range []string{
			"Info: sieve: Failed to compile script `" + home + "/.dovecot.sieve' (view user logfile `" + home + "/.dovecot.sieve.log' for more information)\n",
			"Info: sieve: Execution of script " + home + "/.dovecot.sieve failed, but implicit keep was successful (user logfile " + home + "/.dovecot.sieve.log may reveal additional details)\n"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s: log lacks %q", kind, want)
			}
		}
		ul, _ := os.ReadFile(filepath.Join(home, ".dovecot.sieve.log"))
		for _, want := range []string{"main: line 2: error:", "number of redirect actions exceeds policy limit"} {
			if !strings.Contains(string(ul), want) {
				t.Errorf("%s: ~/.dovecot.sieve.log lacks %q:\n%s", kind, want, ul)
			}
		}
	})
}
