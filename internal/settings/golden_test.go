package settings

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"roost/internal/config"
)

var update = flag.Bool("update", false, "rewrite goldens: doveconf output into testdata (needs Dovecot), roost output, docs/compat.md")

// archive is a txtar file: a comment and named files.
type archive struct {
	comment string
	names   []string
	files   map[string]string
}

func readArchive(t *testing.T, path string) *archive {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a := &archive{files: map[string]string{}}
	cur := ""
	var b strings.Builder
	flush := func() {
		if cur == "" {
			a.comment = b.String()
		} else {
			a.files[cur] = b.String()
			a.names = append(a.names, cur)
		}
		b.Reset()
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "-- "); ok && strings.HasSuffix(name, " --") {
			flush()
			cur = strings.TrimSuffix(name, " --")
			continue
		}
		b.WriteString(line)
	}
	flush()
	return a
}

func (a *archive) write(path string) error {
	var b strings.Builder
	b.WriteString(a.comment)
	for _, n := range a.names {
		b.WriteString("-- " + n + " --\n" + a.files[n])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func (a *archive) set(name, content string) {
	if _, ok := a.files[name]; !ok {
		a.names = append(a.names, name)
	}
	a.files[name] = content
}

func (a *archive) del(name string) {
	delete(a.files, name)
	for i, n := range a.names {
		if n == name {
			a.names = append(a.names[:i], a.names[i+1:]...)
			return
		}
	}
}

// isConfigFile reports whether a txtar entry is part of the configuration
// rather than an expected output.
func isConfigFile(name string) bool {
	return name != "doveconf-n" && name != "doveconf-error" && name != "roost-n" && name != "warnings"
}

const confDir = "/etc/dovecot"

func (a *archive) fs() config.MapFS {
	m := config.MapFS{}
	for _, n := range a.names {
		if !isConfigFile(n) {
			continue
		}
		if strings.HasPrefix(n, "/") {
			m[n] = a.files[n]
		} else {
			m[confDir+"/"+n] = a.files[n]
		}
	}
	return m
}

func goldenFiles(t *testing.T) []string {
	m, err := filepath.Glob("testdata/*.txtar")
	if err != nil || len(m) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	return m
}

// roostN runs WriteNonDefault on the archive's dovecot.conf, without the
// header line.
func roostN(a *archive) (string, []Warning, error) {
	snap, err := LoadFile(confDir+"/dovecot.conf", Options{FS: a.fs(), SkipValueFiles: true})
	if err != nil {
		return "", nil, err
	}
	var buf bytes.Buffer
	if err := WriteNonDefault(&buf, snap); err != nil {
		return "", nil, err
	}
	_, body, _ := strings.Cut(buf.String(), "\n")
	return body, snap.Warnings(), nil
}

func TestGoldenNonDefault(t *testing.T) {
	t.Parallel()
	for _, path := range goldenFiles(t) {
		a := readArchive(t, path)
		got, warns, err := roostN(a)
		if dcErr, ok := a.files["doveconf-error"]; ok && a.files["roost-n"] == "" {
			// doveconf refuses this configuration: roost must too, at the
			// same line and with the same message.
			if err == nil || !sameError(err.Error(), dcErr) {
				t.Errorf("%s: err = %v, doveconf: %s", path, err, dcErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		var ws []string
		for _, w := range warns {
			ws = append(ws, w.String())
		}
		gotWarn := strings.Join(ws, "\n") + "\n"
		want, ok := a.files["doveconf-n"]
		if !ok {
			want, ok = a.files["roost-n"]
		}
		if *update {
			if _, dc := a.files["doveconf-n"]; !dc {
				a.set("roost-n", got)
			}
			a.set("warnings", gotWarn)
			if err := a.write(path); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if !ok {
			t.Errorf("%s: no doveconf-n or roost-n golden", path)
			continue
		}
		if got != want {
			t.Errorf("%s: WriteNonDefault differs from doveconf -n\n--- got\n%s--- want\n%s", path, got, want)
		}
		if gotWarn != a.files["warnings"] {
			t.Errorf("%s: warnings\n--- got\n%s--- want\n%s", path, gotWarn, a.files["warnings"])
		}
	}
}

// TestDoveconfOracle runs Debian's doveconf -n on each golden config and
// checks the recorded output is still what Dovecot prints (-update records
// it). Absolute paths in the archives are not written: doveconf -n reads
// the system's /usr/share/dovecot/protocols.d and no <file values.
func TestDoveconfOracle(t *testing.T) {
	doveconf, err := exec.LookPath("doveconf")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("doveconf not installed")
		}
		t.Skip("doveconf not installed (apt-get install dovecot-core dovecot-managesieved)")
	}
	for _, path := range goldenFiles(t) {
		a := readArchive(t, path)
		dir := t.TempDir()
		for _, n := range a.names {
			if !isConfigFile(n) || strings.HasPrefix(n, "/") {
				continue
			}
			p := filepath.Join(dir, n)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(a.files[n]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command(doveconf, "-n", "-c", filepath.Join(dir, "dovecot.conf"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var got, key string
		if err != nil {
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatal(err)
			}
			key, got = "doveconf-error", fatalLine(stderr.String(), dir)
		} else {
			key, got = "doveconf-n", stripHeader(string(out))
		}
		if *update {
			a.set(key, got)
			if key == "doveconf-error" {
				a.del("doveconf-n")
			}
			if err := a.write(path); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if a.files[key] != got {
			t.Errorf("%s: doveconf %s changed\n--- doveconf\n%s--- recorded\n%s", path, key, got, a.files[key])
		}
	}
}

func stripHeader(s string) string {
	for strings.HasPrefix(s, "# ") {
		_, s, _ = strings.Cut(s, "\n")
	}
	return s
}

func fatalLine(stderr, dir string) string {
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "Fatal:") {
			return strings.ReplaceAll(l, dir+"/", "") + "\n"
		}
	}
	return stderr
}

// sameError compares roost's "path:line: msg" with doveconf's "Fatal: Error
// in configuration file path line N: msg".
func sameError(roost, doveconf string) bool {
	i := strings.Index(roost, ".conf:")
	if i < 0 {
		return false
	}
	lineMsg := roost[i+len(".conf:"):]
	line, msg, _ := strings.Cut(lineMsg, ": ")
	return strings.Contains(doveconf, " line "+line+": "+msg)
}
