package imapserver

import (
	"context"
	"strconv"
	"strings"
	"time"

	"roost/internal/imap"
	"roost/internal/imapwire"
	"roost/internal/storage"
)

// cmdAppend is APPEND (RFC 3501 section 6.3.11) with APPENDUID (RFC
// 4315). The message streams from the connection into storage. For a
// synchronising literal the mailbox and size are checked before the
// continuation is sent, so a refused message is never transferred.
func cmdAppend(ctx context.Context, c *conn, cmd *command) error {
	dec := cmd.dec
	var name string
	if !dec.ExpectSP() || !dec.ExpectMailbox(&name) {
		return dec.Err()
	}
	if dec.EOL() {
		return bad("", "Error in IMAP command APPEND: Missing message size")
	}
	if !dec.ExpectSP() {
		return dec.Err()
	}
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
	var lit imapwire.LiteralInfo
	if !dec.LiteralHeader(&lit) {
		switch {
		case dec.Err() != nil:
			return dec.Err()
		case dec.EOL():
			return bad("", "Error in IMAP command APPEND: Missing message size")
		}
		return bad("", "Error in IMAP command APPEND: Invalid arguments.")
	}
	if err := c.checkAppend(ctx, name, lit); err != nil {
		if lit.NonSync && lit.Size > c.srv.opts.MaxAppendSize {
			return imapwire.ErrLiteralTooLarge // data is on its way: disconnect
		}
		return err
	}
	body, err := dec.LiteralBody(lit)
	if err != nil {
		return err
	}
	res, err := c.user.Append(ctx, name, storage.AppendMessage{Body: body, Size: lit.Size, Flags: flags, InternalDate: date})
	if dec.Err() != nil {
		return dec.Err() // the connection broke while reading the message
	}
	if err != nil {
		return c.destError("append to "+name, err)
	}
	if !dec.ExpectCRLF() {
		return dec.Err()
	}
	cmd.okCode = "APPENDUID " + strconv.FormatUint(uint64(res.UIDValidity), 10) + " " + strconv.FormatUint(uint64(res.UID), 10)
	return nil
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

// checkAppend refuses an APPEND before the message is sent.
func (c *conn) checkAppend(ctx context.Context, name string, lit imapwire.LiteralInfo) error {
	if lit.Size > c.srv.opts.MaxAppendSize {
		return no("TOOBIG", "Mail size is larger than the maximum size allowed by server configuration")
	}
	if lit.Size == 0 {
		return no("", "Can't save a zero byte message.")
	}
	if !lit.NonSync {
		if _, err := c.user.Status(ctx, name); err != nil {
			return c.destError("append to "+name, err)
		}
	}
	return nil
}
