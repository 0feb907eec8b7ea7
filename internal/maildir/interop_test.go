package maildir_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"roost/internal/maildir"
	"roost/internal/storage"
)

// dovecot runs Debian's Dovecot 2.3 doveadm against a mail store in a
// temporary home. Dovecot refuses mail access as root, so under root the
// store is handed to "nobody" before each doveadm run.
type dovecot struct {
	t    *testing.T
	home string
	conf string
	root bool
}

const doveadmPath = "/usr/bin/doveadm"
const nobody = 65534

func newDovecot(t *testing.T, location string) *dovecot {
	t.Helper()
	if _, err := os.Stat(doveadmPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("doveadm not installed (%v) and CI=true", err)
		}
		t.Skip("doveadm not installed")
	}
	base := t.TempDir()
	// nobody must be able to reach the home
	for d := base; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dv := &dovecot{t: t, home: filepath.Join(base, "home"), conf: filepath.Join(base, "dovecot.conf"), root: os.Geteuid() == 0}
	for _, d := range []string{dv.home, filepath.Join(base, "run"), filepath.Join(base, "state")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	uid, gid := os.Getuid(), os.Getgid()
	if dv.root {
		uid, gid = nobody, nobody
	}
	conf := fmt.Sprintf(`mail_location = %s
ssl = no
first_valid_uid = 0
first_valid_gid = 0
mail_uid = %d
mail_gid = %d
log_path = %s/log
base_dir = %s/run
state_dir = %s/state
namespace inbox {
  inbox = yes
  separator = /
  prefix =
}
userdb {
  driver = static
  args = uid=%d gid=%d home=%s
}
passdb {
  driver = static
  args = nopassword=y
}
`, location, uid, gid, base, base, base, uid, gid, dv.home)
	if err := os.WriteFile(dv.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return dv
}

// run runs doveadm with args and returns its stdout.
func (dv *dovecot) run(stdin string, args ...string) string {
	dv.t.Helper()
	var cmd *exec.Cmd
	full := append([]string{"-c", dv.conf}, args...)
	if dv.root {
		dv.chown()
		cmd = exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", doveadmPath}, full...)...)
	} else {
		cmd = exec.Command(doveadmPath, full...)
	}
	cmd.Env = []string{"HOME=" + dv.home, "USER=alice", "PATH=/usr/bin:/bin:/usr/sbin:/sbin"}
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		dv.t.Fatalf("doveadm %q: %v\n%s", args, err, errb.String())
	}
	if errb.Len() > 0 {
		dv.t.Logf("doveadm %q stderr: %s", args, errb.String())
	}
	return out.String()
}

func (dv *dovecot) chown() {
	err := filepath.WalkDir(dv.home, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, nobody, nobody)
	})
	if err != nil {
		dv.t.Fatal(err)
	}
}

// fetched is one message as doveadm fetch reports it.
type fetched struct {
	uid   uint32
	flags []string
	vsize int64
}

func (dv *dovecot) fetch(mailbox string) []fetched {
	dv.t.Helper()
	out := dv.run("", "-f", "tab", "fetch", "uid flags size.virtual", "mailbox", mailbox, "all")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	var res []fetched
	for _, l := range lines[1:] { // first line: field names
		if l == "" {
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) < 3 {
			dv.t.Fatalf("bad fetch line %q", l)
		}
		uid, _ := strconv.ParseUint(f[0], 10, 32)
		vs, _ := strconv.ParseInt(f[2], 10, 64)
		res = append(res, fetched{uid: uint32(uid), flags: normFlags(strings.Fields(f[1])), vsize: vs})
	}
	return res
}

func normFlags(f []string) []string {
	out := []string{}
	for _, x := range f {
		if x != `\Recent` {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}

func (dv *dovecot) status(mailbox string) map[string]string {
	dv.t.Helper()
	out := dv.run("", "-f", "tab", "mailbox", "status", "uidvalidity uidnext messages", mailbox)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2 {
		dv.t.Fatalf("status output %q", out)
	}
	keys, vals := strings.Split(lines[0], "\t"), strings.Split(lines[1], "\t")
	m := map[string]string{}
	for i := range keys {
		m[keys[i]] = vals[i]
	}
	return m
}

func (dv *dovecot) lines(args ...string) []string {
	out := strings.Fields(strings.ReplaceAll(dv.run("", args...), "\n", " "))
	sort.Strings(out)
	return out
}

func (dv *dovecot) user(t *testing.T, location string) storage.User {
	t.Helper()
	u, err := maildir.New(maildir.Options{}).OpenUser(context.Background(), storeConfig(dv.home, location, "/", ""))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

const ifMsg = "From: a@example.org\nSubject: interop\n\nHello\nthere\n"

func roostFlags(t *testing.T, u storage.User, name string) (map[uint32][]string, map[uint32]int64, uint32) {
	t.Helper()
	mb, err := u.Open(context.Background(), name, storage.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("roost open %s: %v", name, err)
	}
	defer mb.Close()
	flags, sizes := map[uint32][]string{}, map[uint32]int64{}
	for _, m := range mb.Messages() {
		flags[m.UID] = normFlags(m.Flags)
		sizes[m.UID] = m.Size
	}
	return flags, sizes, mb.Status().UIDValidity
}

func compareBox(t *testing.T, dv *dovecot, u storage.User, name string) {
	t.Helper()
	want := dv.fetch(name)
	t.Logf("%s: Dovecot fetch %+v", name, want)
	flags, sizes, uidv := roostFlags(t, u, name)
	if len(flags) != len(want) {
		t.Fatalf("%s: roost sees %d messages, Dovecot %d", name, len(flags), len(want))
	}
	for _, w := range want {
		got, ok := flags[w.uid]
		if !ok {
			t.Fatalf("%s: roost lacks UID %d", name, w.uid)
		}
		if !slices.Equal(got, w.flags) {
			t.Errorf("%s UID %d: roost flags %q, Dovecot %q", name, w.uid, got, w.flags)
		}
		if sizes[w.uid] != w.vsize {
			t.Errorf("%s UID %d: roost size %d, Dovecot %d", name, w.uid, sizes[w.uid], w.vsize)
		}
	}
	st := dv.status(name)
	if st["uidvalidity"] != strconv.FormatUint(uint64(uidv), 10) {
		t.Errorf("%s: UIDVALIDITY roost %d, Dovecot %s", name, uidv, st["uidvalidity"])
	}
	rst, err := u.Status(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if st["uidnext"] != strconv.FormatUint(uint64(rst.UIDNext), 10) {
		t.Errorf("%s: UIDNEXT roost %d, Dovecot %s", name, rst.UIDNext, st["uidnext"])
	}
}

func interopLocations() []string {
	return []string{"maildir:~/Maildir", "maildir:~/Maildir:LAYOUT=fs"}
}

// TestDovecotWritesRoostReads: a store made by doveadm opens in roost
// with the same UIDs, UIDVALIDITY, flags, keywords, folders and
// subscriptions.
func TestDovecotWritesRoostReads(t *testing.T) {
	t.Parallel()
	for _, loc := range interopLocations() {
		t.Run(loc, func(t *testing.T) {
			t.Parallel()
			dv := newDovecot(t, loc)
			dv.run("", "mailbox", "create", "Sub/Fold", "Entwürfe")
			for i := 0; i < 4; i++ {
				dv.run(ifMsg, "save")
			}
			dv.run(ifMsg, "save", "-m", "Sub/Fold")
			dv.run(ifMsg, "save", "-m", "Entwürfe")
			dv.run("", "flags", "add", `\Seen $Label1 Junk`, "mailbox", "INBOX", "uid", "1")
			dv.run("", "flags", "add", `\Flagged \Answered \Draft`, "mailbox", "INBOX", "uid", "2")
			dv.run("", "flags", "add", `\Deleted`, "mailbox", "INBOX", "uid", "3")
			dv.run("", "expunge", "mailbox", "INBOX", "uid", "3")
			dv.run("", "mailbox", "subscribe", "Sub/Fold", "Entwürfe", "INBOX")

			u := dv.user(t, loc)
			for _, name := range []string{"INBOX", "Sub/Fold", "Entwürfe"} {
				compareBox(t, dv, u, name)
			}
			l, err := u.List(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, mi := range l {
				names = append(names, mi.Name)
			}
			sort.Strings(names)
			if want := dv.lines("mailbox", "list"); !slices.Equal(names, want) {
				t.Errorf("List: roost %q, Dovecot %q", names, want)
			}
			subs, err := u.Subscriptions(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(subs)
			if want := dv.lines("mailbox", "list", "-s"); !slices.Equal(subs, want) {
				t.Errorf("subscriptions: roost %q, Dovecot %q", subs, want)
			}
			// roost appends after Dovecot: UIDs continue, Dovecot sees it
			res, err := u.Append(context.Background(), "INBOX", storage.AppendMessage{Body: strings.NewReader(ifMsg), Size: -1, Flags: []string{"Junk"}})
			if err != nil {
				t.Fatal(err)
			}
			if res.UID != 5 {
				t.Errorf("roost append after Dovecot got UID %d, want 5", res.UID)
			}
			compareBox(t, dv, u, "INBOX")
		})
	}
}

// TestRoostWritesDovecotReads: a store made by roost opens in Dovecot
// with the same UIDs, UIDVALIDITY, flags, keywords, folders and
// subscriptions.
func TestRoostWritesDovecotReads(t *testing.T) {
	t.Parallel()
	for _, loc := range interopLocations() {
		t.Run(loc, func(t *testing.T) {
			t.Parallel()
			dv := newDovecot(t, loc)
			u := dv.user(t, loc)
			ctx := context.Background()
			for _, n := range []string{"Work/Projects", "Entwürfe"} {
				if err := u.Create(ctx, n, nil); err != nil {
					t.Fatal(err)
				}
			}
			flagsets := [][]string{{storage.FlagSeen, "Junk"}, nil, {storage.FlagFlagged, "$Label2", "Junk"}, {storage.FlagAnswered, storage.FlagDraft}}
			for _, f := range flagsets {
				if _, err := u.Append(ctx, "INBOX", storage.AppendMessage{Body: strings.NewReader(strings.ReplaceAll(ifMsg, "\n", "\r\n")), Size: -1, Flags: f}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := u.Append(ctx, "Work/Projects", storage.AppendMessage{Body: strings.NewReader(ifMsg), Size: -1}); err != nil {
				t.Fatal(err)
			}
			mb, err := u.Open(ctx, "INBOX", storage.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := mb.Expunge(ctx, []uint32{2}); err != nil {
				t.Fatal(err)
			}
			if _, err := mb.Store(ctx, []uint32{4}, storage.FlagsAdd, []string{"Urgent"}, storage.StoreOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := mb.Copy(ctx, []uint32{1, 3}, "Entwürfe", false); err != nil {
				t.Fatal(err)
			}
			mb.Close()
			for _, n := range []string{"INBOX", "Work/Projects", "Entwürfe"} {
				if err := u.SetSubscribed(ctx, n, true); err != nil {
					t.Fatal(err)
				}
			}
			for _, name := range []string{"INBOX", "Work/Projects", "Entwürfe"} {
				compareBox(t, dv, u, name)
			}
			want := []string{"Entwürfe", "INBOX", "Work", "Work/Projects"}
			if got := dv.lines("mailbox", "list"); !slices.Equal(got, want) {
				t.Errorf("Dovecot mailbox list = %q, want %q", got, want)
			}
			if got := dv.lines("mailbox", "list", "-s"); !slices.Equal(got, []string{"Entwürfe", "INBOX", "Work/Projects"}) {
				t.Errorf("Dovecot subscriptions = %q", got)
			}
			// Dovecot appends and changes flags; roost's open view sees both.
			mb, err = u.Open(ctx, "INBOX", storage.OpenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer mb.Close()
			dv.run(ifMsg, "save")
			dv.run("", "flags", "add", `\Seen`, "mailbox", "INBOX", "uid", "3")
			ch, err := mb.Sync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ch.New != 1 || mb.Messages()[len(mb.Messages())-1].UID != 5 {
				t.Errorf("after Dovecot save: %+v, uids %v", ch, mb.Messages())
			}
			if len(ch.Updated) != 1 || ch.Updated[0].UID != 3 {
				t.Errorf("after Dovecot flag change: updated %+v", ch.Updated)
			}
			compareBox(t, dv, u, "INBOX")
			// rename with children and delete, as Dovecot sees them
			if err := u.Rename(ctx, "Work", "Jobs"); err != nil {
				t.Fatal(err)
			}
			if err := u.Delete(ctx, "Entwürfe"); err != nil {
				t.Fatal(err)
			}
			got := dv.lines("mailbox", "list")
			if !slices.Contains(got, "Jobs/Projects") || slices.Contains(got, "Work/Projects") || slices.Contains(got, "Entwürfe") {
				t.Errorf("Dovecot list after rename/delete = %q", got)
			}
			// RENAME leaves subscriptions alone, as Dovecot's IMAP RENAME.
			if got := dv.lines("mailbox", "list", "-s"); !slices.Contains(got, "Work/Projects") || slices.Contains(got, "Jobs/Projects") {
				t.Errorf("Dovecot subscriptions after rename = %q", got)
			}
			compareBox(t, dv, u, "Jobs/Projects")
		})
	}
}
