package imapserver

import (
	"strings"
	"testing"
)

// TestESearchSortThread: ESEARCH (RFC 4731), SEARCHRES $ (RFC 5182),
// SORT/ESORT (RFC 5256, 5267) and THREAD on memstore; the same requests
// run against Dovecot in e2e/testdata/imap/14-esearch-sort-thread.txt.
func TestESearchSortThread(t *testing.T) {
	t.Parallel()
	c := newH5Client(t)
	c.appendMsg("INBOX", "Subject: Re: b\r\nMessage-ID: <2@x>\r\nIn-Reply-To: <1@x>\r\n\r\nx\r\n")
	c.appendMsg("INBOX", "Subject: b\r\nMessage-ID: <1@x>\r\n\r\nx\r\n", `\Seen`)
	c.appendMsg("INBOX", "Subject: a\r\n\r\nx\r\n")
	c.do("s SELECT INBOX")
	c.expect("a SEARCH RETURN (MIN MAX COUNT) ALL", `
* ESEARCH (TAG "a") MIN 1 MAX 3 COUNT 3
a OK Search completed.
`)
	c.expect("b UID SEARCH RETURN () UNSEEN", `
* ESEARCH (TAG "b") UID ALL 1,3
b OK Search completed.
`)
	c.expect("c SEARCH RETURN (SAVE) SEEN", "\nc OK Search completed.\n")
	c.expect("d SEARCH NOT $", "\n* SEARCH 1 3\nd OK Search completed.\n")
	c.expect("e SORT (SUBJECT) UTF-8 ALL", "\n* SORT 3 1 2\ne OK Sort completed.\n")
	c.expect("f SORT RETURN (MIN MAX) (REVERSE SUBJECT) UTF-8 ALL", `
* ESEARCH (TAG "f") MIN 1 MAX 3
f OK Sort completed.
`)
	c.expect("g THREAD REFERENCES UTF-8 ALL", "\n* THREAD (2 1)(3)\ng OK Thread completed.\n")
	c.expect("h UID THREAD ORDEREDSUBJECT UTF-8 ALL", "\n* THREAD (1 2)(3)\nh OK Thread completed.\n")
	c.expect("i SORT (BOGUS) UTF-8 ALL", "\ni BAD Error in IMAP command SORT: Invalid sort criteria\n")
}

// TestSaveDate: FETCH SAVEDATE (RFC 8514) shows the store's save date.
func TestSaveDate(t *testing.T) {
	t.Parallel()
	c := newH5Client(t)
	c.appendMsg("INBOX", "Subject: a\r\n\r\nx\r\n")
	c.do("s SELECT INBOX")
	got := c.do("a FETCH 1 (SAVEDATE)")
	if !strings.HasPrefix(got, `* 1 FETCH (SAVEDATE "`) {
		t.Errorf("FETCH SAVEDATE = %q", got)
	}
	c.expect("b SEARCH SAVEDATESUPPORTED SAVEDSINCE 1-Jan-2000", "\n* SEARCH 1\nb OK Search completed.\n")
}
