package loadgen

import (
	"bytes"
	"context"
	"time"
)

// runBigbox runs, o.Ops times (default once), a session on a large
// INBOX: for bigbox SELECT, UID FETCH 1:* (FLAGS), SEARCH HEADER SUBJECT,
// and SORT (DATE) when the server announces SORT (RFC 5256); for
// sortthread the commands of sortThreadSteps. Each command is an op;
// Values["sort_supported"] is 1 or 0 and Values["exists"] the size.
func runBigbox(ctx context.Context, o Options) (*Result, error) {
	rec := newRecorder()
	var col collector
	col.add(rec)
	n := max(o.Ops, 1)
	t0 := time.Now()
	sortOK, exists := false, 0
	for range n {
		s, e, err := bigboxOnce(ctx, o, rec)
		if err != nil {
			break
		}
		sortOK, exists = s, e
	}
	res := col.result(o.Workload, 1, time.Since(t0), "select")
	res.Values["exists"] = float64(exists)
	res.Values["sort_supported"] = 0
	if sortOK {
		res.Values["sort_supported"] = 1
	}
	return res, nil
}

func bigboxOnce(ctx context.Context, o Options, rec *recorder) (bool, int, error) {
	ic, err := dialIMAP(ctx, o.Target)
	if err != nil {
		rec.fail("connect", err)
		return false, 0, err
	}
	defer ic.Close()
	ic.c.SetDeadline(time.Now().Add(10 * o.Timeout))
	sortOK := false
	ic.untagged = func(line []byte) {
		if bytes.HasPrefix(line, []byte("* CAPABILITY ")) && bytes.Contains(line, []byte(" SORT")) {
			sortOK = true
		}
	}
	if err := rec.time("login", func() error { return ic.login(o.Users[0], o.Password) }); err != nil {
		return false, 0, err
	}
	if bytes.Contains(ic.status, []byte(" SORT")) {
		sortOK = true
	}
	if err := rec.time("capability", func() error { return ic.cmd("CAPABILITY") }); err != nil {
		return false, 0, err
	}
	ic.untagged = nil
	steps := bigboxSteps(o, sortOK)
	if o.Workload == "sortthread" {
		steps = sortThreadSteps(o, sortOK)
	}
	for _, s := range steps {
		if err := rec.time(s.op, func() error { return ic.cmd(s.cmd) }); err != nil {
			return false, 0, err
		}
	}
	exists := ic.exists
	return sortOK, exists, rec.time("logout", ic.logout)
}

// step is one timed command of a large-mailbox session.
type step struct{ op, cmd string }

func bigboxSteps(o Options, sortOK bool) []step {
	steps := []step{
		{"select", "SELECT INBOX"},
		{"uid_fetch_flags", "UID FETCH 1:* (FLAGS)"},
		{"search_header", "SEARCH HEADER SUBJECT " + quote(o.SearchSubject)},
	}
	if sortOK {
		steps = append(steps, step{"sort_date", "SORT (DATE) UTF-8 ALL"})
	}
	return steps
}
