package imapserver

import (
	"errors"

	"roost/internal/storage"
)

// kindCodes maps storage error kinds to IMAP response codes (RFC 5530),
// as Dovecot's imap_get_error_string does. This is the one table.
var kindCodes = [...]string{
	storage.KindInternal:    "SERVERBUG",
	storage.KindNotFound:    "NONEXISTENT",
	storage.KindExists:      "ALREADYEXISTS",
	storage.KindPerm:        "NOPERM",
	storage.KindNoQuota:     "OVERQUOTA",
	storage.KindExpunged:    "EXPUNGEISSUED",
	storage.KindInUse:       "INUSE",
	storage.KindLimit:       "LIMIT",
	storage.KindTooBig:      "TOOBIG",
	storage.KindTemp:        "UNAVAILABLE",
	storage.KindUnavailable: "UNAVAILABLE",
	storage.KindNotPossible: "CANNOT",
	storage.KindParams:      "CANNOT", // Dovecot: invalid mailbox names
	storage.KindInvalidData: "PARSE",
}

// internalErrorText is the client-visible text of an internal error; the
// details go to the log only.
const internalErrorText = "Internal error occurred. Refer to server log for more information."

// storageError converts err from the storage API into a tagged NO. An
// error without client-safe text is logged with what, and the client
// gets Dovecot's generic text with a timestamp.
func (c *conn) storageError(what string, err error) error {
	var st *status
	if errors.As(err, &st) {
		return st
	}
	kind := storage.KindOf(err)
	text := storage.ClientText(err)
	code := ""
	if int(kind) < len(kindCodes) {
		code = kindCodes[kind]
	}
	if text == "" {
		c.log.Errorf("%s: %v", what, err)
		code = kindCodes[storage.KindInternal]
		if kind == storage.KindTemp || kind == storage.KindUnavailable {
			code = kindCodes[kind]
		}
		text = internalErrorText + " [" + c.srv.opts.Now().Format("2006-01-02 15:04:05") + "]"
	}
	return no(code, text)
}

// destError is storageError for the destination mailbox of APPEND, COPY
// and MOVE: a missing mailbox is [TRYCREATE] (RFC 3501 section 6.3.11).
func (c *conn) destError(what string, err error) error {
	if storage.KindOf(err) == storage.KindNotFound {
		text := storage.ClientText(err)
		if text == "" {
			text = "Mailbox doesn't exist."
		}
		return no("TRYCREATE", text)
	}
	return c.storageError(what, err)
}

// lookupError is storageError for commands that name an existing mailbox
// (SELECT, EXAMINE, STATUS, SUBSCRIBE): Dovecot sends no response code
// when it does not exist.
func (c *conn) lookupError(what string, err error) error {
	if storage.KindOf(err) == storage.KindNotFound {
		if text := storage.ClientText(err); text != "" {
			return no("", text)
		}
	}
	return c.storageError(what, err)
}
