package sieve

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSievecDebug prints compile errors like sievec for the scripts in
// $SIEVEC_FILES (space separated); it is a tool for comparing with
// Pigeonhole by hand and does nothing otherwise.
func TestSievecDebug(t *testing.T) {
	files := strings.Fields(os.Getenv("SIEVEC_FILES"))
	if len(files) == 0 {
		t.Skip("SIEVEC_FILES not set")
	}
	for _, f := range files {
		if len(files) > 1 {
			fmt.Println("== " + f)
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Dir(f)
		scripts := DirScripts{Personal: filepath.Join(dir, "../included"), Global: filepath.Join(dir, "../included-global")}
		_, err = Compile(strings.TrimSuffix(filepath.Base(f), ".sieve"), src, Options{Extensions: allExtensions(), Scripts: scripts})
		var ce *CompileError
		if errors.As(err, &ce) {
			fmt.Println(ce.Error())
			fmt.Println(ce.Summary())
		}
	}
}
