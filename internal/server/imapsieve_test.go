package server

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"roost/internal/imapserver"
	"roost/internal/logging"
	"roost/internal/maildir"
	"roost/internal/sieve"
	"roost/internal/sievestore"
	"roost/internal/storage"
)

// imapsieveUser opens a Maildir user with INBOX, Junk and Archive.
func imapsieveUser(t *testing.T) storage.User {
	t.Helper()
	dir := t.TempDir()
	drv := maildir.New(maildir.Options{Hostname: "test", Pid: 1})
	nss := []storage.NamespaceConfig{{Name: "inbox", Type: "private", Separator: "/", Inbox: true, List: "yes",
		Subscriptions: true, Location: "maildir:" + dir + ":LAYOUT=fs"}}
	u, err := drv.OpenUser(context.Background(), storage.UserConfig{Username: "alice", Namespaces: nss, UID: -1, GID: -1,
		Fields: imapserver.Fields, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	for _, box := range []string{"Junk"} {
		if err := u.Create(context.Background(), box, nil); err != nil {
			t.Fatal(err)
		}
	}
	return u
}

func newImapsieve(t *testing.T, script string, extra map[string]string) *imapSieve {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.sieve")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	kv := map[string]string{"imapsieve_mailbox1_name": "Junk", "imapsieve_mailbox1_causes": "COPY APPEND FLAG",
		"imapsieve_mailbox1_before": "file:" + path}
	for k, v := range extra {
		kv[k] = v
	}
	cfg, err := sieve.ParseConfig(kv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.GlobalExtensions = append(cfg.GlobalExtensions, "imapsieve")
	return &imapSieve{cfg: cfg, cache: sievestore.NewCache(), log: logging.NewWriter(&strings.Builder{}, false),
		expunge: cfg.ImapsieveExpungeDiscarded()}
}

func appendJunk(t *testing.T, u storage.User, flags ...string) uint32 {
	t.Helper()
	res, err := u.Append(context.Background(), "Junk", storage.AppendMessage{
		Body: strings.NewReader("Subject: x\r\n\r\nbody\r\n"), Size: -1, Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	return res.UID
}

func junkFlags(t *testing.T, u storage.User, uid uint32) ([]string, bool) {
	t.Helper()
	mb, err := u.Open(context.Background(), "Junk", storage.OpenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	for _, m := range mb.Messages() {
		if m.UID == uid {
			return m.Flags, true
		}
	}
	return nil, false
}

func TestImapsieveApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sess := &imapserver.Session{User: "alice"}
	ev := func(uid uint32) imapserver.MailEvent {
		return imapserver.MailEvent{Cause: "APPEND", Mailbox: "Junk", UIDs: []uint32{uid}}
	}

	u := imapsieveUser(t)
	h := newImapsieve(t, `require ["imap4flags", "fileinto", "mailbox", "environment", "imapsieve", "copy"];
if environment "imap.cause" "APPEND" { addflag "$Junk"; fileinto :copy :create "Archive"; }`, nil)
	uid := appendJunk(t, u, `\Seen`)
	h.MailEvent(ctx, sess, u, ev(uid))
	if flags, ok := junkFlags(t, u, uid); !ok || !slices.Contains(flags, "$Junk") || !slices.Contains(flags, `\Seen`) {
		t.Errorf("flags %q, present %v", flags, ok)
	}
	if st, err := u.Status(ctx, "Archive"); err != nil || st.Messages != 1 {
		t.Errorf("Archive: %+v, %v", st, err)
	}

	h = newImapsieve(t, `discard;`, nil)
	uid = appendJunk(t, u)
	h.MailEvent(ctx, sess, u, ev(uid))
	if flags, ok := junkFlags(t, u, uid); !ok || !slices.Contains(flags, `\Deleted`) {
		t.Errorf("discarded: flags %q, present %v; want \\Deleted and kept", flags, ok)
	}
	h = newImapsieve(t, `discard;`, map[string]string{"imapsieve_expunge_discarded": "yes"})
	uid = appendJunk(t, u)
	h.MailEvent(ctx, sess, u, ev(uid))
	if _, ok := junkFlags(t, u, uid); ok {
		t.Error("imapsieve_expunge_discarded: message still there")
	}

	h = newImapsieve(t, `require "fileinto"; fileinto "Nonexistent"; discard;`, nil)
	uid = appendJunk(t, u)
	h.MailEvent(ctx, sess, u, ev(uid))
	if flags, ok := junkFlags(t, u, uid); !ok || slices.Contains(flags, `\Deleted`) {
		t.Errorf("failed fileinto must keep the message untouched: flags %q, present %v", flags, ok)
	}
}

func TestPluginExtensions(t *testing.T) {
	t.Parallel()
	exts := []string{"fileinto", "vnd.dovecot.pipe", "vnd.dovecot.execute"}
	if got := pluginExtensions(exts, []string{"sieve_imapsieve"}); !slices.Equal(got, []string{"fileinto"}) {
		t.Errorf("without sieve_extprograms: %q", got)
	}
	if got := pluginExtensions(exts, []string{"sieve_extprograms"}); !slices.Equal(got, exts) {
		t.Errorf("with sieve_extprograms: %q", got)
	}
}
