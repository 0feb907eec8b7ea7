package sieve

import (
	"context"
	"strings"
	"testing"
)

func mustCompile(t *testing.T, name, src string) *Program {
	t.Helper()
	p, err := Compile(name, []byte(src), Options{Extensions: append(append([]string(nil), DefaultExtensions...), "editheader")})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMultiscriptFinish: a script's edits and internal flags carry into the
// next; when the sequence ends early (the next script did not compile),
// Finish performs the deferred implicit keep with them.
func TestMultiscriptFinish(t *testing.T) {
	t.Parallel()
	store := NewMemStore()
	env := &Env{Message: ParseMessage([]byte("Subject: x\r\n\r\nbody\r\n")), Envelope: Envelope{From: "a@example.org", To: "b@example.net"}}
	ms := NewMultiscript(env, &Executor{Deliverer: store})
	first := mustCompile(t, "first", "require [\"imap4flags\", \"editheader\"];\naddflag \"\\\\Flagged\";\naddheader \"X-First\" \"1\";\n")
	if res, err := ms.Run(context.Background(), first, false); err != nil || res.Err != nil || ms.Done() {
		t.Fatalf("first: %v %v done=%v", err, res.Err, ms.Done())
	}
	if n := len(store.Messages("INBOX")); n != 0 {
		t.Fatalf("implicit keep performed before the sequence ended: %d", n)
	}
	if err := ms.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := store.Messages("INBOX")
	if len(got) != 1 || !strings.Contains(string(got[0].Data), "X-First: 1") || len(got[0].Flags) != 1 || got[0].Flags[0] != "\\Flagged" {
		t.Errorf("INBOX = %+v", got)
	}
}

// TestMultiscriptStops: a script that cancels the implicit keep ends the
// sequence; later scripts do not run and no implicit keep is performed.
func TestMultiscriptStops(t *testing.T) {
	t.Parallel()
	store := NewMemStore()
	store.Create("Junk")
	env := &Env{Message: ParseMessage([]byte("Subject: x\r\n\r\nbody\r\n"))}
	ms := NewMultiscript(env, &Executor{Deliverer: store})
	if _, err := ms.Run(context.Background(), mustCompile(t, "a", "require \"fileinto\";\nfileinto \"Junk\";\n"), false); err != nil {
		t.Fatal(err)
	}
	if !ms.Done() {
		t.Fatal("not done after fileinto")
	}
	if res, _ := ms.Run(context.Background(), mustCompile(t, "b", "keep;\n"), true); res != nil {
		t.Errorf("script run after the sequence ended")
	}
	if err := ms.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, j := len(store.Messages("INBOX")), len(store.Messages("Junk")); n != 0 || j != 1 {
		t.Errorf("INBOX %d, Junk %d; want 0, 1", n, j)
	}
}
