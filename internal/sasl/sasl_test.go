package sasl

import (
	"context"
	"errors"
	"testing"
)

type call struct{ authzid, authcid, password string }

func recorder(calls *[]call, err error) PlainFunc {
	return func(_ context.Context, z, c, p string) error {
		*calls = append(*calls, call{z, c, p})
		return err
	}
}

func TestParsePlain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    call
		wantErr bool
	}{
		{"\x00tim\x00tanstaaftanstaaf", call{"", "tim", "tanstaaftanstaaf"}, false},
		{"Ursel\x00Kurt\x00xipj3plmq", call{"Ursel", "Kurt", "xipj3plmq"}, false},
		{"kurt\x00kurt\x00pw", call{"", "kurt", "pw"}, false},
		{"\x00tim\x00", call{"", "tim", ""}, false},
		{"\x00\x00pw", call{}, true},
		{"tim\x00pw", call{}, true},
		{"a\x00b\x00c\x00d", call{}, true},
		{"\x00\xff\x00pw", call{}, true},
		{"", call{}, true},
	}
	for _, tt := range tests {
		z, c, p, err := ParsePlain([]byte(tt.in))
		if (err != nil) != tt.wantErr || (err == nil && (call{z, c, p}) != tt.want) {
			t.Errorf("ParsePlain(%q) = %q, %q, %q, %v; want %+v err=%v", tt.in, z, c, p, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("ParsePlain(%q) error %v is not ErrMalformed", tt.in, err)
		}
	}
}

func TestPlainExchange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var calls []call
	m := NewPlain(recorder(&calls, nil))
	ch, done, err := m.Next(ctx, nil)
	if err != nil || done || ch == nil || len(ch) != 0 {
		t.Fatalf("first Next = %q, %v, %v; want empty challenge", ch, done, err)
	}
	_, done, err = m.Next(ctx, []byte("\x00u\x00p"))
	if err != nil || !done || len(calls) != 1 || calls[0] != (call{"", "u", "p"}) {
		t.Fatalf("second Next = %v, %v; calls %v", done, err, calls)
	}
	if _, _, err := m.Next(ctx, []byte("x")); !errors.Is(err, ErrUnexpected) {
		t.Fatalf("third Next error = %v", err)
	}

	// Initial response, verifier refuses: its error passes through.
	refuse := errors.New("refused")
	m = NewPlain(recorder(&calls, refuse))
	if _, done, err := m.Next(ctx, []byte("admin\x00u\x00p")); done || !errors.Is(err, refuse) {
		t.Fatalf("Next = %v, %v; want refused", done, err)
	}
	if calls[1] != (call{"admin", "u", "p"}) {
		t.Fatalf("call = %+v", calls[1])
	}
}

func TestLoginExchange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var calls []call
	m := NewLogin(recorder(&calls, nil))
	steps := []struct {
		resp []byte
		ch   string
		done bool
	}{
		{nil, "Username:", false},
		{[]byte("alice"), "Password:", false},
		{[]byte("secret"), "", true},
	}
	for i, s := range steps {
		ch, done, err := m.Next(ctx, s.resp)
		if err != nil || string(ch) != s.ch || done != s.done {
			t.Fatalf("step %d: Next = %q, %v, %v", i, ch, done, err)
		}
	}
	if len(calls) != 1 || calls[0] != (call{"", "alice", "secret"}) {
		t.Fatalf("calls = %v", calls)
	}
	// Initial response carries the user name.
	m = NewLogin(recorder(&calls, nil))
	if ch, _, err := m.Next(ctx, []byte("bob")); err != nil || string(ch) != "Password:" {
		t.Fatalf("Next(initial) = %q, %v", ch, err)
	}
	// Empty user name is malformed.
	m = NewLogin(recorder(&calls, nil))
	m.Next(ctx, nil)
	if _, _, err := m.Next(ctx, []byte{}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("empty user: %v", err)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	if i, ok := Lookup("plain"); !ok || !i.Plaintext || i.Name != Plain {
		t.Errorf("Lookup(plain) = %+v, %v", i, ok)
	}
	if _, ok := Lookup("GSSAPI"); ok {
		t.Error("Lookup(GSSAPI) found")
	}
}

func FuzzParsePlain(f *testing.F) {
	for _, s := range []string{"\x00tim\x00tanstaaftanstaaf", "a\x00b\x00c", "\x00\x00", "x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		z, c, _, err := ParsePlain(b)
		if err != nil {
			return
		}
		if c == "" || z == c {
			t.Fatalf("ParsePlain(%q): authcid %q authzid %q", b, c, z)
		}
	})
}
