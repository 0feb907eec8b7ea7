package delivery

import (
	"strings"
	"time"
)

// Trace is what the delivery adds in front of the message, in Dovecot's
// order: Return-Path, Delivered-To, the lda_original_recipient_header,
// Received.
type Trace struct {
	// ReturnPath adds "Return-Path: <Sender>" (LMTP; the LDA leaves it to
	// the MTA, as Postfix pipe's R flag).
	ReturnPath bool
	Sender     string // envelope sender, "" for the null path
	// DeliveredTo is the value of Delivered-To ("" adds none). Dovecot
	// adds it when the transaction has one recipient
	// (lmtp_hdr_delivery_address).
	DeliveredTo string
	// OriginalRecipientHeader names a header holding OriginalRecipient
	// (lda_original_recipient_header).
	OriginalRecipientHeader string
	OriginalRecipient       string
	// Received adds a Received header (lmtp_add_received_header).
	Received *Received
}

// Received is the content of the Received header LMTP adds.
type Received struct {
	Helo      string // LHLO name
	RemoteIP  string // "" on a unix socket
	Hostname  string // hostname setting
	SessionID string
	For       string // the one recipient; "" with several
	Time      time.Time
}

// Header renders the trace header block, each line ending in CRLF.
func (t Trace) Header() []byte {
	var b strings.Builder
	if t.ReturnPath {
		b.WriteString("Return-Path: <" + clean(t.Sender) + ">\r\n")
	}
	if t.DeliveredTo != "" {
		b.WriteString("Delivered-To: " + clean(t.DeliveredTo) + "\r\n")
	}
	if t.OriginalRecipientHeader != "" && t.OriginalRecipient != "" {
		b.WriteString(clean(t.OriginalRecipientHeader) + ": " + clean(t.OriginalRecipient) + "\r\n")
	}
	if r := t.Received; r != nil {
		r.write(&b, t.Sender)
	}
	return []byte(b.String())
}

// write renders Dovecot 2.3's Received header:
//
//	Received: from HELO ([IP])
//		by HOSTNAME with LMTP
//		id SESSION
//		(envelope-from <SENDER>)
//		for <RCPT>; DATE
func (r *Received) write(b *strings.Builder, sender string) {
	b.WriteString("Received: from " + clean(r.Helo))
	if r.RemoteIP != "" {
		b.WriteString(" ([" + r.RemoteIP + "])")
	}
	b.WriteString("\r\n\tby " + clean(r.Hostname) + " with LMTP\r\n\tid " + r.SessionID + "\r\n")
	b.WriteString("\t(envelope-from <" + clean(sender) + ">)")
	if r.For != "" {
		b.WriteString("\r\n\tfor <" + clean(r.For) + ">")
	}
	b.WriteString("; " + r.Time.Format("Mon, 02 Jan 2006 15:04:05 -0700") + "\r\n")
}

// clean keeps client-supplied text from breaking the header structure.
func clean(s string) string {
	if !strings.ContainsAny(s, "\r\n\x00") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return -1
		}
		return r
	}, s)
}
