package imapserver

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"strings"
	"time"

	"roost/internal/imap"
	"roost/internal/imapwire"
	"roost/internal/storage"
)

// cmdAppend is APPEND (RFC 3501 section 6.3.11) with APPENDUID (RFC
// 4315), MULTIAPPEND (RFC 3502: several messages, all or none), literal8
// (RFC 3516 section 4.4) and CATENATE (RFC 4469). A plain literal
// streams from the connection into storage; a literal8 or a CATENATE
// list is assembled in memory first. For a synchronising literal the
// mailbox and size are checked before the continuation is sent, so a
// refused message is never transferred.
func cmdAppend(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var name string
	if !dec.ExpectSP() || !dec.ExpectMailbox(&name) {
		return dec.Err()
	}
	ap := &appender{c: c, name: name}
	defer ap.rollback(ctx)
	for {
		if ap.count > 0 && dec.CRLF() {
			break
		}
		if dec.Err() != nil {
			return dec.Err()
		}
		if ap.count == 0 && dec.EOL() {
			return bad("", "Error in IMAP command APPEND: Missing message size")
		}
		if !dec.ExpectSP() {
			return dec.Err()
		}
		if err := ap.message(ctx, dec); err != nil {
			return err
		}
	}
	res, err := ap.commit(ctx)
	if err != nil {
		return err
	}
	cmd.okCode = appendUIDCode(res)
	c.appendEvent(ctx, name, res) // imapsieve
	return nil
}

// appendUIDCode is the APPENDUID response code (RFC 4315 section 3,
// a UID set for MULTIAPPEND).
func appendUIDCode(res []storage.AppendResult) string {
	uids := make([]uint32, len(res))
	for i, r := range res {
		uids[i] = r.UID
	}
	return "APPENDUID " + strconv.FormatUint(uint64(res[0].UIDValidity), 10) + " " + imap.FormatNums(uids)
}

// appender collects the messages of one APPEND (or REPLACE) command into
// an append transaction.
type appender struct {
	c     *conn
	name  string
	tx    storage.AppendTransaction
	count int  // messages read so far
	done  bool // committed
}

// message reads one message: [flag-list SP] [date-time SP] and a literal,
// a literal8 or CATENATE (...), and adds it to the transaction.
func (ap *appender) message(ctx context.Context, dec *imapwire.Decoder) error {
	var flags []string
	if dec.List(func() bool { return appendFlag(dec, &flags) }) {
		if !dec.ExpectSP() {
			return dec.Err()
		}
	}
	var date time.Time
	if dec.Err() == nil && dec.DateTime(&date) && !dec.ExpectSP() {
		return dec.Err()
	}
	if dec.Err() != nil {
		return dec.Err()
	}
	msg := storage.AppendMessage{Flags: flags, InternalDate: date}
	var lit imapwire.LiteralInfo
	if dec.Literal8Header(&lit) {
		return ap.literal(ctx, dec, lit, msg)
	}
	var kw string
	switch {
	case dec.Err() != nil:
		return dec.Err()
	case dec.Atom(&kw) && strings.EqualFold(kw, "CATENATE"):
		return ap.catenate(ctx, dec, msg)
	case kw != "" && ap.c.isUTF8Keyword(kw): // RFC 6855 section 4
		return ap.utf8Append(ctx, dec, msg)
	case dec.Err() == nil && dec.EOL():
		return bad("", "Error in IMAP command APPEND: Missing message size")
	}
	return bad("", "Error in IMAP command APPEND: Invalid arguments.")
}

// literal reads a message sent as a literal or literal8.
func (ap *appender) literal(ctx context.Context, dec *imapwire.Decoder, lit imapwire.LiteralInfo, msg storage.AppendMessage) error {
	if err := ap.check(ctx, lit); err != nil {
		if lit.NonSync && lit.Size > ap.c.srv.opts.MaxAppendSize {
			return imapwire.ErrLiteralTooLarge // data is on its way: disconnect
		}
		return err
	}
	body, err := dec.LiteralBody(lit)
	if err != nil {
		return err
	}
	msg.Body, msg.Size = body, lit.Size
	if lit.Binary {
		data, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		data = convertBinary(data)
		msg.Body, msg.Size = bytes.NewReader(data), int64(len(data))
	} else if ap.c.enabled[extUTF8Accept] {
		if msg.Body, msg.Size, err = unwrapUTF8Literal(body, lit.Size); err != nil {
			return err
		}
	}
	return ap.add(ctx, dec, msg)
}

// add saves msg into the transaction, which starts with the first
// message.
func (ap *appender) add(ctx context.Context, dec *imapwire.Decoder, msg storage.AppendMessage) error {
	if ap.tx == nil {
		tx, err := ap.c.beginAppend(ctx, ap.name)
		if err != nil {
			return ap.c.destError("append to "+ap.name, err) // the dispatcher skips the literal
		}
		ap.tx = tx
	}
	ap.count++
	err := ap.tx.Append(ctx, msg)
	if dec.Err() != nil {
		return dec.Err() // the connection broke while reading the message
	}
	if err != nil {
		return ap.c.destError("append to "+ap.name, err)
	}
	return nil
}

// check refuses a message before its literal is sent: too big, empty, or
// (for the first synchronising literal) a mailbox that does not exist.
func (ap *appender) check(ctx context.Context, lit imapwire.LiteralInfo) error {
	if lit.Size > ap.c.srv.opts.MaxAppendSize {
		return no("TOOBIG", "Mail size is larger than the maximum size allowed by server configuration")
	}
	if lit.Size == 0 {
		return no("", "Can't save a zero byte message.")
	}
	if !lit.NonSync && ap.tx == nil {
		if _, err := ap.c.user.Status(ctx, ap.name); err != nil {
			return ap.c.destError("append to "+ap.name, err)
		}
	}
	return nil
}

// commit saves every message of the command at once.
func (ap *appender) commit(ctx context.Context) ([]storage.AppendResult, error) {
	res, err := ap.tx.Commit(ctx)
	ap.done = true
	if err != nil {
		ap.tx.Rollback(ctx)
		return nil, ap.c.destError("append to "+ap.name, err)
	}
	return res, nil
}

// rollback drops the messages of a command that failed.
func (ap *appender) rollback(ctx context.Context) {
	if ap.tx == nil || ap.done {
		return
	}
	if err := ap.tx.Rollback(context.WithoutCancel(ctx)); err != nil {
		ap.c.log.Errorf("append to %s: rollback: %v", ap.name, err)
	}
}

// appendFlag reads one flag of APPEND's flag list. \Recent cannot be
// set by a client (Dovecot: "Invalid system flag \RECENT").
func appendFlag(dec *imapwire.Decoder, flags *[]string) bool {
	var f string
	if !dec.ExpectFlag(&f) {
		return false
	}
	canon, ok := imap.CanonicalFlag(f)
	if !ok || canon == imap.FlagRecent || canon == imap.FlagWildcard {
		return dec.Fail("Invalid system flag " + strings.ToUpper(f))
	}
	*flags = append(*flags, canon)
	return true
}
