package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIMAPScripts runs every testdata/imap/*.txt session against a fresh Dovecot and a fresh
// roost, each started from the same dovecot.conf, and compares the normalised transcripts with
// the committed Dovecot transcript testdata/imap/*.dovecot (rewritten with -update).
func TestIMAPScripts(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/imap/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts under testdata/imap: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		golden := strings.TrimSuffix(file, ".txt") + ".dovecot"
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		s := parseScript(filepath.Base(file), string(text))
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, kind := range serverKinds {
				t.Run(kind, func(t *testing.T) {
					t.Parallel()
					if kind == "dovecot" && *update {
						got := runScriptOn(t, kind, s)
						if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
							t.Fatal(err)
						}
						return
					}
					body := func(t testing.TB) { compareGolden(t, kind, golden, runScriptOn(t, kind, s)) }
					if kind == "roost" {
						roostCase(t, body)
						return
					}
					body(t)
				})
			}
		})
	}
}

// runScriptOn starts kind on a fresh installation, runs s and returns the normalised transcript.
func runScriptOn(t testing.TB, kind string, s *script) string {
	t.Helper()
	var opts []envOption
	if s.tls {
		opts = append(opts, withTLS())
	}
	if s.config != "" {
		opts = append(opts, withConfig(s.config))
	}
	env := newMailEnv(t, opts...)
	srv := startServer(t, env, kind)
	raw := runScript(srv.Addr(), s)
	if testing.Verbose() {
		t.Logf("raw %s transcript:\n%s", kind, raw)
	}
	return normalize(raw, time.Now())
}

func compareGolden(t testing.TB, kind, golden, got string) {
	t.Helper()
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("no Dovecot transcript (run go test ./e2e -run TestIMAPScripts -update): %v", err)
	}
	if string(want) == got {
		return
	}
	what := "roost differs from Dovecot"
	if kind == "dovecot" {
		what = "live Dovecot differs from the committed transcript (normaliser gap or stale golden; -update rewrites it)"
	}
	t.Errorf("%s (%s): -dovecot +%s\n%s", what, filepath.Base(golden), kind, lineDiff(string(want), got))
}

// lineDiff is a small LCS line diff with 3 lines of context; transcripts are short.
func lineDiff(a, b string) string {
	x := strings.Split(strings.TrimRight(a, "\n"), "\n")
	y := strings.Split(strings.TrimRight(b, "\n"), "\n")
	// lcs[i][j] = length of the LCS of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type op struct {
		kind byte
		line string
	}
	var ops []op
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			ops = append(ops, op{' ', x[i]})
			i, j = i+1, j+1
		case j < len(y) && (i == len(x) || lcs[i][j+1] >= lcs[i+1][j]):
			ops = append(ops, op{'+', y[j]})
			j++
		default:
			ops = append(ops, op{'-', x[i]})
			i++
		}
	}
	var sb strings.Builder
	lastPrinted := -1
	for k, o := range ops {
		near := false
		for d := max(0, k-3); d <= min(len(ops)-1, k+3); d++ {
			if ops[d].kind != ' ' {
				near = true
				break
			}
		}
		if !near {
			continue
		}
		if lastPrinted >= 0 && k > lastPrinted+1 {
			sb.WriteString("   ...\n")
		}
		fmt.Fprintf(&sb, " %c %s\n", o.kind, o.line)
		lastPrinted = k
	}
	return sb.String()
}
