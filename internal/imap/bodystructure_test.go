package imap

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"roost/internal/shareddir"
	"strconv"
	"strings"
	"testing"

	"roost/internal/message"
)

// oracleMinMatches is the number of corpus messages whose RFC822.SIZE,
// ENVELOPE and BODYSTRUCTURE must match Dovecot 2.3.19 byte for byte.
// Raise it when a fix makes more match; never lower it.
const oracleMinMatches = 4604

type oracleRecord struct {
	Path             string `json:"path"`
	UID              string `json:"uid"`
	Append           string `json:"append"`
	FromLineStripped bool   `json:"from_line_stripped"`
	Fetch            string `json:"fetch"`
	FetchB64         string `json:"fetch_b64"`
}

func corpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ROOST_CORPUS")
	if dir == "" {
		dir = shareddir.Path("corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "oracle", "dovecot-2.3.19-fetch.jsonl")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus oracle missing: %v", err)
		}
		t.Skipf("corpus oracle not found at %s (set ROOST_CORPUS)", dir)
	}
	return dir
}

// appendForm applies the oracle's APPEND procedure: drop a leading mbox
// "From " line when it was dropped, turn bare LF and bare CR into CRLF.
func appendForm(raw []byte, stripFrom bool) []byte {
	if stripFrom && bytes.HasPrefix(raw, []byte("From ")) {
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

func fetchLine(rec oracleRecord, msg []byte) []byte {
	part := message.Parse(msg)
	var b []byte
	b = append(b, rec.UID...)
	b = append(b, " (UID "...)
	b = append(b, rec.UID...)
	b = append(b, " RFC822.SIZE "...)
	b = strconv.AppendInt(b, part.Header.Virtual+part.Body.Virtual, 10)
	b = append(b, " ENVELOPE ("...)
	b = append(b, Envelope(part)...)
	b = append(b, ") BODYSTRUCTURE ("...)
	b = append(b, BodyStructure(part, true)...)
	return append(b, "))"...)
}

func loadExceptions(t *testing.T) map[string]string {
	t.Helper()
	ex := map[string]string{}
	data, err := os.ReadFile(filepath.Join("testdata", "oracle-exceptions.txt"))
	if err != nil {
		return ex
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		path, reason, _ := strings.Cut(line, " ")
		ex[path] = reason
	}
	return ex
}

func TestCorpusOracle(t *testing.T) {
	t.Parallel()
	dir := corpusDir(t)
	f, err := os.Open(filepath.Join(dir, "oracle", "dovecot-2.3.19-fetch.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	exceptions := loadExceptions(t)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	total, match, excepted := 0, 0, 0
	verbose := os.Getenv("ROOST_ORACLE_VERBOSE") != ""
	for sc.Scan() {
		var rec oracleRecord
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("oracle line: %v", err)
		}
		if rec.Append != "OK" {
			continue
		}
		total++
		want := []byte(rec.Fetch)
		if rec.FetchB64 != "" {
			if want, err = base64.StdEncoding.DecodeString(rec.FetchB64); err != nil {
				t.Fatalf("%s: fetch_b64: %v", rec.Path, err)
			}
		}
		raw, err := os.ReadFile(filepath.Join(dir, rec.Path))
		if err != nil {
			t.Fatalf("read corpus message: %v", err)
		}
		got := fetchLine(rec, appendForm(raw, rec.FromLineStripped))
		if bytes.Equal(got, want) {
			match++
			continue
		}
		if _, ok := exceptions[rec.Path]; ok {
			excepted++
			continue
		}
		if verbose {
			t.Logf("MISMATCH %s\n got: %q\nwant: %q", rec.Path, got, want)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("corpus oracle: %d/%d match (%d listed exceptions)", match, total, excepted)
	if match < oracleMinMatches {
		t.Errorf("corpus oracle: %d matches, want at least %d", match, oracleMinMatches)
	}
}

func BenchmarkParseEnvelopeBodyStructure(b *testing.B) {
	dir := corpusDir(b)
	var msgs [][]byte
	var total int64
	for _, glob := range []string{"torture/*/*", "spamassassin/easy-ham-1/000*"} {
		paths, _ := filepath.Glob(filepath.Join(dir, glob))
		for _, p := range paths {
			if raw, err := os.ReadFile(p); err == nil && len(raw) > 0 {
				m := appendForm(raw, true)
				msgs = append(msgs, m)
				total += int64(len(m))
			}
		}
	}
	b.SetBytes(total / int64(len(msgs)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := message.Parse(msgs[i%len(msgs)])
		_ = Envelope(p)
		_ = BodyStructure(p, true)
	}
}
