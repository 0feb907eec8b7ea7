package e2e

import (
	"strings"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	raw := strings.Join([]string{
		`S1: * OK Waiting for authentication process to respond..`,
		`S1: * OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ NOTIFY AUTH=PLAIN] Dovecot (Debian) ready.`,
		`C1: a1 SELECT INBOX`,
		`S1: * OK [UIDVALIDITY 1767312345] UIDs valid`,
		`S1: a1 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).`,
		`S1: + idling`,
		`S1: * 1 FETCH (INTERNALDATE "02-Jan-2026 01:00:00 +0000" UID 1)`,
		`S1: * 2 FETCH (INTERNALDATE " 1-Feb-2021 10:00:00 +0000")`,
		`S1: * ID ("name" "Dovecot")`,
		`S1: * LIST () "/" b`,
		`S1: * LIST () "/" a`,
		`S1: * 1 EXPUNGE`,
		`S1: * 1 EXPUNGE`,
		`S1: * 2 EXPUNGE`,
		`S1: a2 OK [APPENDUID 1767312345 4] Append completed.`,
		`S1: a3 OK [COPYUID 99 1 2] Done`,
		`S1: * STATUS x (UIDVALIDITY 99)`,
	}, "\n")
	want := strings.Join([]string{
		`S1: * OK [CAPABILITY AUTH=PLAIN ENABLE ID IDLE IMAP4rev1 LITERAL+ LOGIN-REFERRALS SASL-IR]`,
		`C1: a1 SELECT INBOX`,
		`S1: * OK [UIDVALIDITY <V1>]`,
		`S1: a1 OK [READ-WRITE]`,
		`S1: +`,
		`S1: * 1 FETCH (INTERNALDATE "<now>" UID 1)`,
		`S1: * 2 FETCH (INTERNALDATE " 1-Feb-2021 10:00:00 +0000")`,
		`S1: * ID (...)`,
		`S1: * LIST () "/" a`,
		`S1: * LIST () "/" b`,
		`S1: * 4 EXPUNGE`, // 1,1,2 removes 1,2,4 of the original numbering
		`S1: * 2 EXPUNGE`,
		`S1: * 1 EXPUNGE`,
		`S1: a2 OK [APPENDUID <V1> 4]`,
		`S1: a3 OK [COPYUID <V2> 1 2]`,
		`S1: * STATUS x (UIDVALIDITY <V2>)`,
	}, "\n") + "\n"
	if got := normalize(raw, now); got != want {
		t.Errorf("normalize:\n%s", lineDiff(want, got))
	}
}

func TestCommandParts(t *testing.T) {
	t.Parallel()
	lines := strings.Split("a1 LOGIN {x} <<~EOF\npw\nEOF rest <<+EOF\nl1\nl2\nEOF\nnext", "\n")
	parts, last, err := commandParts(lines, 0, lines[0])
	if err != nil || last != 5 || len(parts) != 3 {
		t.Fatalf("parts=%+v last=%d err=%v", parts, last, err)
	}
	if parts[0].text != "a1 LOGIN {x} " || *parts[0].literal != "pw" || parts[0].plus {
		t.Errorf("part 0 = %+v %q", parts[0], *parts[0].literal)
	}
	if parts[1].text != " rest " || *parts[1].literal != "l1\r\nl2\r\n" || !parts[1].plus {
		t.Errorf("part 1 = %+v %q", parts[1], *parts[1].literal)
	}
	if parts[2].text != "" || parts[2].literal != nil {
		t.Errorf("part 2 = %+v", parts[2])
	}
}
