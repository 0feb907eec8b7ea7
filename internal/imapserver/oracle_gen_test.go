package imapserver

// TestGenerateOracle records the section/search oracle from a private
// Dovecot on loopback. It runs only with -oracle.generate; see
// testdata/oracle/README.md.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"roost/internal/dovecottest"
	"roost/internal/message"
)

var oracleGenerate = flag.Bool("oracle.generate", false, "record "+oracleFile+" from a private Dovecot (needs /usr/sbin/dovecot)")

const (
	oracleMessages = 300 // messages in the oracle mailbox
	oraclePerFlag  = 15  // at most this many picked per manifest flag
	oracleTorture  = 150 // fill with torture/* messages up to this many
)

// oracleFetchItems are the FETCH items recorded per message, one FETCH
// each: the response names the item, the command uses .PEEK so that no
// \Seen flag changes appear.
var oracleFetchItems = []string{
	"BODY",
	"BODY.PEEK[HEADER]",
	"BODY.PEEK[TEXT]",
	"BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT DATE MESSAGE-ID CONTENT-TYPE)]",
	"BODY.PEEK[HEADER.FIELDS.NOT (RECEIVED)]",
	"BODY.PEEK[1]",
	"BODY.PEEK[1.MIME]",
	"BODY.PEEK[2]",
	"BODY.PEEK[1.1]",
	"BODY.PEEK[2.HEADER]",
	"BODY.PEEK[1]<0.20>",
	"BINARY.SIZE[1]",
}

func TestGenerateOracle(t *testing.T) {
	if !*oracleGenerate {
		t.Skip("run with -oracle.generate to record the oracle from Dovecot")
	}
	if _, err := os.Stat(dovecottest.Binary); err != nil {
		t.Fatalf("dovecot not installed: %v", err)
	}
	dir := oracleCorpusDir(t)
	paths, err := oracleSelect(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	addr := dovecottest.StartIMAP(t, dovecottest.Options{})
	g := &oracleGen{t: t, addr: addr}
	g.connect(false)
	var out []oracleExchange
	msgs := make([][]byte, 0, len(paths))
	for _, p := range paths {
		raw, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		msg := oracleAppendForm(raw)
		e := oracleExchange{Kind: "append", Path: p, UID: uint32(len(msgs) + 1), Cmd: "APPEND INBOX {" + strconv.Itoa(len(msg)) + "}"}
		resp, err := g.c.do("APPEND INBOX {" + strconv.Itoa(len(msg)) + "}\r\n" + string(msg))
		if err != nil || !bytes.HasPrefix(resp, []byte("T OK")) {
			t.Fatalf("APPEND %s: %q %v", p, resp, err)
		}
		e.setResp(resp)
		out = append(out, e)
		msgs = append(msgs, msg)
	}
	g.selectInbox()
	for i, msg := range msgs {
		uid := uint32(i + 1)
		for _, item := range oracleFetchItems {
			cmd := "UID FETCH " + strconv.Itoa(int(uid)) + " (" + item + ")"
			out = append(out, g.record("fetch", uid, strings.Replace(item, ".PEEK", "", 1), "", cmd))
		}
		for _, k := range oracleSearchKeys(msg) {
			out = append(out, g.record("search", uid, k.name, k.arg, "UID SEARCH "+k.args))
		}
	}
	g.c.do("LOGOUT")
	if err := dovecottest.WriteOracle(oracleFile, out); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d exchanges for %d messages", len(out), len(msgs))
}

type oracleGen struct {
	t    *testing.T
	addr string
	c    *rawClient
}

func (g *oracleGen) connect(sel bool) {
	g.t.Helper()
	nc, err := net.Dial("tcp", g.addr)
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { nc.Close() })
	if g.c, err = newRawClient(nc); err != nil {
		g.t.Fatal(err)
	}
	mustDo(g.t, g.c, "LOGIN "+dovecottest.User+" "+dovecottest.Password)
	if sel {
		g.selectInbox()
	}
}

func (g *oracleGen) selectInbox() {
	g.t.Helper()
	mustDo(g.t, g.c, "SELECT INBOX")
}

// record runs cmd and keeps the answer; when Dovecot hangs up (as it does
// on BINARY.SIZE of truncated base64) it reconnects.
func (g *oracleGen) record(kind string, uid uint32, item, arg, cmd string) oracleExchange {
	g.t.Helper()
	e := oracleExchange{Kind: kind, UID: uid, Item: item, Arg: arg, Cmd: cmd}
	resp, err := g.c.do(cmd)
	if errors.Is(err, errBye) {
		e.Bye = true
		g.connect(true)
	} else if err != nil {
		g.t.Fatalf("%s: %v", cmd, err)
	}
	e.setResp(resp)
	return e
}

// oracleSelect picks oracleMessages corpus messages deterministically: up
// to oraclePerFlag per manifest flag (rarest flag first), then torture
// messages, then the rest, each in order of the SHA-256 of the path.
func oracleSelect(manifest string) ([]string, error) {
	f, err := os.Open(manifest)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	type row struct {
		path, hash string
		flags      []string
	}
	var rows []row
	flagCount := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 4 || cols[0] == "path" || cols[1] == "0" {
			continue
		}
		h := sha256.Sum256([]byte(cols[0]))
		r := row{path: cols[0], hash: fmt.Sprintf("%x", h)}
		if cols[3] != "" {
			r.flags = strings.Split(cols[3], ",")
		}
		for _, fl := range r.flags {
			flagCount[fl]++
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(rows, func(a, b row) int { return strings.Compare(a.hash, b.hash) })
	flags := make([]string, 0, len(flagCount))
	for fl := range flagCount {
		flags = append(flags, fl)
	}
	slices.SortFunc(flags, func(a, b string) int {
		if d := flagCount[a] - flagCount[b]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	picked := map[string]bool{}
	var out []string
	take := func(ok func(row) bool, limit int) {
		n := 0
		for _, r := range rows {
			if n >= limit || len(out) >= oracleMessages {
				return
			}
			if !picked[r.path] && ok(r) {
				picked[r.path] = true
				out = append(out, r.path)
				n++
			}
		}
	}
	for _, fl := range flags {
		take(func(r row) bool { return slices.Contains(r.flags, fl) }, oraclePerFlag)
	}
	torture := 0
	for _, p := range out {
		if strings.HasPrefix(p, "torture/") {
			torture++
		}
	}
	take(func(r row) bool { return strings.HasPrefix(r.path, "torture/") }, oracleTorture-torture)
	take(func(row) bool { return true }, oracleMessages)
	return out, nil
}

// oracleKey is one UID SEARCH argument list built from a message.
type oracleKey struct {
	name string // key kind, e.g. "subject-utf8"
	arg  string // the word or value searched for
	args string // search-key list, literals inline
}

// oracleSearchKeys builds the SEARCH keys for one message from its own
// header and decoded text.
func oracleSearchKeys(msg []byte) []oracleKey {
	root := message.Parse(msg)
	fields := message.ParseHeader(msg[:root.BodyOffset()])
	var keys []oracleKey
	add := func(name, arg, args string) {
		if !utf8.ValidString(args) {
			return
		}
		if hasNonASCII(args) {
			args = "CHARSET UTF-8 " + args
		}
		keys = append(keys, oracleKey{name, arg, args})
	}
	subject := headerText(fields, "Subject")
	if w := pickWord(subject, false); w != "" {
		add("subject", w, "SUBJECT "+oracleQuote(w))
		add("not-subject", w, "NOT SUBJECT "+oracleQuote(w))
	}
	if w := pickWord(subject, true); w != "" {
		add("subject-utf8", w, "SUBJECT "+oracleQuote(w))
	}
	from, _ := message.FieldValue(fields, "From")
	var fromWord string
	if addrs := message.ParseAddressList(from); len(addrs) > 0 {
		a := addrs[0]
		if a.Name != nil {
			fromWord = pickWord(message.DecodedHeaderValue([]byte(*a.Name)), false)
			if w := fromWord; w != "" {
				add("from-name", w, "FROM "+oracleQuote(w))
			}
			if w := pickWord(message.DecodedHeaderValue([]byte(*a.Name)), true); w != "" {
				add("from-name-utf8", w, "FROM "+oracleQuote(w))
			}
		}
		if a.Mailbox != nil && a.Domain != nil {
			s := *a.Mailbox + "@" + *a.Domain
			add("from-addr", s, "FROM "+oracleQuote(s))
		}
	}
	if to, ok := message.FieldValue(fields, "To"); ok {
		if addrs := message.ParseAddressList(to); len(addrs) > 0 && addrs[0].Domain != nil {
			add("to-domain", *addrs[0].Domain, "TO "+oracleQuote(*addrs[0].Domain))
		}
	}
	texts := leafTexts(msg, root)
	body := strings.Join(texts, "\n")
	if w := pickWord(body, false); w != "" {
		add("body", w, "BODY "+oracleQuote(w))
		if fromWord != "" {
			add("or-from-body", w, "OR FROM "+oracleQuote(fromWord)+" BODY "+oracleQuote(w))
		}
		add("not-body", w, "NOT BODY "+oracleQuote(w))
	}
	if w := pickWord(body, true); w != "" {
		add("body-utf8", w, "BODY "+oracleQuote(w))
	}
	if p := pickPhrase(body); p != "" {
		add("body-phrase", p, "BODY "+oracleQuote(p))
	}
	if len(texts) > 0 {
		if w := pickWord(texts[len(texts)-1], false); w != "" {
			add("text", w, "TEXT "+oracleQuote(w))
		}
	}
	if w := pickWord(headerText(fields, lastFieldName(fields)), false); w != "" {
		add("text-header", w, "TEXT "+oracleQuote(w))
	}
	if mid, ok := message.FieldValue(fields, "Message-ID"); ok {
		s := strings.TrimSpace(string(mid))
		add("header-message-id", s, "HEADER Message-ID "+oracleQuote(s))
	} else {
		add("header-message-id", "", `HEADER Message-ID ""`)
	}
	addDateKeys(fields, add)
	size := strconv.Itoa(len(msg))
	less, more := strconv.Itoa(len(msg)-1), strconv.Itoa(len(msg)+1)
	add("larger", size, "LARGER "+less)
	add("smaller", size, "SMALLER "+more)
	add("size-exact", size, "LARGER "+less+" SMALLER "+more)
	if sw, bw := pickWord(subject, false), pickWord(body, false); sw != "" && bw != "" {
		add("not-or", sw+" "+bw, "NOT (OR SUBJECT "+oracleQuote(sw)+" TEXT "+oracleQuote(bw)+")")
	}
	return keys
}

func addDateKeys(fields []message.Field, add func(name, arg, args string)) {
	v, ok := message.FieldValue(fields, "Date")
	if !ok {
		add("sentbefore-nodate", "", "SENTBEFORE 2-Jan-1970")
		return
	}
	d, ok := message.ParseDate(v)
	if !ok {
		add("sentbefore-baddate", "", "SENTBEFORE 2-Jan-1970")
		return
	}
	day := d.Format("2-Jan-2006")
	add("senton", day, "SENTON "+day)
	add("sentbefore", day, "SENTBEFORE "+day)
	add("sentsince", day, "SENTSINCE "+day)
	next := d.AddDate(0, 0, 1).Format("2-Jan-2006")
	add("sentbefore-next", next, "SENTBEFORE "+next)
}

func headerText(fields []message.Field, name string) string {
	v, ok := message.FieldValue(fields, name)
	if !ok {
		return ""
	}
	return message.DecodedHeaderValue(v)
}

func lastFieldName(fields []message.Field) string {
	if len(fields) == 0 {
		return ""
	}
	return string(fields[len(fields)-1].Name)
}

// leafTexts returns the decoded text of every text/* leaf part.
func leafTexts(msg []byte, root *message.Part) []string {
	var out []string
	root.Walk(func(p *message.Part) {
		if len(p.Children) > 0 || p.Flags&message.FlagText == 0 {
			return
		}
		if b, err := message.DecodeBodyPart(msg, p); err == nil {
			out = append(out, string(b))
		}
	})
	return out
}

// words splits s into runs of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// pickWord returns the longest word of 4 to 30 runes that is not all
// digits (first wins), only among words with non-ASCII letters when
// nonASCII is set.
func pickWord(s string, nonASCII bool) string {
	best, bestLen := "", 0
	for _, w := range words(s) {
		n := utf8.RuneCountInString(w)
		if n < 4 || n > 30 || n <= bestLen || hasNonASCII(w) != nonASCII || isDigitsOnly(w) || strings.ContainsRune(w, '\uFFFD') {
			continue
		}
		best, bestLen = w, n
	}
	return best
}

// pickPhrase returns two words separated by one space on the same line,
// the first such pair with both words at least 4 letters long.
func pickPhrase(s string) string {
	for _, line := range strings.Split(s, "\n") {
		f := strings.Split(strings.TrimRight(line, "\r"), " ")
		for i := 0; i+1 < len(f); i++ {
			a, b := f[i], f[i+1]
			if len(a) >= 4 && len(b) >= 4 && len(words(a)) == 1 && words(a)[0] == a && len(words(b)) == 1 && words(b)[0] == b && !hasNonASCII(a+b) {
				return a + " " + b
			}
		}
	}
	return ""
}

func hasNonASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return true
		}
	}
	return false
}

func isDigitsOnly(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
