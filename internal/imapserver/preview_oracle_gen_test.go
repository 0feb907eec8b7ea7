package imapserver

// TestGeneratePreviewOracle records Dovecot's FETCH (PREVIEW) answer for
// every message of the shared corpus. It runs only with -preview.generate;
// see testdata/preview/README.md.

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"roost/internal/dovecottest"
)

var previewGenerate = flag.Bool("preview.generate", false, "record "+previewOracleFile+" from a private Dovecot (needs /usr/sbin/dovecot)")

// previewProbe, when set with -preview.generate, logs Dovecot's answers
// to the preview FETCH forms for the first message instead of recording.
var previewProbe = flag.String("preview.probe", "", "commands to run after appending the first corpus message, separated by ';'")

func TestGeneratePreviewOracle(t *testing.T) {
	if !*previewGenerate {
		t.Skip("run with -preview.generate to record the preview oracle from Dovecot")
	}
	if _, err := os.Stat(dovecottest.Binary); err != nil {
		t.Fatalf("dovecot not installed: %v", err)
	}
	dir := oracleCorpusDir(t)
	paths, err := previewCorpusPaths(filepath.Join(dir, "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	g := &oracleGen{t: t, addr: dovecottest.StartIMAP(t, dovecottest.Options{})}
	g.connect(false)
	if *previewProbe != "" {
		paths = paths[:1]
		if files := os.Getenv("ROOST_PREVIEW_PROBE_FILES"); files != "" {
			dir, paths = "/", strings.Split(files, ",")
		}
	}
	var out []oracleExchange
	for i, p := range paths {
		raw, err := os.ReadFile(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		msg := oracleAppendForm(raw)
		mustDo(t, g.c, "APPEND INBOX {"+strconv.Itoa(len(msg))+"}\r\n"+string(msg))
		out = append(out, oracleExchange{Kind: "append", Path: p, UID: uint32(i + 1)})
	}
	g.selectInbox()
	if *previewProbe != "" {
		for _, cmd := range strings.Split(*previewProbe, ";") {
			e := g.record("probe", 1, "", "", strings.TrimSpace(cmd))
			t.Logf("%s\n%s (bye=%v)", cmd, e.resp(), e.Bye)
			if out := os.Getenv("ROOST_PREVIEW_PROBE_OUT"); out != "" {
				if err := os.WriteFile(out, e.resp(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		return
	}
	for i := range paths {
		uid := uint32(i + 1)
		out = append(out, g.record("fetch", uid, "PREVIEW", "", "UID FETCH "+strconv.Itoa(int(uid))+" (PREVIEW)"))
	}
	g.c.do("LOGOUT")
	if err := dovecottest.WriteOracle(previewOracleFile, out); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded previews of %d messages", len(paths))
}

// previewCorpusPaths lists every non-empty message of the manifest, in
// manifest order.
func previewCorpusPaths(manifest string) ([]string, error) {
	f, err := os.Open(manifest)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 2 || cols[0] == "path" || cols[1] == "0" {
			continue
		}
		out = append(out, cols[0])
	}
	return out, sc.Err()
}

const previewOracleFile = "testdata/preview/dovecot-2.3.19-preview.jsonl.gz"
