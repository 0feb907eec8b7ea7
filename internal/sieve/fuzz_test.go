package sieve

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"roost/internal/shareddir"
	"testing"
)

// FuzzCompile runs the parser and the validator (including compile-time
// include resolution against an in-memory script set) on arbitrary
// scripts: no panic, every error has a position, a compiled program runs.
func FuzzCompile(f *testing.F) {
	f.Add([]byte("require [\"fileinto\", \"variables\"]; if header :matches \"subject\" \"*x*\" { fileinto \"${1}\"; } else { keep; }"))
	f.Add([]byte("require \"ihave\"; if ihave \"nonsense\" { nonsense_command; } elsif ihave \"fileinto\" { fileinto \"a\"; }"))
	f.Add([]byte("require \"include\"; include \"self\"; include :global :optional \"g\";"))
	f.Add([]byte("require [\"editheader\", \"foreverypart\", \"extracttext\", \"variables\"]; foreverypart { extracttext \"x\"; addheader \"X\" \"${x}\"; }"))
	for _, glob := range []string{"testdata/*.sieve", shareddir.Path("sieve-tests/pigeonhole/*/*/*.sieve"), shareddir.Path("sieve-tests/pigeonhole/*/*/*/*.sieve")} {
		files, _ := filepath.Glob(glob)
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
	scripts := memScripts{"personal/self": []byte("require \"include\"; include \"self\";"), "global/g": []byte("keep;")}
	f.Fuzz(func(t *testing.T, data []byte) {
		prog, err := Compile("fuzz", data, Options{Extensions: Capabilities(), Scripts: scripts})
		var ce *CompileError
		if errors.As(err, &ce) {
			for _, e := range ce.Errors {
				if e.Pos.Line < 1 || e.Pos.Col < 1 {
					t.Fatalf("error without position: %v", e)
				}
			}
			return
		}
		if err != nil {
			t.Fatalf("unexpected error type: %v", err)
		}
		if len(data) > fuzzRunLimit {
			return // long scripts (the suite's CPU-limit loops) only compile
		}
		env := &Env{Message: ParseMessage([]byte("From: a@b.c\r\nTo: d@e.f\r\nSubject: x\r\n\r\nbody\r\n")),
			Envelope: Envelope{From: "a@b.c", To: "d@e.f"}, Mailboxes: NewMemStore(), Scripts: scripts}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		res := Run(ctx, prog, env)
		if res.Err != nil && len(res.Actions) > 0 {
			t.Fatalf("failed run kept actions: %v", res.Actions)
		}
	})
}

// fuzzRunLimit is the largest script FuzzCompile also runs.
const fuzzRunLimit = 512

// memScripts is an in-memory Scripts keyed by "location/name".
type memScripts map[string][]byte

func (m memScripts) Load(_ context.Context, location, name string) ([]byte, error) {
	if src, ok := m[location+"/"+name]; ok {
		return src, nil
	}
	return nil, ErrScriptNotFound
}
