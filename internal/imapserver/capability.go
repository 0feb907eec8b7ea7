package imapserver

import (
	"strconv"
	"strings"
)

// capabilities returns the CAPABILITY list for the connection's state, as
// Dovecot orders it: pre-login (imap-login) and post-login (imap) lists
// differ. Only what is implemented is advertised.
func (c *conn) capabilities() string {
	caps := []string{"IMAP4rev1", "IMAP4rev2", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE"}
	if c.state == stateNotAuth {
		caps = append(caps, c.literalCap())
		if c.srv.opts.TLS != nil && !c.ci.TLS {
			caps = append(caps, "STARTTLS")
		}
		if !c.srv.opts.Auth.PlaintextAllowed(c.ci) {
			caps = append(caps, "LOGINDISABLED")
		}
		for _, m := range c.srv.opts.Auth.Mechanisms(c.ci) {
			caps = append(caps, "AUTH="+strings.ToUpper(m))
		}
		return strings.Join(caps, " ")
	}
	caps = append(caps, "SORT", "SORT=DISPLAY", "THREAD=REFERENCES", "THREAD=REFS",
		"THREAD=ORDEREDSUBJECT", "MULTIAPPEND", "URL-PARTIAL", "CATENATE", "UNSELECT", "CHILDREN", "NAMESPACE",
		"UIDPLUS", "LIST-EXTENDED", "I18NLEVEL=1", "UTF8=ACCEPT", "CONDSTORE", "QRESYNC", "ESEARCH", "ESORT", "SEARCHRES", "WITHIN",
		"CONTEXT=SEARCH", "SNIPPET=FUZZY", "PREVIEW=FUZZY", "PREVIEW", // feature_contextsearch.go, feature_preview.go
		"LIST-STATUS", "BINARY", "MOVE", "STATUS=SIZE", "SAVEDATE", c.literalCap(), "NOTIFY", "SPECIAL-USE", "COMPRESS=DEFLATE", "REPLACE")
	caps = append(caps, "CREATE-SPECIAL-USE")
	caps = append(caps, c.metadataCaps()...)
	if u := c.srv.opts.ImapsieveURL; u != "" { // imapsieve
		caps = append(caps, "IMAPSIEVE="+u)
	}
	if n := c.srv.opts.AppendLimit; n > 0 {
		caps = append(caps, "APPENDLIMIT="+strconv.FormatInt(n, 10))
	}
	return strings.Join(caps, " ")
}

func (c *conn) literalCap() string {
	if c.srv.opts.LiteralMinus {
		return "LITERAL-"
	}
	return "LITERAL+"
}
