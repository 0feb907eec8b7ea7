package e2e

import (
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Scripted IMAP sessions (testdata/imap/*.txt).
//
// One client line per script line; `#` starts a comment line, blank lines are ignored.
//
//	@2 b1 LOGIN bob bobpw     a line for connection 2 (default 1); a connection opens on first
//	                          use and its greeting is recorded
//	a1 APPEND INBOX (\Seen) <<EOF
//	Subject: hi               a synchronising literal: the lines up to the terminator, each
//	                          ending in CRLF; the runner writes {N} and waits for "+"
//	EOF                       the terminator; `EOF rest` continues the command with " rest"
//	<<+EOF                    the same as a non-synchronising literal {N+}
//	<<~EOF  <<+~EOF           a literal without the final CRLF (say, a password)
//
// After a command the runner reads until its tagged completion or a continuation request; a
// line sent while a command waits for continuation (DONE after IDLE) continues that command.
// Directives:
//
//	!wait PREFIX    read until a response starting with PREFIX (IDLE updates)
//	!raw TEXT       send TEXT CRLF and read nothing
//	!eof            read until the server closes the connection
//	!close          close the connection from the client side
//
// In a command line `<UIDVALIDITY>` stands for the UIDVALIDITY the server last sent on that
// connection (SELECT, EXAMINE, STATUS): QRESYNC parameters need the real value; the transcript
// keeps the placeholder.
//
// A comment line `# env: tls` runs the script with ssl = yes and a self-signed certificate; a
// tagged OK to STARTTLS then upgrades the connection. `# env: conf KEY = VALUE` adds a setting
// (Dovecot's NOTIFY needs mailbox_list_index = yes).
type script struct {
	name   string
	lines  []string
	tls    bool
	config string // extra dovecot.conf lines
}

func parseScript(name, text string) *script {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	s := &script{name: name, lines: strings.Split(strings.TrimRight(text, "\n"), "\n")}
	for _, l := range s.lines {
		if strings.TrimSpace(l) == "# env: tls" {
			s.tls = true
		}
		if conf, ok := strings.CutPrefix(strings.TrimSpace(l), "# env: conf "); ok {
			s.config += conf + "\n"
		}
	}
	return s
}

// part is a piece of a command line, optionally followed by a literal.
type part struct {
	text    string
	literal *string
	plus    bool // {N+}
}

var literalMarker = regexp.MustCompile(`<<(\+?)(~?)([A-Z]+)$`)

// scriptRun executes a script against one server.
type scriptRun struct {
	addr  string
	conns map[int]*rawConn
	tr    transcript
}

// runScript runs s against the IMAP server at addr and returns the raw transcript. Failures
// (timeouts, unexpected EOF) are recorded in the transcript and end the run.
func runScript(addr string, s *script) string {
	r := &scriptRun{addr: addr, conns: map[int]*rawConn{}}
	defer func() {
		for _, c := range r.conns {
			c.close()
		}
	}()
	for i := 0; i < len(s.lines); i++ {
		line := s.lines[i]
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, rest := connPrefix(line)
		if strings.HasPrefix(rest, "!") {
			if err := r.directive(id, rest); err != nil {
				r.tr.note(id, "%s:%d: %s", s.name, i+1, errText(err))
				break
			}
			continue
		}
		parts, next, err := commandParts(s.lines, i, rest)
		if err != nil {
			r.tr.note(id, "%s:%d: %s", s.name, i+1, errText(err))
			break
		}
		i = next
		if err := r.command(id, parts); err != nil {
			r.tr.note(id, "%s:%d: %s", s.name, i+1, errText(err))
			break
		}
	}
	return r.tr.String()
}

// errText describes a failed step without volatile detail (addresses, ports).
func errText(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection closed by server"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout waiting for the server"
	}
	return addrPort.ReplaceAllString(err.Error(), "ADDR")
}

var addrPort = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+`)

func connPrefix(line string) (int, string) {
	if !strings.HasPrefix(line, "@") {
		return 1, line
	}
	num, rest, _ := strings.Cut(line[1:], " ")
	id, err := strconv.Atoi(num)
	if err != nil {
		return 1, line
	}
	return id, rest
}

// commandParts splits a command into parts at heredoc literals; it returns the index of the
// last script line consumed.
func commandParts(lines []string, i int, text string) ([]part, int, error) {
	var parts []part
	for {
		m := literalMarker.FindStringSubmatchIndex(text)
		if m == nil {
			return append(parts, part{text: text}), i, nil
		}
		plus, trim, term := m[3] > m[2], m[5] > m[4], text[m[6]:m[7]]
		var body strings.Builder
		j := i + 1
		for ; j < len(lines); j++ {
			if lines[j] == term || strings.HasPrefix(lines[j], term+" ") {
				break
			}
			body.WriteString(lines[j] + "\r\n")
		}
		if j == len(lines) {
			return nil, i, fmt.Errorf("literal terminator %s not found", term)
		}
		lit := body.String()
		if trim {
			lit = strings.TrimSuffix(lit, "\r\n")
		}
		parts = append(parts, part{text: text[:m[0]], literal: &lit, plus: plus})
		text = strings.TrimPrefix(lines[j], term)
		i = j
	}
}

func (r *scriptRun) conn(id int) (*rawConn, error) {
	if c, ok := r.conns[id]; ok {
		if c.closed {
			return nil, fmt.Errorf("connection %d is closed", id)
		}
		return c, nil
	}
	c, err := dialRaw(r.addr, id, &r.tr)
	if c != nil {
		r.conns[id] = c
	}
	return c, err
}

func (r *scriptRun) directive(id int, line string) error {
	verb, arg, _ := strings.Cut(line, " ")
	c, err := r.conn(id)
	if err != nil {
		return err
	}
	switch verb {
	case "!wait":
		_, err := c.readUntil(func(resp string) bool { return strings.HasPrefix(resp, arg) })
		return err
	case "!raw":
		return c.send(arg + "\r\n")
	case "!eof":
		return c.readToEOF()
	case "!close":
		c.close()
		c.tr.note(id, "connection closed by client")
		return nil
	}
	return fmt.Errorf("unknown directive %s", verb)
}

// command sends one command (or the continuation of a pending one) and reads the answer.
func (r *scriptRun) command(id int, parts []part) error {
	c, err := r.conn(id)
	if err != nil {
		return err
	}
	tag := c.pending
	if tag == "" {
		tag, _, _ = strings.Cut(parts[0].text, " ")
	}
	for _, p := range parts {
		if p.literal == nil {
			if err := r.sendFilled(id, c, p.text+"\r\n"); err != nil {
				return err
			}
			break
		}
		marker := fmt.Sprintf("{%d}", len(*p.literal))
		if p.plus {
			marker = fmt.Sprintf("{%d+}", len(*p.literal))
		}
		if err := c.send(p.text + marker + "\r\n"); err != nil {
			return err
		}
		if !p.plus {
			resp, err := c.awaitTagOrContinuation(tag)
			if err != nil {
				return err
			}
			if !strings.HasPrefix(resp, "+") {
				c.pending = ""
				return nil // the server refused the literal; the script goes on
			}
		}
		if err := c.send(*p.literal); err != nil {
			return err
		}
	}
	resp, err := c.awaitTagOrContinuation(tag)
	if err != nil {
		return err
	}
	wasPending := c.pending != ""
	c.pending = ""
	if strings.HasPrefix(resp, "+") {
		c.pending = tag
		return nil
	}
	if f := strings.Fields(parts[0].text); !wasPending && len(f) == 2 && strings.EqualFold(f[1], "STARTTLS") &&
		strings.HasPrefix(resp, tag+" OK") {
		return c.startTLS()
	}
	return nil
}

// uidValidityPlaceholder is replaced by the connection's last UIDVALIDITY before sending.
const uidValidityPlaceholder = "<UIDVALIDITY>"

var sentUIDValidity = regexp.MustCompile(`^S(\d+): .*\bUIDVALIDITY (\d+)`)

// sendFilled sends data with uidValidityPlaceholder filled in from the transcript of connection
// id, and records data as written in the script.
func (r *scriptRun) sendFilled(id int, c *rawConn, data string) error {
	if !strings.Contains(data, uidValidityPlaceholder) {
		return c.send(data)
	}
	v := "0"
	for i := len(r.tr.lines) - 1; i >= 0; i-- {
		if m := sentUIDValidity.FindStringSubmatch(r.tr.lines[i]); m != nil && m[1] == strconv.Itoa(id) {
			v = m[2]
			break
		}
	}
	c.tr.add('C', c.id, data)
	c.c.SetWriteDeadline(time.Now().Add(stepTimeout))
	if _, err := io.WriteString(c.c, strings.ReplaceAll(data, uidValidityPlaceholder, v)); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// Normalisation of transcripts before comparison. Only fields that legitimately differ between
// two correct servers (or between two runs of one) are rewritten.

// outOfScopeCaps are dropped from compared capability lists: what Dovecot 2.3 advertises only
// with plugins roost does not have (quota, acl, urlauth), and what roost offers by default on top
// of Dovecot's default set (DESIGN.md section 1 allows a superset; Dovecot offers NOTIFY and
// COMPRESS=DEFLATE only with mailbox_list_index and the zlib plugin). Everything else, every
// extension both implement, is compared, sorted and de-duplicated.
var outOfScopeCaps = map[string]bool{
	"QUOTA": true, "ACL": true, "RIGHTS=TEXK": true, "URLAUTH": true,
	"NOTIFY": true, "COMPRESS=DEFLATE": true, "LITERAL-": true, "REPLACE": true,
	"CREATE-SPECIAL-USE": true, "IMAP4REV2": true, "UTF8=ACCEPT": true,
}

var (
	capsInCode     = regexp.MustCompile(`\[CAPABILITY ([^\]]*)\]`)
	capsUntagged   = regexp.MustCompile(`^\* CAPABILITY (.*)$`)
	statusLine     = regexp.MustCompile(`^(\S+) (OK|NO|BAD|BYE|PREAUTH)(?: (\[[^\]]*\]))?(?: .*)?$`)
	uidValidity    = regexp.MustCompile(`(UIDVALIDITY|APPENDUID|COPYUID) (\d+)`)
	internalDate   = regexp.MustCompile(`INTERNALDATE "([^"]*)"`)
	idResponse     = regexp.MustCompile(`^\* ID \(.*\)$`)
	authWaitingMsg = "* OK Waiting for authentication"
)

// normalize rewrites volatile fields of a raw transcript:
//   - Dovecot's "* OK Waiting for authentication process" line is dropped, and so is the IDLE
//     keepalive "* OK Still here", which comes when a timer fires, not at a fixed point;
//   - capability lists drop out-of-scope extensions and are sorted;
//   - human-readable text after OK/NO/BAD/BYE/PREAUTH [code] and after "+" is dropped
//     (DESIGN.md section 1: reply text may differ; timings and dates live there);
//   - UIDVALIDITY values (also in APPENDUID/COPYUID) become <V1>, <V2>... by first appearance;
//   - an INTERNALDATE within a day of now (APPEND without a date) becomes <now>;
//   - the ID response's server fields become (...);
//   - runs of LIST/LSUB responses are sorted;
//   - runs of EXPUNGE responses are rewritten to the equivalent descending order (expunging
//     5,4,3 or 3,3,3 removes the same messages).
func normalize(raw string, now time.Time) string {
	uidv := map[string]string{}
	var out []string
	for _, line := range strings.Split(strings.TrimRight(raw, "\n"), "\n") {
		head, body, ok := strings.Cut(line, ": ")
		if !ok || !strings.HasPrefix(head, "S") {
			out = append(out, line)
			continue
		}
		if strings.HasPrefix(body, authWaitingMsg) || body == "* OK Still here" {
			continue
		}
		body = normalizeServerLine(body, uidv, now)
		out = append(out, head+": "+body)
	}
	sortListRuns(out)
	canonicalExpungeRuns(out)
	return strings.Join(out, "\n") + "\n"
}

// sortListRuns sorts each run of consecutive LIST, LSUB or STATUS responses on one connection:
// Dovecot lists mailboxes in directory order, which depends on the filesystem (NOTIFY SET STATUS
// answers in that order too).
func sortListRuns(lines []string) {
	isList := func(l string) (string, bool) {
		head, body, _ := strings.Cut(l, ": ")
		if strings.HasPrefix(head, "S") &&
			(strings.HasPrefix(body, "* LIST ") || strings.HasPrefix(body, "* LSUB ") ||
				strings.HasPrefix(body, "* STATUS ")) {
			return head + body[:7], true
		}
		return "", false
	}
	for i := 0; i < len(lines); {
		key, ok := isList(lines[i])
		if !ok {
			i++
			continue
		}
		j := i + 1
		for j < len(lines) {
			if k, ok := isList(lines[j]); !ok || k != key {
				break
			}
			j++
		}
		sort.Strings(lines[i:j])
		i = j
	}
}

func normalizeServerLine(s string, uidv map[string]string, now time.Time) string {
	s = capsInCode.ReplaceAllStringFunc(s, func(m string) string {
		return "[CAPABILITY " + filterCaps(capsInCode.FindStringSubmatch(m)[1]) + "]"
	})
	if m := capsUntagged.FindStringSubmatch(s); m != nil {
		s = "* CAPABILITY " + filterCaps(m[1])
	}
	if m := statusLine.FindStringSubmatch(s); m != nil {
		s = m[1] + " " + m[2]
		if m[3] != "" {
			s += " " + m[3]
		}
	}
	if strings.HasPrefix(s, "+") {
		s = "+"
	}
	s = uidValidity.ReplaceAllStringFunc(s, func(m string) string {
		sub := uidValidity.FindStringSubmatch(m)
		v, ok := uidv[sub[2]]
		if !ok {
			v = fmt.Sprintf("<V%d>", len(uidv)+1)
			uidv[sub[2]] = v
		}
		return sub[1] + " " + v
	})
	s = internalDate.ReplaceAllStringFunc(s, func(m string) string {
		return `INTERNALDATE "` + recentDate(internalDate.FindStringSubmatch(m)[1], now) + `"`
	})
	if idResponse.MatchString(s) {
		s = "* ID (...)"
	}
	return s
}

func filterCaps(list string) string {
	seen := map[string]bool{}
	var keep []string
	for _, c := range strings.Fields(list) {
		if outOfScopeCaps[strings.ToUpper(c)] || seen[strings.ToUpper(c)] {
			continue
		}
		seen[strings.ToUpper(c)] = true
		keep = append(keep, c)
	}
	sort.Strings(keep)
	return strings.Join(keep, " ")
}

// recentDate maps an INTERNALDATE within a day of now (an APPEND without a date) to "<now>".
func recentDate(date string, now time.Time) string {
	t, err := time.Parse("_2-Jan-2006 15:04:05 -0700", date)
	if err != nil {
		return date
	}
	if d := now.Sub(t); d < 24*time.Hour && d > -24*time.Hour {
		return "<now>"
	}
	return date
}

var expungeLine = regexp.MustCompile(`^(S\d+): \* (\d+) EXPUNGE$`)

// canonicalExpungeRuns rewrites each run of consecutive EXPUNGE responses on one connection so
// the same set of messages is removed highest sequence number first.
func canonicalExpungeRuns(lines []string) {
	for i := 0; i < len(lines); {
		m := expungeLine.FindStringSubmatch(lines[i])
		if m == nil {
			i++
			continue
		}
		head := m[1]
		var seqs []int
		j := i
		for ; j < len(lines); j++ {
			mj := expungeLine.FindStringSubmatch(lines[j])
			if mj == nil || mj[1] != head {
				break
			}
			n, _ := strconv.Atoi(mj[2])
			seqs = append(seqs, n)
		}
		orig := originalSeqs(seqs)
		sort.Sort(sort.Reverse(sort.IntSlice(orig)))
		for k, o := range orig {
			lines[i+k] = fmt.Sprintf("%s: * %d EXPUNGE", head, o)
		}
		i = j
	}
}

// originalSeqs maps successive EXPUNGE sequence numbers to the numbers the messages had before
// the first of them.
func originalSeqs(seqs []int) []int {
	var removed []int // sorted original numbers already expunged
	for _, n := range seqs {
		o := n
		for _, r := range removed { // removed is sorted: each earlier removal shifts by one
			if r <= o {
				o++
			}
		}
		removed = append(removed, o)
		sort.Ints(removed)
	}
	return removed
}
