package imap

import (
	"testing"
	"time"
)

func TestParseSortCriteria(t *testing.T) {
	t.Parallel()
	got, err := ParseSortCriteria([]string{"reverse", "DATE", "SUBJECT", "REVERSE", "DisplayFrom"})
	want := []SortCriterion{{SortDate, true}, {SortSubject, false}, {SortDisplayFrom, true}}
	if err != nil || len(got) != len(want) {
		t.Fatalf("got %v, %v", got, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("criterion %d: got %v, want %v", i, got[i], want[i])
		}
	}
	for _, bad := range [][]string{nil, {"REVERSE"}, {"DATE", "REVERSE"}, {"REVERSE", "REVERSE", "DATE"}, {"BOGUS"}} {
		if _, err := ParseSortCriteria(bad); err == nil {
			t.Errorf("ParseSortCriteria(%q) succeeded", bad)
		}
	}
	if f := FieldsFor(want); f != FieldDate|FieldSubject|FieldDisplayFrom {
		t.Errorf("FieldsFor = %b", f)
	}
}

func TestNewSortData(t *testing.T) {
	t.Parallel()
	arrival := time.Date(2021, 1, 2, 3, 4, 5, 0, time.UTC)
	hdr := "Date: Mon, 1 Mar 2021 10:00:00 +0100\r\n" +
		"From: =?UTF-8?Q?=C3=89mile?= <emile@example.fr>\r\n" +
		"To: undisclosed-recipients:;\r\n" +
		"Cc: <carol@example.com>, dave@example.com\r\n" +
		"Subject: Re: [list] caf\xc3\xa9\r\n" +
		"Message-ID: <m1@example.com>\r\n" +
		"In-Reply-To: <m0@example.com>\r\n" +
		"\r\n"
	d := NewSortData([]byte(hdr), arrival, 1234, ^SortFields(0))
	want := SortData{
		Arrival: arrival.Unix(), Size: 1234,
		Date:    time.Date(2021, 3, 1, 9, 0, 0, 0, time.UTC).Unix(),
		Subject: "CAFE\u0301", ReplyOrForward: true,
		From: "EMILE", To: "UNDISCLOSED-RECIPIENTS", Cc: "CAROL",
		DisplayFrom: "E\u0301MILE", DisplayTo: "UNDISCLOSED-RECIPIENTS",
		MessageID: "m1@example.com", Parents: []string{"m0@example.com"},
	}
	if d.Arrival != want.Arrival || d.Size != want.Size || d.Date != want.Date || d.Subject != want.Subject ||
		d.ReplyOrForward != want.ReplyOrForward || d.From != want.From || d.To != want.To || d.Cc != want.Cc ||
		d.DisplayFrom != want.DisplayFrom || d.DisplayTo != want.DisplayTo || d.MessageID != want.MessageID ||
		len(d.Parents) != 1 || d.Parents[0] != want.Parents[0] {
		t.Errorf("got  %+v\nwant %+v", d, want)
	}
	// Only the fields asked for; the date falls back to INTERNALDATE.
	d = NewSortData([]byte("Date: not a date\r\nSubject: x\r\n\r\n"), arrival, 1, FieldDate)
	if d.Date != arrival.Unix() || d.Subject != "" {
		t.Errorf("got %+v", d)
	}
	d = NewSortData([]byte("From: <a@b>\r\n\r\n"), arrival, 1, FieldDisplayFrom)
	if d.DisplayFrom != "A@B" {
		t.Errorf("DisplayFrom without a name = %q", d.DisplayFrom)
	}
}

func TestSort(t *testing.T) {
	t.Parallel()
	msgs := []SortData{
		{Seq: 1, Size: 30, Subject: "B"},
		{Seq: 2, Size: 10, Subject: "A"},
		{Seq: 3, Size: 30, Subject: "A"},
		{Seq: 4, Size: 20, Subject: "B"},
	}
	order := func(crit ...SortCriterion) []uint32 {
		c := append([]SortData(nil), msgs...)
		Sort(c, crit)
		var out []uint32
		for _, m := range c {
			out = append(out, m.Seq)
		}
		return out
	}
	for _, tc := range []struct {
		crit []SortCriterion
		want []uint32
	}{
		{[]SortCriterion{{SortSize, false}}, []uint32{2, 4, 1, 3}},
		// REVERSE reverses its key only: ties stay in sequence order.
		{[]SortCriterion{{SortSize, true}}, []uint32{1, 3, 4, 2}},
		{[]SortCriterion{{SortSubject, false}, {SortSize, true}}, []uint32{3, 2, 1, 4}},
		{[]SortCriterion{{SortArrival, false}}, []uint32{1, 2, 3, 4}},
	} {
		got := order(tc.crit...)
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%v: got %v, want %v", tc.crit, got, tc.want)
				break
			}
		}
	}
}
