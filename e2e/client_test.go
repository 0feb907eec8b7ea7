package e2e

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// imapClient is a minimal synchronous IMAP client over rawConn for test set-up and checks.
type imapClient struct {
	t   testing.TB
	rc  *rawConn
	tr  transcript
	seq int
}

// dialIMAP connects and logs in; failures end the test.
func dialIMAP(t testing.TB, addr, user, pass string) *imapClient {
	t.Helper()
	c := &imapClient{t: t}
	rc, err := dialRaw(addr, 1, &c.tr)
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	c.rc = rc
	t.Cleanup(rc.close)
	c.must("LOGIN %s %s", quote(user), quote(pass))
	return c
}

// reply is the outcome of one command.
type reply struct {
	untagged []string
	status   string // "OK", "NO" or "BAD"
	line     string // the tagged line
}

// do runs one command; the command may contain no literals (see appendMsg).
func (c *imapClient) do(format string, args ...any) (reply, error) {
	c.seq++
	tag := fmt.Sprintf("t%d", c.seq)
	if err := c.rc.send(tag + " " + fmt.Sprintf(format, args...) + "\r\n"); err != nil {
		return reply{}, err
	}
	return c.collect(tag)
}

func (c *imapClient) collect(tag string) (reply, error) {
	var r reply
	for {
		resp, err := c.rc.readResponse()
		if err != nil {
			return r, err
		}
		resp = strings.TrimSuffix(resp, "\r\n")
		if !strings.HasPrefix(resp, tag+" ") {
			r.untagged = append(r.untagged, resp)
			continue
		}
		r.line = resp
		r.status, _, _ = strings.Cut(strings.TrimPrefix(resp, tag+" "), " ")
		return r, nil
	}
}

// must runs a command that has to succeed.
func (c *imapClient) must(format string, args ...any) reply {
	c.t.Helper()
	r, err := c.do(format, args...)
	if err != nil {
		c.t.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
	if r.status != "OK" {
		c.t.Fatalf("%s: %s", fmt.Sprintf(format, args...), r.line)
	}
	return r
}

// appendMsg APPENDs msg (LF or CRLF line ends) and returns the APPENDUID uid (0 if none).
func (c *imapClient) appendMsg(mbox, flags, date, msg string) (uint32, error) {
	c.seq++
	tag := fmt.Sprintf("t%d", c.seq)
	body := crlf(msg)
	args := quote(mbox)
	if flags != "" {
		args += " (" + flags + ")"
	}
	if date != "" {
		args += ` "` + date + `"`
	}
	if err := c.rc.send(fmt.Sprintf("%s APPEND %s {%d+}\r\n%s\r\n", tag, args, len(body), body)); err != nil {
		return 0, err
	}
	r, err := c.collect(tag)
	if err != nil {
		return 0, err
	}
	if r.status != "OK" {
		return 0, fmt.Errorf("append: %s", r.line)
	}
	m := appendUID.FindStringSubmatch(r.line)
	if m == nil {
		return 0, nil
	}
	uid, _ := strconv.ParseUint(m[1], 10, 32)
	return uint32(uid), nil
}

func (c *imapClient) mustAppend(mbox, flags, date, msg string) uint32 {
	c.t.Helper()
	uid, err := c.appendMsg(mbox, flags, date, msg)
	if err != nil {
		c.t.Fatalf("append to %s: %v", mbox, err)
	}
	return uid
}

func (c *imapClient) logout() {
	c.do("LOGOUT")
	c.rc.close()
}

var (
	appendUID  = regexp.MustCompile(`\[APPENDUID \d+ (\d+)\]`)
	copyUID    = regexp.MustCompile(`\[COPYUID \d+ (\S+) (\S+)\]`)
	listLine   = regexp.MustCompile(`^\* LIST \(([^)]*)\) (?:"[^"]*"|NIL) (.*)$`)
	statusItem = regexp.MustCompile(`([A-Z]+) (\d+)`)
	fetchUID   = regexp.MustCompile(`UID (\d+)`)
	fetchFlags = regexp.MustCompile(`FLAGS \(([^)]*)\)`)
	fetchDate  = regexp.MustCompile(`INTERNALDATE "([^"]*)"`)
	fetchSize  = regexp.MustCompile(`RFC822\.SIZE (\d+)`)
)

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// mailboxes returns the names from LIST "" "*", with \Noselect/\NonExistent ones marked.
func (c *imapClient) mailboxes() map[string]bool {
	c.t.Helper()
	r := c.must(`LIST "" "*"`)
	boxes := map[string]bool{}
	for _, l := range r.untagged {
		m := listLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		name := unquote(m[2])
		attrs := strings.ToLower(m[1])
		boxes[name] = !strings.Contains(attrs, `\noselect`) && !strings.Contains(attrs, `\nonexistent`)
	}
	return boxes
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' {
		return strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(s[1 : len(s)-1])
	}
	return s
}

// msgState is what a store must preserve about one message.
type msgState struct {
	UID     uint32
	Flags   string // sorted, without \Recent
	Date    string
	Size    int
	Subject string
}

// boxState is what a store must preserve about one mailbox.
type boxState struct {
	UIDValidity, UIDNext uint32
	Msgs                 []msgState
}

// snapshot reads a mailbox read-only: EXAMINE, UID FETCH 1:*.
func (c *imapClient) snapshot(mbox string) boxState {
	c.t.Helper()
	var st boxState
	r := c.must("EXAMINE %s", quote(mbox))
	for _, l := range r.untagged {
		if v, ok := respCode(l, "UIDVALIDITY"); ok {
			st.UIDValidity = v
		}
		if v, ok := respCode(l, "UIDNEXT"); ok {
			st.UIDNext = v
		}
	}
	r = c.must("UID FETCH 1:* (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
	for _, l := range r.untagged {
		if !strings.Contains(l, " FETCH ") {
			continue
		}
		st.Msgs = append(st.Msgs, parseFetch(l))
	}
	sort.Slice(st.Msgs, func(i, j int) bool { return st.Msgs[i].UID < st.Msgs[j].UID })
	c.must("UNSELECT")
	return st
}

func respCode(line, code string) (uint32, bool) {
	prefix := "* OK [" + code + " "
	if !strings.HasPrefix(line, prefix) {
		return 0, false
	}
	num, _, _ := strings.Cut(line[len(prefix):], "]")
	v, err := strconv.ParseUint(num, 10, 32)
	return uint32(v), err == nil
}

func parseFetch(l string) msgState {
	var m msgState
	if s := fetchUID.FindStringSubmatch(l); s != nil {
		v, _ := strconv.ParseUint(s[1], 10, 32)
		m.UID = uint32(v)
	}
	if s := fetchFlags.FindStringSubmatch(l); s != nil {
		m.Flags = normFlags(s[1])
	}
	if s := fetchDate.FindStringSubmatch(l); s != nil {
		m.Date = s[1]
	}
	if s := fetchSize.FindStringSubmatch(l); s != nil {
		m.Size, _ = strconv.Atoi(s[1])
	}
	if i := strings.Index(strings.ToLower(l), "subject: "); i >= 0 {
		m.Subject, _, _ = strings.Cut(l[i+len("subject: "):], "\r\n")
	}
	return m
}

// normFlags sorts a flag list and drops \Recent (which belongs to a session, not the store).
func normFlags(list string) string {
	var keep []string
	for _, f := range strings.Fields(list) {
		if !strings.EqualFold(f, `\Recent`) {
			keep = append(keep, f)
		}
	}
	sort.Strings(keep)
	return strings.Join(keep, " ")
}

// status returns the numeric STATUS items of a mailbox.
func (c *imapClient) status(mbox, items string) map[string]uint32 {
	c.t.Helper()
	r := c.must("STATUS %s (%s)", quote(mbox), items)
	out := map[string]uint32{}
	for _, l := range r.untagged {
		if !strings.HasPrefix(l, "* STATUS ") {
			continue
		}
		for _, m := range statusItem.FindAllStringSubmatch(l, -1) {
			v, _ := strconv.ParseUint(m[2], 10, 32)
			out[m[1]] = uint32(v)
		}
	}
	return out
}
