package imap

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// tmsg builds a message for threading tests: hour is the Date hour on
// 1 Jan 2020 (-1 for no Date), refs the References value.
type tmsg struct {
	id, subject string
	hour        int
	refs, irt   string
}

func threadData(msgs []tmsg) []SortData {
	out := make([]SortData, len(msgs))
	arrival := time.Date(2020, 2, 1, 0, 0, 0, 0, time.UTC)
	for i, m := range msgs {
		var h strings.Builder
		if m.hour >= 0 {
			fmt.Fprintf(&h, "Date: 1 Jan 2020 %02d:00 +0000\r\n", m.hour)
		}
		fmt.Fprintf(&h, "Subject: %s\r\n", m.subject)
		if m.id != "" {
			fmt.Fprintf(&h, "Message-ID: %s\r\n", m.id)
		}
		if m.refs != "" {
			fmt.Fprintf(&h, "References: %s\r\n", m.refs)
		}
		if m.irt != "" {
			fmt.Fprintf(&h, "In-Reply-To: %s\r\n", m.irt)
		}
		out[i] = NewSortData([]byte(h.String()+"\r\n"), arrival.Add(-time.Duration(i)*time.Hour), 100, FieldsThread)
		out[i].Seq, out[i].UID = uint32(i+1), uint32(i+1)
	}
	return out
}

// The expected answers were given by Dovecot 2.3.19 for the same messages.
func TestThreads(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name                   string
		msgs                   []tmsg
		refs, refsDovecot, ord string
	}{
		{"basic", []tmsg{
			{"<a@x>", "foo", 10, "", ""}, {"<b@x>", "Re: foo", 12, "<a@x>", ""}, {"<c@x>", "bar", 11, "", ""},
			{"<d@x>", "Re: foo", 9, "", ""}, {"<e@x>", "baz", 8, "<zz@x>", ""}, {"<f@x>", "baz2", 13, "<zz@x>", ""},
			{"<g@x>", "other", 7, "<c@x>", ""},
		}, "((5)(6))(1 (4)(2))(3 7)", "(4)(3 7)(1 2)((5)(6))", "(7)(5)(4 (1)(2))(3)(6)"},
		{"last reference replaces parent", []tmsg{
			{"<x@a>", "s1", 1, "<p@a> <y@a>", ""}, {"<y@a>", "s2", 2, "<q@a>", ""}, {"<p@a>", "s3", 3, "", ""}, {"<q@a>", "s4", 4, "", ""},
		}, "(3)(4 2 1)", "(3)(4 2 1)", "(1)(2)(3)(4)"},
		{"no references makes a root", []tmsg{
			{"<x@b>", "s1", 1, "<p@b> <y@b>", ""}, {"<y@b>", "s2", 2, "", ""}, {"<p@b>", "s3", 3, "", ""},
		}, "(2 1)(3)", "(2 1)(3)", "(1)(2)(3)"},
		{"chain keeps first parent", []tmsg{
			{"<y@c>", "s1", 1, "<q@c>", ""}, {"<x@c>", "s2", 2, "<p@c> <y@c>", ""}, {"<p@c>", "s3", 3, "", ""}, {"<q@c>", "s4", 4, "", ""},
		}, "(3)(4 1 2)", "(3)(4 1 2)", "(1)(2)(3)(4)"},
		{"loop", []tmsg{{"<a@d>", "s1", 1, "<b@d>", ""}, {"<b@d>", "s2", 2, "<a@d>", ""}}, "(2 1)", "(2 1)", "(1)(2)"},
		{"duplicate id", []tmsg{{"<a@e>", "s1", 1, "", ""}, {"<a@e>", "s2", 2, "", ""}, {"<c@e>", "s3", 3, "<a@e>", ""}},
			"(1 3)(2)", "(2)(1 3)", "(1)(2)(3)"},
		{"in-reply-to", []tmsg{
			{"<a@f>", "s1", 1, "", ""}, {"<b@f>", "s2", 2, "", ""}, {"<c@f>", "s3", 3, "<a@f>", "<b@f>"}, {"<d@f>", "s4", 4, "junk", "<b@f>"},
		}, "(1 3)(2 4)", "(1 3)(2 4)", "(1)(2)(3)(4)"},
		{"dummy ties", []tmsg{{"<a@g>", "s1", 5, "<z@g>", ""}, {"<b@g>", "s2", 5, "<z@g>", ""}, {"<c@g>", "s3", 5, "", ""}, {"<d@g>", "s4", 5, "", ""}},
			"((1)(2))(3)(4)", "((1)(2))(3)(4)", "(1)(2)(3)(4)"},
		{"dummy sorts as first child, REFS as UID 0", []tmsg{{"<a@h>", "s1", 5, "", ""}, {"<b@h>", "s2", 5, "<z@h>", ""}, {"<c@h>", "s3", 5, "<z@h>", ""}},
			"(1)((2)(3))", "((2)(3))(1)", "(1)(2)(3)"},
		{"promoted child", []tmsg{{"<a@i>", "s1", 5, "", ""}, {"<b@i>", "s2", 5, "<z@i>", ""}, {"<c@i>", "s3", 4, "<b@i>", ""}},
			"(1)(2 3)", "(2 3)(1)", "(3)(1)(2)"},
	} {
		msgs := threadData(tc.msgs)
		for _, a := range []struct {
			alg  ThreadAlgorithm
			want string
		}{{ThreadReferences, tc.refs}, {ThreadRefs, tc.refsDovecot}, {ThreadOrderedSubject, tc.ord}} {
			if got := string(AppendThreads(nil, Threads(msgs, a.alg), false)); got != a.want {
				t.Errorf("%s: algorithm %d: got %s, want %s", tc.name, a.alg, got, a.want)
			}
		}
	}
}

func TestAppendThreads(t *testing.T) {
	t.Parallel()
	n := func(num uint32, children ...*Thread) *Thread {
		return &Thread{Seq: num, UID: num + 100, Children: children}
	}
	threads := []*Thread{
		n(1, n(2, n(3))),
		n(4, n(5), n(6, n(7), n(8))),
		{Children: []*Thread{n(9), n(10, n(11))}},
	}
	if got, want := string(AppendThreads(nil, threads, false)), "(1 2 3)(4 (5)(6 (7)(8)))((9)(10 11))"; got != want {
		t.Errorf("seq: got %s, want %s", got, want)
	}
	if got, want := string(AppendThreads(nil, threads[:1], true)), "(101 102 103)"; got != want {
		t.Errorf("uid: got %s, want %s", got, want)
	}
}

func TestNextMessageID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, id, rest string }{
		{"<a@b>", "a@b", ""},
		{"  <a@b> <c@d>", "a@b", " <c@d>"},
		{"<no-at> <c@d>", "c@d", ""},
		{"junk", "", ""},
		{"<a b@c\r\n d>", "ab@cd", ""},
		{`<"quoted local"@example.com>`, "quoted local@example.com", ""},
		{"<a(comment)@b>", "a@b", ""},
		{"Your message of <x@y>", "x@y", ""},
		{"<broken", "", ""},
	} {
		id, rest := nextMessageID(tc.in)
		if id != tc.id || rest != tc.rest {
			t.Errorf("nextMessageID(%q) = %q, %q; want %q, %q", tc.in, id, rest, tc.id, tc.rest)
		}
	}
}

func FuzzThreadIDs(f *testing.F) {
	for _, s := range []string{"<a@b> <c@d>", `<"x"@y>`, "<a(b)@c>", "<<<@>>>", "(", `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for n := 0; n < 1000; n++ {
			id, rest := nextMessageID(s)
			if id == "" {
				return
			}
			if !strings.Contains(id, "@") || len(rest) >= len(s) {
				t.Fatalf("nextMessageID(%q) = %q, %q", s, id, rest)
			}
			s = rest
		}
	})
}

func FuzzThreads(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 1, 0, 2, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64 {
			b = b[:64]
		}
		var msgs []tmsg
		for i := 0; i+1 < len(b); i += 2 {
			id := fmt.Sprintf("<%d@f>", b[i]%8)
			refs := fmt.Sprintf("<%d@f> <%d@f>", b[i+1]%8, (b[i+1]>>3)%8)
			msgs = append(msgs, tmsg{id, []string{"a", "Re: a", "b"}[b[i]%3], int(b[i+1] % 5), refs, ""})
		}
		data := threadData(msgs)
		for _, alg := range []ThreadAlgorithm{ThreadOrderedSubject, ThreadReferences, ThreadRefs} {
			seen := map[uint32]bool{}
			var walk func([]*Thread)
			walk = func(ts []*Thread) {
				for _, th := range ts {
					if th.Seq != 0 {
						if seen[th.Seq] {
							t.Fatalf("algorithm %d: message %d twice", alg, th.Seq)
						}
						seen[th.Seq] = true
					}
					walk(th.Children)
				}
			}
			walk(Threads(data, alg))
			if len(seen) != len(data) {
				t.Fatalf("algorithm %d: %d of %d messages in threads", alg, len(seen), len(data))
			}
		}
	})
}
