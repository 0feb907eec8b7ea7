package sieve

import (
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig(map[string]string{
		"sieve_max_script_size": "1M", "sieve_max_actions": "10", "sieve_max_redirects": "2",
		"sieve_extensions": "+editheader -regex", "sieve_global_extensions": "+vnd.dovecot.pipe",
		"sieve_vacation_min_period": "1h", "sieve_vacation_max_period": "30d", "sieve_vacation_default_period": "2d",
		"sieve_redirect_envelope_from": " recipient ",
		"imapsieve_mailbox1_name":      "Junk", "imapsieve_mailbox1_causes": "COPY", "imapsieve_mailbox1_before": "file:/s/report-spam.sieve",
		"imapsieve_mailbox2_name": "*", "imapsieve_mailbox2_from": "Junk", "imapsieve_mailbox2_causes": "COPY",
		"imapsieve_mailbox2_before": "file:/s/report-ham.sieve",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxScriptSize != 1<<20 || c.MaxActions != 10 || c.MaxRedirects != 2 {
		t.Errorf("limits: %+v", c)
	}
	if !containsFold(c.Extensions, "editheader") || containsFold(c.Extensions, "regex") {
		t.Errorf("extensions: %v", c.Extensions)
	}
	if len(c.GlobalExtensions) != 1 || c.GlobalExtensions[0] != "vnd.dovecot.pipe" {
		t.Errorf("global extensions: %v", c.GlobalExtensions)
	}
	if c.VacationMinPeriod != time.Hour || c.VacationMaxPeriod != 30*24*time.Hour || c.VacationDefaultPeriod != 48*time.Hour {
		t.Errorf("vacation periods: %v %v %v", c.VacationMinPeriod, c.VacationMaxPeriod, c.VacationDefaultPeriod)
	}
	if c.RedirectEnvelopeFrom != "recipient" {
		t.Errorf("redirect envelope from %q", c.RedirectEnvelopeFrom)
	}
	// seed 001: moving into Junk reports spam, moving out of Junk reports ham
	if got := c.ImapsieveMatch("Junk", "INBOX", "COPY"); len(got) != 1 || got[0].Before != "file:/s/report-spam.sieve" {
		t.Errorf("into Junk: %+v", got)
	}
	if got := c.ImapsieveMatch("INBOX", "Junk", "COPY"); len(got) != 1 || got[0].Before != "file:/s/report-ham.sieve" {
		t.Errorf("out of Junk: %+v", got)
	}
	if got := c.ImapsieveMatch("Junk", "", "APPEND"); len(got) != 0 {
		t.Errorf("APPEND to Junk: %+v", got)
	}
}

func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	for _, kv := range []map[string]string{
		{"sieve_max_actions": "many"},
		{"sieve_vacation_min_period": "soon"},
		{"sieve_redirect_envelope_from": "somebody"},
		{"imapsieve_mailbox1_name": "Junk", "imapsieve_mailbox1_causes": "MOVE"},
	} {
		if _, err := ParseConfig(kv); err == nil {
			t.Errorf("ParseConfig(%v) accepted", kv)
		}
	}
}
