package authproto

import (
	"errors"
	"strings"
	"testing"
)

func TestLineRoundTrip(t *testing.T) {
	t.Parallel()
	b := AppendLine(nil, "OK", "1", "user=a\tb\x01c\nd")
	if string(b) != "OK\t1\tuser=a\x01tb\x011c\x01nd\n" {
		t.Fatalf("AppendLine = %q", b)
	}
	l, err := ParseLine(b[:len(b)-1])
	if err != nil || l.Cmd != "OK" || len(l.Args) != 2 || l.Args[1] != "user=a\tb\x01c\nd" {
		t.Fatalf("ParseLine = %+v, %v", l, err)
	}
}

func TestParseAuth(t *testing.T) {
	t.Parallel()
	l, _ := ParseLine([]byte("AUTH\t7\tplain\tservice=smtp\tnologin\tsecured\tlip=127.0.0.1\trip=192.0.2.9\tresp=AHRpbQB0YW5zdGFhZnRhbnN0YWFm"))
	a, err := ParseAuth(l.Args)
	if err != nil || a.ID != 7 || a.Mech != "PLAIN" || a.Params["service"] != "smtp" || !a.Params.Has("secured") ||
		string(a.Resp) != "\x00tim\x00tanstaaftanstaaf" {
		t.Fatalf("ParseAuth = %+v, %v", a, err)
	}
	a, err = ParseAuth([]string{"8", "LOGIN", "service=smtp"})
	if err != nil || a.Resp != nil {
		t.Fatalf("no resp: %+v %v", a, err)
	}
	a, _ = ParseAuth([]string{"8", "PLAIN", "service=smtp", "resp="})
	if a.Resp == nil || len(a.Resp) != 0 {
		t.Fatalf("empty resp: %q", a.Resp)
	}
	for _, bad := range [][]string{{"0", "PLAIN", "service=smtp"}, {"x", "PLAIN", "service=smtp"}, {"1", "PLAIN"},
		{"1", "PLAIN", "service=smtp", "resp=!!"}, {"4294967296", "PLAIN", "service=smtp"}, {"1"}} {
		if _, err := ParseAuth(bad); !errors.Is(err, ErrProtocol) {
			t.Errorf("ParseAuth(%q) = %v", bad, err)
		}
	}
}

func TestParseContLookupList(t *testing.T) {
	t.Parallel()
	c, err := ParseCont([]string{"3", "dGlt"})
	if err != nil || c.ID != 3 || string(c.Data) != "tim" {
		t.Fatalf("%+v %v", c, err)
	}
	if c, _ := ParseCont([]string{"3", "*"}); !c.Abort {
		t.Fatal("abort")
	}
	if c, _ := ParseCont([]string{"3"}); c.Data == nil || len(c.Data) != 0 {
		t.Fatal("empty")
	}
	lu, err := ParseLookup([]string{"1", "bob@example.org", "service=lmtp"})
	if err != nil || lu.User != "bob@example.org" || lu.Params["service"] != "lmtp" {
		t.Fatalf("%+v %v", lu, err)
	}
	li, err := ParseList([]string{"2", "user=*@example.org"})
	if err != nil || li.Mask != "*@example.org" {
		t.Fatalf("%+v %v", li, err)
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	if _, err := ParseLine([]byte(strings.Repeat("a", MaxLineLength+1))); !errors.Is(err, ErrProtocol) {
		t.Error("long line accepted")
	}
	if _, err := ParseLine([]byte(strings.Repeat("a\t", MaxFields+1))); !errors.Is(err, ErrProtocol) {
		t.Error("many fields accepted")
	}
	for _, bad := range []string{"A\tb\x01", "A\tb\x01x", "\xff"} {
		if _, err := ParseLine([]byte(bad)); !errors.Is(err, ErrProtocol) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseLine(f *testing.F) {
	for _, s := range []string{"VERSION\t1\t2", "CPID\t1234", "AUTH\t1\tPLAIN\tservice=smtp\tresp=AGEAYg==",
		"CONT\t1\tdGlt", "USER\t1\tbob\tservice=lmtp", "LIST\t1\tuser=*", "PASS\t1\ta\x01tb"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := ParseLine(b)
		if err != nil {
			return
		}
		back := AppendLine(nil, l.Cmd, l.Args...)
		l2, err := ParseLine(back[:len(back)-1])
		if err != nil || l2.Cmd != l.Cmd || len(l2.Args) != len(l.Args) {
			t.Fatalf("round trip of %q: %q, %v", b, back, err)
		}
		switch l.Cmd {
		case "AUTH":
			ParseAuth(l.Args)
		case "CONT":
			ParseCont(l.Args)
		case "USER", "PASS":
			ParseLookup(l.Args)
		case "LIST":
			ParseList(l.Args)
		case "VERSION":
			ParseVersion(l.Args)
		}
	})
}
