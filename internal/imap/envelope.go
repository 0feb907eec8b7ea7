package imap

import "roost/internal/message"

// Envelope returns the ENVELOPE of a message part (RFC 3501 section 7.4.2)
// without the surrounding parentheses, byte-identical to Dovecot 2.3: Sender
// and Reply-To default to From, subjects and display names are cleaned up
// for humans, a part without header gets ten NILs.
func Envelope(part *message.Part) []byte {
	return AppendEnvelope(nil, part.Envelope)
}

// AppendEnvelope appends the encoded envelope e (nil for none) to dst.
func AppendEnvelope(dst []byte, e *message.Envelope) []byte {
	if e == nil {
		return append(dst, "NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL"...)
	}
	dst = AppendNStringNoLF(dst, e.Date)
	dst = append(dst, ' ')
	if e.Subject == nil {
		dst = append(dst, "NIL"...)
	} else {
		dst = AppendHumanString(dst, *e.Subject)
	}
	sender, replyTo := e.Sender, e.ReplyTo
	if sender == nil {
		sender = e.From
	}
	if replyTo == nil {
		replyTo = e.From
	}
	for _, list := range [][]message.Address{e.From, sender, replyTo, e.To, e.Cc, e.Bcc} {
		dst = append(dst, ' ')
		dst = appendAddresses(dst, list)
	}
	dst = append(dst, ' ')
	dst = AppendNStringNoLF(dst, e.InReplyTo)
	dst = append(dst, ' ')
	return AppendNStringNoLF(dst, e.MessageID)
}

func appendAddresses(dst []byte, list []message.Address) []byte {
	if len(list) == 0 {
		return append(dst, "NIL"...)
	}
	dst = append(dst, '(')
	for _, a := range list {
		dst = append(dst, '(')
		if a.Name == nil {
			dst = append(dst, "NIL"...)
		} else {
			dst = AppendHumanString(dst, *a.Name)
		}
		dst = append(dst, ' ')
		dst = AppendNString(dst, a.Route)
		dst = append(dst, ' ')
		dst = AppendNString(dst, a.Mailbox)
		dst = append(dst, ' ')
		dst = AppendNString(dst, a.Domain)
		dst = append(dst, ')')
	}
	return append(dst, ')')
}
