package message

// Address is one entry of an address list as Dovecot's message_address_parse
// returns it with fill_missing set (RFC 5322 section 3.4). A group is two
// entries: a start with Mailbox set to the group's display name and Domain
// nil, and an end with every field nil. Nil means NIL in IMAP; broken
// addresses get the placeholders MISSING_MAILBOX, MISSING_DOMAIN,
// SYNTAX_ERROR and INVALID_ROUTE exactly as Dovecot 2.3 produces them.
type Address struct {
	Name, Route, Mailbox, Domain *string
	// InvalidSyntax is set when the address had to be repaired.
	InvalidSyntax bool
}

// MaxAddresses bounds the number of addresses parsed from one header.
const MaxAddresses = 10000

type addrParser struct {
	p       rfcParser
	comment []byte
	addrs   []Address
	cur     Address
	str     []byte
}

func strp(s string) *string { return &s }

// ParseAddressList parses an address-list header value (unfolded or not).
// It returns nil when the value holds no address at all.
func ParseAddressList(value []byte) []Address {
	ap := &addrParser{}
	ap.p = rfcParser{data: value, nulRepl: nulReplacement}
	ap.p.comment = &ap.comment
	if ap.p.skipLWSP() <= 0 {
		return nil
	}
	ap.parseAddressList(MaxAddresses)
	return ap.addrs
}

func (a *addrParser) add() {
	a.addrs = append(a.addrs, a.cur)
	a.cur = Address{}
}

func (a *addrParser) parseLocalPart() int {
	a.str = a.str[:0]
	var ret int
	if a.p.data[a.p.pos] == '"' {
		ret = a.p.parseQuotedString(&a.str)
	} else {
		ret = a.parseNonStrictDotAtom()
	}
	if ret < 0 {
		return -1
	}
	a.cur.Mailbox = strp(string(a.str))
	return ret
}

// parseNonStrictDotAtom reads a local-part that may have leading, trailing
// or doubled dots (Dovecot's MESSAGE_ADDRESS_PARSE_FLAG_NON_STRICT_DOTS).
func (a *addrParser) parseNonStrictDotAtom() int {
	p := &a.p
	ret := -1
	for {
		for p.cur() == '.' {
			a.str = append(a.str, '.')
			p.pos++
			if p.pos >= len(p.data) {
				return 0
			}
			ret = 1
		}
		if p.data[p.pos] == '@' {
			break
		}
		ret = p.parseAtom(&a.str)
		if ret <= 0 || p.data[p.pos] != '.' {
			break
		}
	}
	return ret
}

func (a *addrParser) parseDomain() int {
	a.str = a.str[:0]
	ret := a.p.parseDomain(&a.str)
	if ret < 0 {
		return -1
	}
	a.cur.Domain = strp(string(a.str))
	return ret
}

func (a *addrParser) parseDomainList() int {
	a.str = a.str[:0]
	for {
		if a.p.pos >= len(a.p.data) {
			return 0
		}
		if a.p.data[a.p.pos] != '@' {
			break
		}
		if len(a.str) > 0 {
			a.str = append(a.str, ',')
		}
		a.str = append(a.str, '@')
		if ret := a.p.parseDomain(&a.str); ret <= 0 {
			return ret
		}
		for a.p.skipLWSP() > 0 && a.p.data[a.p.pos] == ',' {
			a.p.pos++
		}
	}
	a.cur.Route = strp(string(a.str))
	return 1
}

func (a *addrParser) parseAngleAddr() int {
	a.p.pos++ // '<'
	if a.p.skipLWSP() <= 0 {
		return -1
	}
	if a.p.data[a.p.pos] == '@' {
		if a.parseDomainList() > 0 && a.p.cur() == ':' {
			a.p.pos++
		} else {
			a.cur.Route = strp("INVALID_ROUTE")
			if a.p.pos >= len(a.p.data) {
				return -1
			}
		}
		if a.p.skipLWSP() <= 0 {
			return -1
		}
	}
	if a.p.data[a.p.pos] != '>' {
		if a.parseLocalPart() <= 0 {
			return -1
		}
		if a.p.data[a.p.pos] == '@' {
			if a.parseDomain() <= 0 {
				return -1
			}
		}
	}
	if a.p.data[a.p.pos] != '>' {
		return -1
	}
	a.p.pos++
	return a.p.skipLWSP()
}

func (a *addrParser) parseNameAddr() int {
	a.str = a.str[:0]
	if a.p.parsePhrase(&a.str) <= 0 || a.p.data[a.p.pos] != '<' {
		return -1
	}
	if len(a.str) > 0 {
		a.cur.Name = strp(string(a.str))
	}
	if a.parseAngleAddr() < 0 {
		a.cur.Domain = strp("SYNTAX_ERROR")
		a.cur.InvalidSyntax = true
	}
	return a.p.status()
}

func (a *addrParser) parseAddrSpec() int {
	ret2 := -2
	a.comment = a.comment[:0]
	quoted := a.p.data[a.p.pos] == '"'
	ret := a.parseLocalPart()
	if ret <= 0 {
		a.cur.InvalidSyntax = true
	}
	if ret != 0 && a.p.pos < len(a.p.data) && a.p.data[a.p.pos] == '@' {
		ret2 = a.parseDomain()
		if ret2 <= 0 {
			ret = ret2
		}
	}
	if len(a.comment) > 0 {
		a.cur.Name = strp(string(a.comment))
	} else if ret2 == -2 {
		// A lone "user" is a mailbox; anything after it makes it a
		// display name.
		a.str = append(a.str, ' ')
		n := len(a.str)
		a.p.parsePhrase(&a.str)
		if len(a.str) != n {
			a.cur.Mailbox = nil
			a.cur.Name = strp(string(a.str))
		} else if !quoted {
			a.cur.Domain = strp("")
		}
		a.cur.InvalidSyntax = true
		ret = -1
	}
	return ret
}

func (a *addrParser) addFixed() {
	if a.cur.Mailbox == nil {
		a.cur.Mailbox = strp("MISSING_MAILBOX")
		a.cur.InvalidSyntax = true
	}
	if a.cur.Domain == nil || *a.cur.Domain == "" {
		a.cur.Domain = strp("MISSING_DOMAIN")
		a.cur.InvalidSyntax = true
	}
	a.add()
}

func (a *addrParser) parseMailbox() int {
	start := a.p.pos
	ret := a.parseNameAddr()
	if ret < 0 {
		a.p.pos = start
		ret = a.parseAddrSpec()
		if a.cur.InvalidSyntax && a.cur.Name == nil && a.cur.Mailbox != nil && a.cur.Domain == nil {
			a.cur.Name, a.cur.Mailbox = a.cur.Mailbox, nil
		}
	}
	if ret < 0 {
		a.cur.InvalidSyntax = true
	}
	a.addFixed()
	return ret
}

func (a *addrParser) parseGroup() int {
	a.str = a.str[:0]
	if a.p.parsePhrase(&a.str) <= 0 || a.p.data[a.p.pos] != ':' {
		return -1
	}
	a.p.pos++
	ret := a.p.skipLWSP()
	if ret <= 0 {
		a.cur.InvalidSyntax = true
	}
	a.cur.Mailbox = strp(string(a.str))
	a.add()
	if ret > 0 && a.p.data[a.p.pos] != ';' {
		for {
			a.parseMailbox()
			if a.p.pos >= len(a.p.data) || a.p.data[a.p.pos] != ',' {
				break
			}
			a.p.pos++
			if a.p.skipLWSP() <= 0 {
				ret = -1
				break
			}
		}
	}
	if ret >= 0 {
		if a.p.pos >= len(a.p.data) || a.p.data[a.p.pos] != ';' {
			ret = -1
		} else {
			a.p.pos++
			ret = a.p.skipLWSP()
		}
	}
	if ret < 0 {
		a.cur.InvalidSyntax = true
	}
	a.add()
	if ret == 0 {
		return 0
	}
	return 1
}

func (a *addrParser) parseAddress() int {
	start := a.p.pos
	ret := a.parseGroup()
	if ret < 0 {
		a.p.pos = start
		a.cur = Address{}
		ret = a.parseMailbox()
	}
	return ret
}

func (a *addrParser) parseAddressList(max int) {
	for ; max > 0; max-- {
		if a.parseAddress() == 0 {
			break
		}
		if a.p.pos >= len(a.p.data) || a.p.data[a.p.pos] != ',' {
			break
		}
		a.p.pos++
		if ret := a.p.skipLWSP(); ret <= 0 {
			if ret < 0 {
				a.addFixed()
			}
			break
		}
	}
}
