package storagetest

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"roost/internal/storage"
	"roost/internal/vfs"
)

// RunFaults runs saves against a filesystem that fails at each point in
// turn: the nth write, fsync, link, rename or file creation of an append
// fails with ENOSPC, EDQUOT or EIO. The append must then fail with the
// matching kind (NOQUOTA for out of space, TEMP or INTERNAL otherwise)
// and leave nothing half-visible, or succeed completely.
// newUser must open a user with an empty store on top of fsys.
func RunFaults(t *testing.T, newUser func(t *testing.T, fsys vfs.FS) storage.User) {
	ops := []vfs.Op{vfs.OpWrite, vfs.OpSync, vfs.OpLink, vfs.OpRename, vfs.OpCreate}
	errs := []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EIO}
	for _, op := range ops {
		for _, e := range errs {
			for nth := 1; nth <= 6; nth++ {
				name := fmt.Sprintf("%s/%s/%d", op, e.Error(), nth)
				op, e, nth := op, e, nth
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					faultCase(t, newUser, op, e, nth)
				})
			}
		}
	}
}

func faultCase(t *testing.T, newUser func(t *testing.T, fsys vfs.FS) storage.User, op vfs.Op, e syscall.Errno, nth int) {
	f := vfs.NewFaulty(vfs.OS{})
	u := newUser(t, f)
	first := appendMsg(t, u, "INBOX", msg1)
	mb := openBox(t, u, "INBOX", false)
	f.FailNth(op, nth, e)
	_, err := u.Append(ctx, "INBOX", storage.AppendMessage{Body: strings.NewReader(msg2), Size: -1, Flags: []string{storage.FlagSeen, "Kw"}})
	f.Reset()
	want := 1
	if err == nil {
		want = 2
	} else if e == syscall.EIO {
		wantKind(t, err, storage.KindTemp, storage.KindInternal)
	} else {
		wantKind(t, err, storage.KindNoQuota)
	}
	ch := syncBox(t, mb)
	if len(mb.Messages()) != want || ch.New != want-1 {
		t.Fatalf("append err=%v: view has %d messages, want %d", err, len(mb.Messages()), want)
	}
	st, serr := u.Status(ctx, "INBOX")
	must(t, serr)
	if st.Messages != want {
		t.Fatalf("append err=%v: status = %+v", err, st)
	}
	uid := appendMsg(t, u, "INBOX", msg2)
	if uid <= first {
		t.Fatalf("UID after failure = %d", uid)
	}
	syncBox(t, mb)
	if got := readAll(t, mb, uid); got != msg2 {
		t.Fatalf("content after recovery = %q", got)
	}
}
