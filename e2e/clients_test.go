package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const clientTimeout = 2 * time.Minute

// forEachServer runs f as a parallel subtest against a fresh Dovecot and a fresh roost, so each
// client script is validated against the oracle too.
func forEachServer(t *testing.T, f func(t testing.TB, env *mailEnv, srv *server)) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) {
				env := newMailEnv(t)
				srv := startServer(t, env, kind)
				f(t, env, srv)
			}
			if kind == "roost" {
				roostCase(t, body)
				return
			}
			body(t)
		})
	}
}

// runClient runs a client program with a bounded time and returns its combined output.
func runClient(t testing.TB, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = env
	}
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		err = fmt.Errorf("%s timed out after %v: %w", name, clientTimeout, err)
	}
	return string(out), err
}

// TestClientPythonImaplib runs testdata/clients/imaplib_session.py, a full session with
// assertions on every answer.
func TestClientPythonImaplib(t *testing.T) {
	t.Parallel()
	py := need(t, "python3")
	forEachServer(t, func(t testing.TB, env *mailEnv, srv *server) {
		out, err := runClient(t, nil, py, "testdata/clients/imaplib_session.py",
			"127.0.0.1", fmt.Sprint(env.Port), "alice", "alicepw")
		if err != nil || !strings.Contains(out, "imaplib: ok") {
			t.Fatalf("imaplib session against %s failed: %v\n%s", srv.kind, err, out)
		}
	})
}

// TestClientMbsync syncs a Maildir two ways with isync's mbsync: server mail, flags and folders
// reach the local Maildir; local flag changes, deletions and a new folder reach the server; and
// server-side changes come back.
func TestClientMbsync(t *testing.T) {
	t.Parallel()
	mbsync := need(t, "mbsync")
	forEachServer(t, func(t testing.TB, env *mailEnv, srv *server) {
		local := t.TempDir()
		if err := os.MkdirAll(filepath.Join(local, "mail"), 0o700); err != nil {
			t.Fatal(err)
		}
		rc := writeMbsyncrc(t, local, env.Port)
		sync := func(round string) {
			t.Helper()
			out, err := runClient(t, []string{"HOME=" + local, "PATH=/usr/bin:/bin"}, mbsync, "-V", "-c", rc, "-a")
			if err != nil {
				t.Fatalf("mbsync %s against %s: %v\n%s", round, srv.kind, err, out)
			}
		}
		c := dialIMAP(t, srv.Addr(), "alice", "alicepw")
		c.mustAppend("INBOX", `\Seen`, "", testMsg("mb one", "1"))
		c.mustAppend("INBOX", "", "", testMsg("mb two", "2"))
		c.mustAppend("INBOX", "", "", testMsg("mb three", "3"))
		c.must("CREATE Work")
		c.mustAppend("Work", `\Flagged`, "", testMsg("mb work", "w"))

		sync("1 (initial pull)")
		box := localMaildir{t: t, root: local}
		box.expect("INBOX", map[string]string{"mb one": "S", "mb two": "", "mb three": ""})
		box.expect("Work", map[string]string{"mb work": "F"})

		box.setFlags("INBOX", "mb two", "FS")
		box.remove("INBOX", "mb three")
		box.add("Archive", "mb archived")
		sync("2 (push local changes)")
		c.must("NOOP")
		if got := c.must("SELECT INBOX"); !contains(got.untagged, "* 2 EXISTS") {
			t.Errorf("%s: after the local deletion INBOX should hold 2 messages: %q", srv.kind, got.untagged)
		}
		if got := searchSubjects(c, "FLAGGED SEEN"); got != "mb two" {
			t.Errorf("%s: SEARCH FLAGGED SEEN = %q, want the message flagged locally", srv.kind, got)
		}
		if st := c.status("Archive", "MESSAGES"); st["MESSAGES"] != 1 {
			t.Errorf("%s: folder created locally: STATUS Archive = %v, want 1 message", srv.kind, st)
		}

		c.must(`STORE 1 +FLAGS (\Flagged)`)
		c.must(`STORE 2 +FLAGS (\Deleted)`)
		c.must("EXPUNGE")
		c.mustAppend("INBOX", `\Answered`, "", testMsg("mb four", "4"))
		c.must("CREATE Projects")
		c.mustAppend("Projects", "", "", testMsg("mb project", "p"))
		sync("3 (pull server changes)")
		box.expect("INBOX", map[string]string{"mb one": "FS", "mb four": "R"})
		box.expect("Projects", map[string]string{"mb project": ""})
		box.expect("Archive", map[string]string{"mb archived": ""})
		c.logout()
	})
}

func writeMbsyncrc(t testing.TB, local string, port int) string {
	t.Helper()
	rc := fmt.Sprintf(`IMAPAccount srv
Host 127.0.0.1
Port %d
User alice
Pass alicepw
SSLType None
AuthMechs LOGIN

IMAPStore srv-remote
Account srv

MaildirStore srv-local
Path %[2]s/mail/
Inbox %[2]s/mail/INBOX
SubFolders Verbatim

Channel srv
Far :srv-remote:
Near :srv-local:
Patterns *
Create Both
Remove Both
Expunge Both
SyncState *
`, port, local)
	path := filepath.Join(local, "mbsyncrc")
	if err := os.WriteFile(path, []byte(rc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// localMaildir inspects and edits mbsync's local Maildir.
type localMaildir struct {
	t    testing.TB
	root string
}

func (m localMaildir) dir(box string) string { return filepath.Join(m.root, "mail", box) }

// files maps Subject -> path for the messages of a local folder.
func (m localMaildir) files(box string) map[string]string {
	m.t.Helper()
	out := map[string]string{}
	for _, sub := range []string{"cur", "new"} {
		entries, _ := os.ReadDir(filepath.Join(m.dir(box), sub))
		for _, e := range entries {
			p := filepath.Join(m.dir(box), sub, e.Name())
			data, err := os.ReadFile(p)
			if err != nil {
				m.t.Fatal(err)
			}
			out[headerValue(string(data), "Subject")] = p
		}
	}
	return out
}

// expect checks a local folder holds exactly the given subjects with the given Maildir flags.
func (m localMaildir) expect(box string, want map[string]string) {
	m.t.Helper()
	got := map[string]string{}
	for subj, p := range m.files(box) {
		_, flags, _ := strings.Cut(filepath.Base(p), ":2,")
		got[subj] = strings.ReplaceAll(flags, "T", "")
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		m.t.Errorf("local folder %s: got subject->flags %v, want %v", box, got, want)
	}
}

func (m localMaildir) setFlags(box, subject, flags string) {
	m.t.Helper()
	p, ok := m.files(box)[subject]
	if !ok {
		m.t.Fatalf("no local message %q in %s", subject, box)
	}
	base, _, _ := strings.Cut(filepath.Base(p), ":2,")
	if err := os.Rename(p, filepath.Join(m.dir(box), "cur", base+":2,"+flags)); err != nil {
		m.t.Fatal(err)
	}
}

func (m localMaildir) remove(box, subject string) {
	m.t.Helper()
	p, ok := m.files(box)[subject]
	if !ok {
		m.t.Fatalf("no local message %q in %s", subject, box)
	}
	if err := os.Remove(p); err != nil {
		m.t.Fatal(err)
	}
}

func (m localMaildir) add(box, subject string) {
	m.t.Helper()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(m.dir(box), sub), 0o700); err != nil {
			m.t.Fatal(err)
		}
	}
	p := filepath.Join(m.dir(box), "new", "1600000000.e2e.localhost")
	if err := os.WriteFile(p, []byte(testMsg(subject, "local")), 0o600); err != nil {
		m.t.Fatal(err)
	}
}

func headerValue(msg, name string) string {
	for _, line := range strings.Split(strings.ReplaceAll(msg, "\r\n", "\n"), "\n") {
		if line == "" {
			break
		}
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

// searchSubjects runs SEARCH in the selected mailbox and returns the matches' subjects.
func searchSubjects(c *imapClient, criteria string) string {
	r := c.must("SEARCH %s", criteria)
	var seqs []string
	for _, l := range r.untagged {
		if strings.HasPrefix(l, "* SEARCH") {
			seqs = strings.Fields(strings.TrimPrefix(l, "* SEARCH"))
		}
	}
	var subjects []string
	for _, s := range seqs {
		f := c.must("FETCH %s BODY.PEEK[HEADER.FIELDS (SUBJECT)]", s)
		for _, l := range f.untagged {
			if st := parseFetch(l); st.Subject != "" {
				subjects = append(subjects, st.Subject)
			}
		}
	}
	return strings.Join(subjects, ",")
}

// TestClientCurl drives curl's IMAP support: LIST, SEARCH, FETCH by UID and section, a custom
// STATUS command and APPEND by upload.
func TestClientCurl(t *testing.T) {
	t.Parallel()
	curl := need(t, "curl")
	forEachServer(t, func(t testing.TB, env *mailEnv, srv *server) {
		c := dialIMAP(t, srv.Addr(), "alice", "alicepw")
		msg1, msg2 := testMsg("curl one", "first"), testMsg("curl two", "second")
		c.mustAppend("INBOX", `\Seen`, "", msg1)
		c.mustAppend("INBOX", "", "", msg2)
		c.must("CREATE Work")
		c.logout()

		base := fmt.Sprintf("imap://127.0.0.1:%d", env.Port)
		run := func(args ...string) string {
			t.Helper()
			out, err := runClient(t, nil, curl, append([]string{"-sS", "--user", "alice:alicepw"}, args...)...)
			if err != nil {
				t.Fatalf("curl %q against %s: %v\n%s", args, srv.kind, err, out)
			}
			return out
		}
		list := run(base + "/")
		for _, box := range []string{"INBOX", "Work", "Sent", "Trash"} {
			if !strings.Contains(list, ` "/" `+box+"\r\n") && !strings.Contains(list, ` "/" "`+box+"\"\r\n") {
				t.Errorf("%s: curl LIST lacks %s:\n%s", srv.kind, box, list)
			}
		}
		if got := run(base + "/INBOX?ALL"); got != "* SEARCH 1 2\r\n" {
			t.Errorf("%s: curl SEARCH ALL = %q", srv.kind, got)
		}
		if got := run(base + "/INBOX?UNSEEN"); got != "* SEARCH 2\r\n" {
			t.Errorf("%s: curl SEARCH UNSEEN = %q", srv.kind, got)
		}
		if got := run(base + "/INBOX;UID=2"); got != crlf(msg2) {
			t.Errorf("%s: curl FETCH UID 2 = %q, want %q", srv.kind, got, crlf(msg2))
		}
		if got := run(base + "/INBOX;UID=1;SECTION=HEADER.FIELDS%20(SUBJECT)"); got != "Subject: curl one\r\n\r\n" {
			t.Errorf("%s: curl FETCH header field = %q", srv.kind, got)
		}
		// The FETCH of UID 2 above set \Seen.
		if got := run(base+"/INBOX", "-X", "STATUS INBOX (MESSAGES UIDNEXT UNSEEN)"); got != "* STATUS INBOX (MESSAGES 2 UIDNEXT 3 UNSEEN 0)\r\n" {
			t.Errorf("%s: curl STATUS = %q", srv.kind, got)
		}
		upload := filepath.Join(t.TempDir(), "msg.eml")
		if err := os.WriteFile(upload, []byte(crlf(testMsg("curl upload", "up"))), 0o600); err != nil {
			t.Fatal(err)
		}
		run("-T", upload, base+"/Work")
		if got := run(base + "/Work;UID=1;SECTION=HEADER.FIELDS%20(SUBJECT)"); got != "Subject: curl upload\r\n\r\n" {
			t.Errorf("%s: message uploaded with curl -T: %q", srv.kind, got)
		}
	})
}
