package imapserver

import (
	"roost/internal/imapwire"
)

// Status response types (RFC 3501 section 7.1).
const (
	typeOK      = "OK"
	typeNO      = "NO"
	typeBAD     = "BAD"
	typeBYE     = "BYE"
	typePREAUTH = "PREAUTH"
)

// status is a status response as data: handlers return one (as an error)
// to finish a command with NO or BAD, or set cmd.ok* for OK.
type status struct {
	typ  string // typeOK, typeNO, typeBAD, typeBYE
	code string // response code without brackets, e.g. "TRYCREATE" or "UIDNEXT 5"; may be empty
	text string // human-readable text
	// badCount makes a BAD count toward Options.MaxBadCommands; set for
	// syntax errors and wrong-state commands.
	badCount bool
}

func (s *status) Error() string {
	if s.code != "" {
		return s.typ + " [" + s.code + "] " + s.text
	}
	return s.typ + " " + s.text
}

// no returns a tagged NO.
func no(code, text string) error { return &status{typ: typeNO, code: code, text: text} }

// bad returns a tagged BAD that counts as an invalid command.
func bad(code, text string) error {
	return &status{typ: typeBAD, code: code, text: text, badCount: true}
}

// writeStatus writes one status line; tag "" or "*" means untagged.
func writeStatus(enc *imapwire.Encoder, tag string, st *status) {
	if tag == "" || tag == "*" {
		enc.Star()
	} else {
		enc.Tag(tag)
	}
	enc.Atom(st.typ).SP()
	if st.code != "" {
		enc.Special('[').Text(st.code).Special(']').SP()
	}
	enc.Text(st.text).CRLF()
}

// untagged starts an untagged response: "* ". The caller writes the rest
// and ends it with CRLF.
func (c *conn) untagged() *imapwire.Encoder { return c.enc.Star() }

// untaggedStatus writes "* OK [code] text" (or NO, BAD, BYE).
func (c *conn) untaggedStatus(typ, code, text string) {
	writeStatus(c.enc, "", &status{typ: typ, code: code, text: text})
}
