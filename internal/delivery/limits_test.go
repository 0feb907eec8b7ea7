package delivery

import (
	"context"
	"errors"
	"strings"
	"testing"

	"roost/internal/storage"
)

// TestMaxMailSize: a message over quota_max_mail_size is refused
// permanently and not stored; a userdb field overrides the limit.
func TestMaxMailSize(t *testing.T) {
	t.Parallel()
	d, u := newTest(t, nil, Options{MaxMailSize: 100})
	ctx := context.Background()
	r, _ := d.Resolve(ctx, "alice")
	res := d.Deliver(ctx, Envelope{}, r, Trace{}, spoolOf("Subject: big\r\n\r\n"+strings.Repeat("x", 100)))
	if res.Code != 552 || res.Enhanced != "5.2.3" || !strings.Contains(res.Text, "maximum size") {
		t.Errorf("over the limit: %+v", res)
	}
	if got := messages(t, u, "alice", "INBOX"); len(got) != 0 {
		t.Errorf("stored %d messages over the limit", len(got))
	}
	r.Account.Fields["quota_max_mail_size"] = "1k"
	if res := d.Deliver(ctx, Envelope{}, r, Trace{}, spoolOf("Subject: big\r\n\r\n"+strings.Repeat("x", 100))); !res.OK() {
		t.Errorf("under the userdb's limit: %+v", res)
	}
	if got := d.MaxMailSize(Account{}); got != 100 {
		t.Errorf("global limit %d", got)
	}
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"": 0, "0": 0, "unlimited": 0, "100": 100, "100B": 100, "10k": 10 << 10,
		"10 kB": 10 << 10, "5M": 5 << 20, "2G": 2 << 30, "1t": 1 << 40} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"x", "10q", "-1", "99999999999T"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

type quotaFunc func(a Account) error

func (f quotaFunc) CheckQuota(_ context.Context, _ storage.User, a Account) error { return f(a) }

// TestCheckQuota: lmtp_rcpt_check_quota's hook maps over-quota to 552
// 5.2.2 (452 4.2.2 with quota_full_tempfail) and a failure to 451 4.3.0;
// without a checker every recipient passes.
func TestCheckQuota(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := quotaFunc(func(a Account) error {
		switch a.User {
		case "alice":
			return storage.Errorf(storage.KindNoQuota, "Quota exceeded (mailbox for user is full)")
		case "bob@example.net":
			return errors.New("quota dict unreachable")
		}
		return nil
	})
	for _, tc := range []struct {
		tempfail bool
		user     string
		code     int
		enh      string
	}{
		{false, "alice", 552, "5.2.2"},
		{true, "alice", 452, "4.2.2"},
		{false, "bob@example.net", 451, "4.3.0"},
		{false, "a+b", 250, "2.1.5"},
	} {
		d, _ := newTest(t, nil, Options{Quota: q, QuotaFullTempfail: tc.tempfail})
		r, _ := d.Resolve(ctx, tc.user)
		if res := d.CheckQuota(ctx, r); res.Code != tc.code || res.Enhanced != tc.enh {
			t.Errorf("%s (tempfail %v): %+v", tc.user, tc.tempfail, res)
		}
	}
	d, _ := newTest(t, nil, Options{})
	r, _ := d.Resolve(ctx, "alice")
	if res := d.CheckQuota(ctx, r); !res.OK() {
		t.Errorf("no checker: %+v", res)
	}
}
