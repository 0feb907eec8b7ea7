package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Seed 001's spam training (spec F12): imapsieve runs report-spam.sieve
// when a message is moved or copied into Junk and report-ham.sieve when
// it leaves Junk; both pipe the message (vnd.dovecot.pipe, from
// sieve_extprograms) to a program in sieve_pipe_bin_dir. The programs here
// append what they read to files in the test directory. The same
// configuration runs on Dovecot (Debian's dovecot-sieve ships the
// imap_sieve and sieve_extprograms plugins) and on roost.

const reportSpam = `require ["vnd.dovecot.pipe", "copy", "imapsieve", "environment", "variables"];

if environment :matches "imap.user" "*" {
  set "username" "${1}";
}

pipe :copy "sa-learn-spam.sh" [ "${username}" ];
`

const reportHam = `require ["vnd.dovecot.pipe", "copy", "imapsieve", "environment", "variables"];

if environment :matches "imap.mailbox" "*" {
  set "mailbox" "${1}";
}

if string "${mailbox}" "Trash" {
  stop;
}

if environment :matches "imap.user" "*" {
  set "username" "${1}";
}

pipe :copy "sa-learn-ham.sh" [ "${username}" ];
`

// imapsieveConfig is seed 001's imapsieve block with the paths of dir.
func imapsieveConfig(dir string) string {
	return fmt.Sprintf(`protocol imap {
  mail_plugins = $mail_plugins imap_sieve
}
plugin {
  sieve_plugins = sieve_imapsieve sieve_extprograms
  sieve_global_extensions = +vnd.dovecot.pipe
  imapsieve_mailbox1_name = Junk
  imapsieve_mailbox1_causes = COPY
  imapsieve_mailbox1_before = file:%[1]s/sieve/report-spam.sieve
  imapsieve_mailbox2_name = *
  imapsieve_mailbox2_from = Junk
  imapsieve_mailbox2_causes = COPY
  imapsieve_mailbox2_before = file:%[1]s/sieve/report-ham.sieve
  sieve_pipe_bin_dir = %[1]s/bin
}
`, dir)
}

// writeImapsieveFiles writes the scripts and the training programs; the
// programs append their input to out/<kind> and "$1 $USER $HOME" to
// out/<kind>.args, and their environment to out/<kind>.env.
func writeImapsieveFiles(t *testing.T, e *mailEnv) string {
	t.Helper()
	out := filepath.Join(e.Dir, "out")
	for _, d := range []string{"sieve", "bin", "out"} {
		if err := os.MkdirAll(filepath.Join(e.Dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(out, e.UID, e.GID); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"sieve/report-spam.sieve": reportSpam, "sieve/report-ham.sieve": reportHam}
	for _, kind := range []string{"spam", "ham"} {
		files["bin/sa-learn-"+kind+".sh"] = fmt.Sprintf("#!/bin/sh\necho \"$1 $USER $HOME\" >>%[1]s/%[2]s.args\nenv | sort >%[1]s/%[2]s.env\nexec cat >>%[1]s/%[2]s\n", out, kind)
	}
	for name, data := range files {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(name, "bin/") {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(e.Dir, name), []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	// Dovecot saves compiled scripts (.svbin) beside them as the mail user.
	os.Chown(filepath.Join(e.Dir, "sieve"), e.UID, e.GID)
	return out
}

func readOut(t *testing.T, out, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func TestImapsieveSpamTraining(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex // guards envs
	envs := map[string]string{}
	t.Cleanup(func() {
		if len(envs) == 2 && envs["dovecot"] != envs["roost"] {
			t.Errorf("training programs' environment differs\n--- dovecot\n%s--- roost\n%s", envs["dovecot"], envs["roost"])
		}
	})
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newMailEnv(t)
			e.extra = imapsieveConfig(e.Dir)
			if err := e.write(); err != nil {
				t.Fatal(err)
			}
			out := writeImapsieveFiles(t, e)
			srv := startServer(t, e, kind)
			runSpamTraining(t, srv, out, "alice alice "+e.Home("alice")+"\n")
			mu.Lock()
			defer mu.Unlock()
			envs[kind] = strings.ReplaceAll(readOut(t, out, "spam.env"), e.Dir, "DIR")
		})
	}
}

// runSpamTraining moves a message into Junk and out again; args is what
// each training program must record once.
func runSpamTraining(t *testing.T, srv *server, out, args string) {
	msg := "From: bob@example.com\r\nTo: alice@example.com\r\nSubject: cheap pills\r\nMessage-ID: <spam1@example.com>\r\n\r\nBuy now.\r\n"
	c := dialIMAP(t, srv.Addr(), "alice", "alicepw")
	c.must("CREATE Junk")
	c.mustAppend("INBOX", "", "", msg)
	if got := readOut(t, out, "spam") + readOut(t, out, "ham"); got != "" {
		t.Fatalf("APPEND to INBOX ran a training program: %q", got)
	}

	// INBOX -> Junk: report-spam.
	c.must("SELECT INBOX")
	c.must("UID MOVE 1 Junk")
	if got := readOut(t, out, "spam"); got != msg {
		t.Fatalf("report-spam program got %q, want the message %q", got, msg)
	}
	if got := readOut(t, out, "spam.args"); got != args {
		t.Errorf("report-spam program args/USER/HOME = %q, want %q", got, args)
	}
	if got := readOut(t, out, "ham"); got != "" {
		t.Errorf("moving into Junk ran report-ham: %q", got)
	}

	// Junk -> INBOX by COPY: report-ham; the message stays in Junk too.
	c.must("SELECT Junk")
	c.must("UID COPY 1 INBOX")
	if got := readOut(t, out, "ham"); got != msg {
		t.Fatalf("report-ham program got %q, want the message", got)
	}
	// Junk -> Trash: report-ham stops for Trash.
	c.must("UID MOVE 1 Trash")
	if got := readOut(t, out, "ham.args"); got != args {
		t.Errorf("report-ham ran %q, want once for INBOX only", got)
	}
	if got := readOut(t, out, "spam"); got != msg {
		t.Errorf("report-spam ran again: %q", got)
	}

	// Every message is still where IMAP put it: pipe :copy keeps it.
	for box, want := range map[string]uint32{"INBOX": 1, "Junk": 0, "Trash": 1} {
		st := c.status(box, "MESSAGES")
		if st["MESSAGES"] != want {
			t.Errorf("%s has %d messages, want %d", box, st["MESSAGES"], want)
		}
	}
	c.logout()
}

// imapsieveActions is an imapsieve script whose actions depend on the
// subject: flags, a copy elsewhere, discard.
const imapsieveActions = `require ["imap4flags", "fileinto", "copy", "environment", "imapsieve", "variables", "editheader", "vnd.dovecot.pipe"];

if header :contains "subject" "flagme" {
  addflag "$Reported";
}
if header :contains "subject" "archive" {
  fileinto :copy "Archive";
}
if header :contains "subject" "drop" {
  discard;
}
if header :contains "subject" "edit" {
  addheader "X-Edited" "yes";
}
if header :contains "subject" "pipe-ok" {
  pipe "ok";
}
if header :contains "subject" "pipe-fail" {
  pipe "fail";
}
if environment :matches "imap.cause" "*" {
  addflag "cause-${1}";
}
if environment :matches "imap.changedflags" "*\\Seen*" {
  addflag "chg-seen";
}
if environment :matches "imap.changedflags" "*\\Flagged*" {
  addflag "chg-flagged";
}
if environment :is "imap.changedflags" "\\Flagged" {
  addflag "chg-only-flagged";
}
if environment :matches "imap.changedflags" "*$Reported*" {
  addflag "chg-reported";
}
`

// TestImapsieveActionsDifferential runs one imapsieve script on APPEND,
// COPY, MOVE and STORE into or in Junk on Dovecot and roost and compares the flags and
// mailbox contents it leaves.
func TestImapsieveActionsDifferential(t *testing.T) {
	t.Parallel()
	got := map[string]string{}
	for _, kind := range serverKinds {
		e := newMailEnv(t)
		e.extra = fmt.Sprintf(`protocol imap {
  mail_plugins = $mail_plugins imap_sieve
}
plugin {
  sieve_plugins = sieve_imapsieve sieve_extprograms
  sieve_global_extensions = +editheader +vnd.dovecot.pipe
  sieve_pipe_bin_dir = %[1]s/bin
  imapsieve_mailbox1_name = Junk
  imapsieve_mailbox1_causes = APPEND COPY FLAG
  imapsieve_mailbox1_before = file:%[1]s/sieve/actions.sieve
}
`, e.Dir)
		if err := e.write(); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(e.Dir, "sieve")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		os.Chown(dir, e.UID, e.GID)
		if err := os.WriteFile(filepath.Join(dir, "actions.sieve"), []byte(imapsieveActions), 0o644); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(e.Dir, "bin")
		os.MkdirAll(bin, 0o755)
		for name, code := range map[string]int{"ok": 0, "fail": 1} {
			prog := fmt.Sprintf("#!/bin/sh\ncat >/dev/null\nexit %d\n", code)
			if err := os.WriteFile(filepath.Join(bin, name), []byte(prog), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		srv := startServer(t, e, kind)
		c := dialIMAP(t, srv.Addr(), "alice", "alicepw")
		c.must("CREATE Junk")
		c.must("CREATE Archive")
		for _, subj := range []string{"plain", "flagme", "archive", "drop", "edit", "pipe-ok", "pipe-fail"} {
			c.mustAppend("Junk", `\Seen`, "", "Subject: "+subj+"\r\n\r\nbody\r\n")
		}
		c.mustAppend("INBOX", "", "", "Subject: copied flagme\r\n\r\nbody\r\n")
		c.mustAppend("INBOX", "", "", "Subject: moved\r\n\r\nbody\r\n")
		c.must("SELECT INBOX")
		c.must("COPY 1 Junk")
		c.must("MOVE 2 Junk")
		c.must("SELECT Junk")
		c.must("UID STORE 1 +FLAGS (\\Seen \\Flagged)") // already \Seen: only \Flagged changed
		c.must("UID STORE 2 -FLAGS (\\Seen $Reported \\Draft)")
		c.must("CLOSE")
		var b strings.Builder
		for _, box := range []string{"Junk", "Archive", "INBOX"} {
			for _, m := range c.snapshot(box).Msgs {
				fmt.Fprintf(&b, "%s %d %s [%s]\n", box, m.UID, m.Subject, m.Flags)
			}
		}
		c.must("EXAMINE Junk")
		for _, l := range c.must("UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (X-EDITED)])").untagged {
			fmt.Fprintf(&b, "%s\n", l)
		}
		c.logout()
		got[kind] = b.String()
	}
	if got["dovecot"] != got["roost"] {
		t.Errorf("imapsieve outcome differs\n--- dovecot\n%s--- roost\n%s", got["dovecot"], got["roost"])
	}
	t.Logf("outcome:\n%s", got["roost"])
}

// TestImapsieveMailboxScriptDifferential sets imapsieve_url: the
// IMAPSIEVE capability is advertised and a mailbox's (else the server's)
// /shared/imapsieve/script METADATA entry names a script of the user's
// Sieve storage, run between the rule's before and after scripts for
// every cause (RFC 6785 section 2.2).
func TestImapsieveMailboxScriptDifferential(t *testing.T) {
	t.Parallel()
	got := map[string]string{}
	for _, kind := range serverKinds {
		e := newMailEnv(t)
		e.extra = fmt.Sprintf(`protocol imap {
  mail_plugins = $mail_plugins imap_sieve
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
  sieve_plugins = sieve_imapsieve
  imapsieve_url = sieve://localhost:4190
  imapsieve_mailbox1_name = Junk
  imapsieve_mailbox1_causes = APPEND
  imapsieve_mailbox1_before = file:%[1]s/sieve/before.sieve
  imapsieve_mailbox1_after = file:%[1]s/sieve/after.sieve
}
`, e.Dir)
		if err := e.write(); err != nil {
			t.Fatal(err)
		}
		files := map[string]string{
			"sieve/before.sieve": `require "imap4flags"; addflag "before";`,
			"sieve/after.sieve":  `require "imap4flags"; addflag "after";`,
			"home/alice/sieve/mine.sieve": `require ["imap4flags", "environment", "variables", "imapsieve"];
if environment :matches "imap.cause" "*" { addflag "user-${1}"; }`,
		}
		for name, data := range files {
			p := filepath.Join(e.Dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range []string{"sieve", "home/alice", "home/alice/sieve", "home/alice/sieve/mine.sieve"} {
			os.Chown(filepath.Join(e.Dir, d), e.UID, e.GID)
		}
		srv := startServer(t, e, kind)
		c := dialIMAP(t, srv.Addr(), "alice", "alicepw")
		var b strings.Builder
		caps := c.must("CAPABILITY").untagged
		fmt.Fprintf(&b, "IMAPSIEVE advertised: %v\n", len(caps) == 1 && strings.HasSuffix(caps[0], " IMAPSIEVE=sieve://localhost:4190") ||
			strings.Contains(caps[0], " IMAPSIEVE=sieve://localhost:4190 "))
		c.must("CREATE Junk")
		c.must(`SETMETADATA Junk (/shared/imapsieve/script "mine")`)
		c.must(`SETMETADATA "" (/shared/imapsieve/script "mine")`) // every other mailbox
		c.mustAppend("Junk", `\Seen`, "", "Subject: a\r\n\r\nbody\r\n")
		c.mustAppend("INBOX", `\Seen`, "", "Subject: b\r\n\r\nbody\r\n")
		c.must("SELECT INBOX")
		c.must("COPY 1 Junk")
		c.must("SELECT Junk")
		c.must(`STORE 1 +FLAGS (\Flagged)`)
		c.must("CLOSE")
		for _, box := range []string{"Junk", "INBOX"} {
			for _, m := range c.snapshot(box).Msgs {
				fmt.Fprintf(&b, "%s %d %s [%s]\n", box, m.UID, m.Subject, m.Flags)
			}
		}
		c.logout()
		got[kind] = b.String()
	}
	if got["dovecot"] != got["roost"] {
		t.Errorf("imapsieve outcome differs\n--- dovecot\n%s--- roost\n%s", got["dovecot"], got["roost"])
	}
	t.Logf("outcome:\n%s", got["roost"])
}
