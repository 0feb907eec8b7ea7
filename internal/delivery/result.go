package delivery

import (
	"errors"
	"strings"
	"syscall"

	"roost/internal/storage"
)

// Result is the outcome of one recipient's delivery or lookup, in SMTP
// terms shared by LMTP (the reply) and the LDA (the exit code).
type Result struct {
	Code     int    // 250, 451, 452, 550, 552, ...
	Enhanced string // RFC 3463, e.g. "2.0.0"
	Text     string // after "<rcpt> "
	Mailbox  string // where the message was saved (success only)
	Err      error  // the cause, for the log only
}

// OK reports a successful delivery.
func (r Result) OK() bool { return r.Code >= 200 && r.Code < 300 }

// Temporary reports a failure the sender should retry.
func (r Result) Temporary() bool { return r.Code >= 400 && r.Code < 500 }

// UnknownUser reports a permanent failure because the user does not exist.
func (r Result) UnknownUser() bool { return r.Enhanced == "5.1.1" }

// Results for lookups, after Dovecot's lmtp-local.c texts.
func unknownUser(user string) Result {
	return Result{Code: 550, Enhanced: "5.1.1", Text: "User doesn't exist: " + user}
}

func lookupFailed(err error) Result {
	return Result{Code: 451, Enhanced: "4.3.0", Text: "Temporary user lookup failure", Err: err}
}

// tooBig refuses a message over quota_max_mail_size, with the quota
// plugin's text. Dovecot 2.3 answers it with a temporary failure (451
// 4.2.0, the LDA exits 75); roost refuses it permanently, since a retry
// cannot succeed (issue 3: "a message over the size limit is refused
// permanently with a clear text").
func tooBig() Result {
	return Result{Code: 552, Enhanced: "5.2.3", Text: "Mail size is larger than the maximum size allowed by server configuration"}
}

// refused is a Sieve ereject at the protocol level (RFC 5429 section
// 2.1.1: 550 5.7.1 with the reason).
func refused(reason string) Result {
	return Result{Code: 550, Enhanced: "5.7.1", Text: strings.Join(strings.Fields(reason), " ")}
}

// TempFailure is the result of an internal error; the client sees no
// detail.
func TempFailure(err error) Result {
	return Result{Code: 451, Enhanced: "4.3.0", Text: "Temporary internal error", Err: err}
}

// saveResult maps a save error to a result: the one table of storage
// error kinds for delivery (STYLE.md, Errors).
func saveResult(err error, quotaTempfail bool) Result {
	if isDiskFull(err) {
		return Result{Code: 452, Enhanced: "4.3.1", Text: "Mail system full, try again later", Err: err}
	}
	switch storage.KindOf(err) {
	case storage.KindNoQuota:
		if quotaTempfail {
			return Result{Code: 452, Enhanced: "4.2.2", Text: "Quota exceeded (mailbox for user is full)", Err: err}
		}
		return Result{Code: 552, Enhanced: "5.2.2", Text: "Quota exceeded (mailbox for user is full)", Err: err}
	case storage.KindTooBig:
		return Result{Code: 552, Enhanced: "5.2.3", Text: "Message size exceeds the fixed maximum message size", Err: err}
	}
	return TempFailure(err)
}

func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
