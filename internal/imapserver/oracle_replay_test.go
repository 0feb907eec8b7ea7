package imapserver

// The section/search oracle: Dovecot 2.3.19's answers to BODY[...] section
// FETCHes and UID SEARCH keys for a deterministic subset of the shared
// corpus, recorded by TestGenerateOracle (oracle_gen_test.go) and replayed
// here against an in-process roost server on memstore. See
// testdata/oracle/README.md.

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"roost/internal/shareddir"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"roost/internal/memstore"
	"roost/internal/storage"
)

// Thresholds: how many recorded exchanges roost must answer byte for byte
// as Dovecot did. Raise them when a fix makes more match; never lower them.
const (
	oracleMinSections = 3585
	oracleMinSearches = 5334
)

const oracleFile = "testdata/oracle/dovecot-2.3.19-imap.jsonl.gz"

// oracleExchange is one line of the oracle file.
type oracleExchange struct {
	// Kind is "append", "fetch" or "search".
	Kind string `json:"kind"`
	// Path is the corpus message (append only); UID the message the
	// command was built for.
	Path string `json:"path,omitempty"`
	UID  uint32 `json:"uid"`
	// Item names the FETCH item or the SEARCH key kind ("subject",
	// "body-utf8", ...); Arg is the search word or value, if any.
	Item string `json:"item,omitempty"`
	Arg  string `json:"arg,omitempty"`
	// Cmd is the command without tag and CRLF; literals are inline as
	// "{n}\r\n" followed by n bytes (sent synchronising).
	Cmd string `json:"cmd"`
	// Resp is the normalised response (untagged lines, then the tagged
	// line with the tag "T"); RespB64 holds it when it is not UTF-8.
	Resp    string `json:"resp,omitempty"`
	RespB64 string `json:"resp_b64,omitempty"`
	// Bye is set when the server ended the connection on this command.
	Bye bool `json:"bye,omitempty"`
}

func (e *oracleExchange) setResp(b []byte) {
	if utf8.Valid(b) {
		e.Resp = string(b)
	} else {
		e.RespB64 = base64.StdEncoding.EncodeToString(b)
	}
}

func (e *oracleExchange) resp() []byte {
	if e.RespB64 != "" {
		b, _ := base64.StdEncoding.DecodeString(e.RespB64)
		return b
	}
	return []byte(e.Resp)
}

func readOracle(path string) ([]oracleExchange, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read oracle: %w", err)
	}
	var out []oracleExchange
	dec := json.NewDecoder(zr)
	for {
		var e oracleExchange
		if err := dec.Decode(&e); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("read oracle: %w", err)
		}
		out = append(out, e)
	}
}

// oracleCorpusDir finds ../shared/corpus (or $ROOST_CORPUS).
func oracleCorpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ROOST_CORPUS")
	if dir == "" {
		dir = shareddir.Path("corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.tsv")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus missing: %v", err)
		}
		t.Skipf("corpus not found at %s (set ROOST_CORPUS)", dir)
	}
	return dir
}

// oracleAppendForm is the corpus oracle's APPEND procedure: drop a leading
// mbox "From " line, turn bare LF and bare CR into CRLF.
func oracleAppendForm(raw []byte) []byte {
	if bytes.HasPrefix(raw, []byte("From ")) {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		} else {
			raw = nil
		}
	}
	out := make([]byte, 0, len(raw)+len(raw)/16)
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '\r':
			out = append(out, '\r', '\n')
			if i+1 < len(raw) && raw[i+1] == '\n' {
				i++
			}
		case '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	return out
}

var (
	// Dovecot's timing suffix on tagged replies (imap_command_timing).
	reTiming = regexp.MustCompile(` \(\d+\.\d+ \+ \d+\.\d+(?: \+ \d+\.\d+)? secs\)\.`)
	// UIDVALIDITY in APPENDUID.
	reAppendUID = regexp.MustCompile(`\[APPENDUID \d+ `)
)

// normaliseResp replaces the volatile parts of a response: the tag of the
// tagged line, command timings and UIDVALIDITY values.
func normaliseResp(resp []byte, tag string) []byte {
	i := bytes.LastIndex(resp, []byte("\r\n"+tag+" "))
	if i >= 0 {
		i += 2
	} else if bytes.HasPrefix(resp, []byte(tag+" ")) {
		i = 0
	}
	if i >= 0 {
		tail := append([]byte("T"), resp[i+len(tag):]...)
		tail = reTiming.ReplaceAll(tail, []byte("."))
		tail = reAppendUID.ReplaceAll(tail, []byte("[APPENDUID * "))
		resp = append(resp[:i:i], tail...)
	}
	return resp
}

// rawClient is a minimal IMAP client speaking raw command lines, so that
// Dovecot and roost are sent the very same bytes.
type rawClient struct {
	nc  net.Conn
	br  *bufio.Reader
	seq int
}

func newRawClient(nc net.Conn) (*rawClient, error) {
	c := &rawClient{nc: nc, br: bufio.NewReaderSize(nc, 64<<10)}
	line, err := c.br.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("read greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") {
		return nil, fmt.Errorf("unexpected greeting %q", line)
	}
	return c, nil
}

var errBye = errors.New("server closed the connection")

// do sends cmd (literals inline as "{n}\r\n" + n bytes, sent after the
// server's continuation) and returns the normalised response. errBye
// reports that the server hung up; the response read so far is returned.
func (c *rawClient) do(cmd string) ([]byte, error) {
	c.seq++
	tag := "T" + strconv.Itoa(c.seq)
	var resp []byte
	rest := tag + " " + cmd
	for {
		head, lit, tail, ok := splitLiteral(rest)
		if !ok {
			break
		}
		if _, err := io.WriteString(c.nc, head); err != nil {
			return nil, fmt.Errorf("write command: %w", err)
		}
		line, err := c.readLine()
		if err != nil {
			return normaliseResp(append(resp, line...), tag), err
		}
		if !bytes.HasPrefix(line, []byte("+")) {
			resp = append(resp, line...) // the command was refused
			for !bytes.HasPrefix(line, []byte(tag+" ")) {
				if line, err = c.readLine(); err != nil {
					return normaliseResp(append(resp, line...), tag), err
				}
				resp = append(resp, line...)
			}
			return normaliseResp(resp, tag), nil
		}
		if _, err := io.WriteString(c.nc, lit); err != nil {
			return nil, fmt.Errorf("write literal: %w", err)
		}
		rest = tail
	}
	if _, err := io.WriteString(c.nc, rest+"\r\n"); err != nil {
		return nil, fmt.Errorf("write command: %w", err)
	}
	for {
		line, err := c.readLine()
		resp = append(resp, line...)
		if err != nil {
			return normaliseResp(resp, tag), err
		}
		if bytes.HasPrefix(line, []byte(tag+" ")) {
			return normaliseResp(resp, tag), nil
		}
	}
}

// splitLiteral splits s at its first "{n}\r\n": head ends with that CRLF,
// lit is the n literal bytes, tail the rest.
func splitLiteral(s string) (head, lit, tail string, ok bool) {
	for from := 0; ; {
		i := strings.Index(s[from:], "}\r\n")
		if i < 0 {
			return "", "", "", false
		}
		i += from
		j := strings.LastIndexByte(s[:i], '{')
		if j >= 0 {
			if n, err := strconv.Atoi(s[j+1 : i]); err == nil && i+3+n <= len(s) {
				return s[:i+3], s[i+3 : i+3+n], s[i+3+n:], true
			}
		}
		from = i + 3
	}
}

// readLine reads one response line including any literals it announces.
func (c *rawClient) readLine() ([]byte, error) {
	var out []byte
	for {
		line, err := c.br.ReadBytes('\n')
		out = append(out, line...)
		if err != nil {
			if err == io.EOF {
				err = errBye
			}
			return out, err
		}
		n, ok := literalLen(line)
		if !ok {
			return out, nil
		}
		lit := make([]byte, n)
		if _, err := io.ReadFull(c.br, lit); err != nil {
			return append(out, lit...), errBye
		}
		out = append(out, lit...)
	}
}

// literalLen reports the n of a line ending in "{n}\r\n" or "~{n}\r\n".
func literalLen(line []byte) (int, bool) {
	if !bytes.HasSuffix(line, []byte("}\r\n")) {
		return 0, false
	}
	body := line[:len(line)-3]
	j := bytes.LastIndexByte(body, '{')
	if j < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(string(body[j+1:]))
	return n, err == nil && n >= 0
}

// oracleAuth lets any user log in with any password.
type oracleAuth struct{}

func (oracleAuth) PlaintextAllowed(ConnInfo) bool { return true }
func (oracleAuth) Mechanisms(ConnInfo) []string   { return []string{"PLAIN"} }
func (oracleAuth) Begin(context.Context, ConnInfo, string) (Exchange, error) {
	return nil, ErrUnknownMech
}
func (oracleAuth) Login(_ context.Context, _ ConnInfo, user, _ string) (*Session, error) {
	return &Session{User: user, Method: "PLAIN"}, nil
}

// oracleRoost is an in-process roost server on memstore.
type oracleRoost struct {
	t   *testing.T
	srv *Server
}

func newOracleRoost(t *testing.T) *oracleRoost {
	t.Helper()
	drv := memstore.New(memstore.Options{})
	now := func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }
	srv, err := New(Options{
		Auth: oracleAuth{},
		OpenUser: func(ctx context.Context, s *Session) (storage.User, error) {
			return drv.OpenUser(ctx, storage.UserConfig{Username: s.User, UID: -1, GID: -1, Fields: Fields, Now: now})
		},
		Now:            now,
		MaxBadCommands: 1 << 30,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return &oracleRoost{t: t, srv: srv}
}

// dial returns a logged-in client, with INBOX selected if sel is set.
func (r *oracleRoost) dial(sel bool) *rawClient {
	r.t.Helper()
	cli, sc := net.Pipe()
	r.srv.ServeConn(sc)
	r.t.Cleanup(func() { cli.Close() })
	c, err := newRawClient(cli)
	if err != nil {
		r.t.Fatal(err)
	}
	mustDo(r.t, c, "LOGIN oracle secret")
	if sel {
		mustDo(r.t, c, "SELECT INBOX")
	}
	return c
}

// oracleQuote renders s as an IMAP quoted string, or as a literal when it
// cannot be quoted.
func oracleQuote(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return "{" + strconv.Itoa(len(s)) + "}\r\n" + s
		}
	}
	return `"` + s + `"`
}

func TestOracleReplay(t *testing.T) {
	t.Parallel()
	dir := oracleCorpusDir(t)
	exs, err := readOracle(oracleFile)
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	var appends []oracleExchange
	// Each shard is an in-process server with all the messages and a share
	// of the commands, replayed in parallel.
	shards := make([][]*oracleExchange, min(runtime.GOMAXPROCS(0), 4))
	n, next := 0, 0
	for i := range exs {
		e := &exs[i]
		if e.Kind == "append" {
			appends = append(appends, *e)
			continue
		}
		if n++; testing.Short() && e.Kind == "search" && n%10 != 0 {
			continue // -short: every tenth SEARCH
		}
		shards[next] = append(shards[next], e)
		next = (next + 1) % len(shards)
	}
	dump := newMismatchDump(t, os.Getenv("ROOST_ORACLE_DUMP"))
	results := make([][2]counts, len(shards))
	t.Run("shards", func(t *testing.T) {
		for i := range shards {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				results[i] = replayShard(t, dir, appends, shards[i], dump)
			})
		}
	})
	var sec, srch counts
	for _, r := range results {
		sec.merge(&r[0])
		srch.merge(&r[1])
	}
	t.Logf("sections oracle: %d/%d match (%d skipped: Dovecot hung up)%s", sec.match, sec.total, sec.skipped, sec.byItem())
	t.Logf("search oracle: %d/%d match%s", srch.match, srch.total, srch.byItem())
	if testing.Short() {
		return
	}
	if sec.match < oracleMinSections {
		t.Errorf("sections oracle: %d matches, want at least %d", sec.match, oracleMinSections)
	}
	if srch.match < oracleMinSearches {
		t.Errorf("search oracle: %d matches, want at least %d", srch.match, oracleMinSearches)
	}
}

// replayShard appends the oracle's messages to a fresh roost server, runs
// exs there and counts matching responses: [0] FETCH, [1] SEARCH.
func replayShard(t *testing.T, dir string, appends []oracleExchange, exs []*oracleExchange, dump func(*oracleExchange, []byte)) [2]counts {
	roost := newOracleRoost(t)
	c := roost.dial(false)
	for _, e := range appends {
		raw, err := os.ReadFile(filepath.Join(dir, e.Path))
		if err != nil {
			t.Fatalf("read corpus message: %v", err)
		}
		msg := oracleAppendForm(raw)
		got, err := c.do("APPEND INBOX {" + strconv.Itoa(len(msg)) + "}\r\n" + string(msg))
		if want := e.resp(); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("APPEND %s: got %q (%v), want %q", e.Path, got, err, want)
		}
	}
	mustDo(t, c, "SELECT INBOX")
	verbose := os.Getenv("ROOST_ORACLE_VERBOSE") != ""
	var res [2]counts
	for _, e := range exs {
		got, err := c.do(e.Cmd)
		if errors.Is(err, errBye) {
			c = roost.dial(true)
		} else if err != nil {
			t.Fatalf("%s: %v (after %q)", e.Cmd, err, got)
		}
		want := e.resp()
		ok := bytes.Equal(got, want)
		if e.Kind == "fetch" {
			res[0].add(e, ok)
		} else {
			res[1].add(e, ok)
		}
		if ok || e.Bye {
			continue
		}
		dump(e, got)
		if verbose {
			t.Logf("MISMATCH uid %d %s %q\n got: %q\nwant: %q", e.UID, e.Item, e.Cmd, clip(got), clip(want))
		}
	}
	return res
}

// newMismatchDump returns a function that writes each mismatch, in full,
// as a JSON line to path (ROOST_ORACLE_DUMP), or does nothing when path is
// empty.
func newMismatchDump(t *testing.T, path string) func(e *oracleExchange, got []byte) {
	if path == "" {
		return func(*oracleExchange, []byte) {}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	var mu sync.Mutex
	return func(e *oracleExchange, got []byte) {
		mu.Lock()
		defer mu.Unlock()
		out := *e
		out.Resp, out.RespB64 = "", ""
		out.setResp(got)
		enc.Encode(struct {
			Want *oracleExchange `json:"want"`
			Got  oracleExchange  `json:"got"`
		}{e, out})
	}
}

func mustDo(t *testing.T, c *rawClient, cmd string) {
	t.Helper()
	resp, err := c.do(cmd)
	if err != nil || !bytes.Contains(resp, []byte("\r\nT OK")) && !bytes.HasPrefix(resp, []byte("T OK")) {
		t.Fatalf("%s: %q %v", cmd, resp, err)
	}
}

func clip(b []byte) []byte {
	if len(b) > 600 {
		return append(append([]byte(nil), b[:600]...), "..."...)
	}
	return b
}

// counts tallies matches per item kind.
type counts struct {
	total, match, skipped int
	items                 map[string][2]int // item -> {match, total}
}

func (n *counts) add(e *oracleExchange, ok bool) {
	if e.Bye {
		n.skipped++
		return
	}
	if n.items == nil {
		n.items = map[string][2]int{}
	}
	v := n.items[e.Item]
	v[1]++
	n.total++
	if ok {
		v[0]++
		n.match++
	}
	n.items[e.Item] = v
}

func (n *counts) merge(o *counts) {
	n.total += o.total
	n.match += o.match
	n.skipped += o.skipped
	for k, v := range o.items {
		if n.items == nil {
			n.items = map[string][2]int{}
		}
		w := n.items[k]
		n.items[k] = [2]int{w[0] + v[0], w[1] + v[1]}
	}
}

func (n *counts) byItem() string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(n.items)) {
		v := n.items[k]
		fmt.Fprintf(&b, "\n  %-60s %4d/%d", k, v[0], v[1])
	}
	return b.String()
}
