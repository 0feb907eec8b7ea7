package imap

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchMailbox makes n messages' header blocks with threads, replies and
// forwards, like a mailing-list folder.
func benchMailbox(n int) [][]byte {
	r := rand.New(rand.NewPCG(9, 10))
	out := make([][]byte, n)
	for i := range out {
		refs := ""
		if i > 0 && r.IntN(3) > 0 {
			p := r.IntN(i)
			refs = fmt.Sprintf("References: <m%d@example.com> <m%d@example.com>\r\n", p/2, p)
		}
		out[i] = fmt.Appendf(nil, "Date: Mon, %d Mar 2021 %02d:%02d:00 +0100\r\n"+
			"From: \"User %d\" <user%d@example.com>\r\nTo: list@example.com\r\n"+
			"Subject: %sTopic number %d\r\nMessage-ID: <m%d@example.com>\r\n%s\r\n",
			1+i%28, i%24, i%60, i%97, i%97, []string{"", "Re: ", "Fwd: ", "[list] Re: "}[r.IntN(4)], r.IntN(n/10+1), i, refs)
	}
	return out
}

func benchSortData(hdrs [][]byte, fields SortFields) []SortData {
	msgs := make([]SortData, len(hdrs))
	arrival := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, h := range hdrs {
		msgs[i] = NewSortData(h, arrival.Add(time.Duration(i)*time.Minute), int64(1000+i%5000), fields)
		msgs[i].Seq, msgs[i].UID = uint32(i+1), uint32(i+1)
	}
	return msgs
}

// BenchmarkSortData50k is SORT's per-message work for a 50,000 message
// mailbox: key data from the cached header for DATE, SUBJECT and FROM.
func BenchmarkSortData50k(b *testing.B) {
	hdrs := benchMailbox(50000)
	crit := []SortCriterion{{Key: SortSubject}, {Key: SortDate}, {Key: SortFrom, Reverse: true}}
	for b.Loop() {
		msgs := benchSortData(hdrs, FieldsFor(crit))
		Sort(msgs, crit)
	}
}

// BenchmarkThreadReferences50k threads 50,000 messages (key data included).
func BenchmarkThreadReferences50k(b *testing.B) {
	hdrs := benchMailbox(50000)
	for b.Loop() {
		Threads(benchSortData(hdrs, FieldsThread), ThreadReferences)
	}
}
