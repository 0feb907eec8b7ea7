package message

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"roost/internal/shareddir"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Differential check of DecodedHeaderValue and DecodeBodyPart against
// Dovecot 2.3.19's UID SEARCH answers recorded in
// ../imapserver/testdata/oracle (see its README.md). For every recorded
// SUBJECT, BODY and TEXT key and every message of the oracle mailbox, the
// message should match exactly when Dovecot said it did, with the text
// Dovecot's message_search would see modelled from this package:
//
//   - SUBJECT: each Subject field, DecodedHeaderValue.
//   - BODY: each leaf part whose Content-Type is text/*, message/* or
//     absent, DecodeBodyPart (parts it refuses are skipped).
//   - TEXT: BODY, plus "Name: value" of every header field of every part.
//
// Comparison folds case and compatibility-decomposes both sides, close to
// Dovecot's i;unicode-casemap normaliser.

// decodeOracleMin is the number of (key, message) pairs that must agree
// with Dovecot. Raise it when a fix makes more agree; never lower it.
const decodeOracleMin = 379200

type searchOracleLine struct {
	Kind    string `json:"kind"`
	Path    string `json:"path"`
	UID     uint32 `json:"uid"`
	Item    string `json:"item"`
	Arg     string `json:"arg"`
	Resp    string `json:"resp"`
	RespB64 string `json:"resp_b64"`
	Bye     bool   `json:"bye"`
}

// oracleSearchText is what one message offers to each kind of search.
type oracleSearchText struct {
	subjects []string
	bodies   []string // one per searchable part
	headers  []string // one per part
}

func TestDecodeAgainstDovecotSearch(t *testing.T) {
	t.Parallel()
	dir := shareddir.Path("corpus")
	if d := os.Getenv("ROOST_CORPUS"); d != "" {
		dir = d
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.tsv")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus missing: %v", err)
		}
		t.Skipf("corpus not found at %s (set ROOST_CORPUS)", dir)
	}
	lines := readSearchOracle(t)
	texts := map[uint32]*oracleSearchText{}
	for _, l := range lines {
		if l.Kind != "append" {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, l.Path))
		if err != nil {
			t.Fatal(err)
		}
		texts[l.UID] = searchTextOf(appendCRLF(raw))
	}
	verbose := os.Getenv("ROOST_ORACLE_VERBOSE") != ""
	total, agree := 0, 0
	disagree := map[string]int{}
	for _, l := range lines {
		match := oracleMatcher(l.Item)
		if l.Kind != "search" || match == nil {
			continue
		}
		hits := searchHits(l.Resp)
		needle := searchFold(l.Arg)
		for uid := uint32(1); uid <= uint32(len(texts)); uid++ {
			total++
			got, want := match(texts[uid], needle), hits[uid]
			if got == want {
				agree++
				continue
			}
			disagree[l.Item]++
			if verbose {
				t.Logf("uid %d %s %q: decoders say %v, Dovecot %v", uid, l.Item, l.Arg, got, want)
			}
		}
	}
	t.Logf("decode oracle: %d/%d (key, message) pairs agree with Dovecot; disagreements by key: %v", agree, total, disagree)
	if agree < decodeOracleMin {
		t.Errorf("decode oracle: %d agree, want at least %d", agree, decodeOracleMin)
	}
}

func readSearchOracle(t *testing.T) []searchOracleLine {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "imapserver", "testdata", "oracle", "dovecot-2.3.19-imap.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []searchOracleLine
	dec := json.NewDecoder(zr)
	for {
		var l searchOracleLine
		if err := dec.Decode(&l); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
}

// oracleMatcher returns how the model evaluates a search key kind, or nil
// for kinds this check does not cover.
func oracleMatcher(item string) func(*oracleSearchText, string) bool {
	switch item {
	case "subject", "subject-utf8":
		return func(s *oracleSearchText, n string) bool { return anyContains(s.subjects, n) }
	case "body", "body-utf8", "body-phrase":
		return func(s *oracleSearchText, n string) bool { return anyContains(s.bodies, n) }
	case "text", "text-header":
		return func(s *oracleSearchText, n string) bool {
			return anyContains(s.bodies, n) || anyContains(s.headers, n)
		}
	}
	return nil
}

func anyContains(hay []string, needle string) bool {
	for _, h := range hay {
		if strings.Contains(h, needle) {
			return true
		}
	}
	return false
}

func searchTextOf(msg []byte) *oracleSearchText {
	root := Parse(msg)
	st := &oracleSearchText{}
	for _, f := range ParseHeader(msg[root.Offset:root.BodyOffset()]) {
		if bytes.EqualFold(f.Name, []byte("Subject")) {
			st.subjects = append(st.subjects, searchFold(DecodedHeaderValue(f.Value)))
		}
	}
	root.Walk(func(p *Part) {
		var h strings.Builder
		for _, f := range ParseHeader(msg[p.Offset:p.BodyOffset()]) {
			h.Write(f.Name)
			h.WriteString(": ")
			h.WriteString(DecodedHeaderValue(f.Value))
			h.WriteString("\r\n")
		}
		st.headers = append(st.headers, searchFold(h.String()))
		if len(p.Children) > 0 || !searchableType(p) {
			return
		}
		if b, err := DecodeBodyPart(msg, p); err == nil {
			st.bodies = append(st.bodies, searchFold(string(b)))
		}
	})
	return st
}

// searchableType reports Dovecot's message_search content_type_text.
func searchableType(p *Part) bool {
	t := p.Content.Type
	return t == nil || strings.EqualFold(*t, "text") || strings.EqualFold(*t, "message")
}

func searchFold(s string) string {
	return norm.NFKD.String(cases.Fold().String(s))
}

// searchHits parses the UIDs of a "* SEARCH" response.
func searchHits(resp string) map[uint32]bool {
	hits := map[uint32]bool{}
	for _, line := range strings.Split(resp, "\r\n") {
		rest, ok := strings.CutPrefix(line, "* SEARCH")
		if !ok {
			continue
		}
		for _, f := range strings.Fields(rest) {
			if n, err := strconv.ParseUint(f, 10, 32); err == nil {
				hits[uint32(n)] = true
			}
		}
	}
	return hits
}

// appendCRLF is the oracle's APPEND procedure: drop a leading mbox "From "
// line, turn bare LF and bare CR into CRLF.
func appendCRLF(raw []byte) []byte {
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
