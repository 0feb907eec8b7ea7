package imapserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"roost/internal/shareddir"
	"strings"
	"testing"
	"time"

	"roost/internal/imapwire"
	"roost/internal/memstore"
	"roost/internal/storage"
)

var corpusDir = shareddir.Path("corpus")

type oracleRow struct {
	Path       string  `json:"path"`
	UID        string  `json:"uid"`
	Append     string  `json:"append"`
	Stripped   bool    `json:"from_line_stripped"`
	Fetch      *string `json:"fetch"`
	FetchB64   *string `json:"fetch_b64"`
	fetchBytes []byte
}

func loadTortureOracle(t *testing.T) []oracleRow {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "oracle/dovecot-2.3.19-fetch.jsonl"))
	if err != nil {
		t.Skip("corpus oracle not available: ", err)
	}
	defer f.Close()
	var rows []oracleRow
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r oracleRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.Path, "torture/") || r.Append != "OK" {
			continue
		}
		switch {
		case r.FetchB64 != nil:
			r.fetchBytes, _ = base64.StdEncoding.DecodeString(*r.FetchB64)
		case r.Fetch != nil:
			r.fetchBytes = []byte(*r.Fetch)
		}
		rows = append(rows, r)
	}
	return rows
}

// TestFetchTortureCorpus appends every torture message and compares
// UID FETCH (RFC822.SIZE ENVELOPE BODYSTRUCTURE) with Dovecot 2.3.19's
// answer, then fetches tricky sections to check the framing.
func TestFetchTortureCorpus(t *testing.T) {
	t.Parallel()
	rows := loadTortureOracle(t)
	ctx := context.Background()
	user, err := memstore.New(memstore.Options{}).OpenUser(ctx, storage.UserConfig{Username: "u", Fields: Fields})
	if err != nil {
		t.Fatal(err)
	}
	sections := "(BODY.PEEK[1.2.MIME] BODY.PEEK[1]<0.10> BODY.PEEK[2.1.TEXT] BODY.PEEK[1.HEADER] BODY.PEEK[TEXT]<5> BODY BODY.PEEK[3.HEADER.FIELDS.NOT (Content-Type)])"
	for _, r := range rows {
		body, err := os.ReadFile(filepath.Join(corpusDir, r.Path))
		if err != nil {
			t.Fatal(err)
		}
		if r.Stripped {
			if i := bytes.IndexByte(body, '\n'); i >= 0 {
				body = body[i+1:]
			}
		}
		box := strings.ReplaceAll(r.Path, "/", "_")
		if err := user.Create(ctx, box, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := user.Append(ctx, box, storage.AppendMessage{Body: bytes.NewReader(body), Size: -1}); err != nil {
			t.Fatalf("%s: %v", r.Path, err)
		}
		mb, err := user.Open(ctx, box, storage.OpenOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		got := fetchOne(t, mb, "(RFC822.SIZE ENVELOPE BODYSTRUCTURE)")
		want := "* 1 FETCH " + strings.Replace(string(r.fetchBytes), "UID "+r.UID, "UID 1", 1)[len(r.UID)+1:] + "\r\n"
		if got != want {
			t.Errorf("%s:\ngot  %q\nwant %q", r.Path, got, want)
		}
		if out := fetchOne(t, mb, sections); !strings.HasSuffix(out, ")\r\n") {
			t.Errorf("%s: sections: %q", r.Path, out)
		}
		mb.Close()
	}
}

func fetchOne(t *testing.T, mb storage.Mailbox, atts string) string {
	t.Helper()
	req, err := parseFetchAtts(testDecoder(atts+"\r\n"), true)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	f := &fetcher{mb: mb, enc: imapwire.NewEncoder(w), req: req, loc: time.UTC}
	if err := f.writeMessage(context.Background(), 1, mb.Messages()[0], false); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return buf.String()
}
