// Package shareddir finds the project's shared data that tests read: the
// mail corpus and Dovecot's answers for it (corpus/), published test
// vectors (vectors/) and Pigeonhole's Sieve test suite (sieve-tests/).
// They live beside the repository, not in it.
//
// The directory is, in order: $ROOST_SHARED; a directory named "shared"
// next to the repository or one of its ancestors (the working layout,
// ../shared from the checkout); /work/shared.
package shareddir

import (
	"os"
	"path/filepath"
)

// fallback is where the shared data lives on the project's machines.
const fallback = "/work/shared"

// Dir returns the shared data directory, or "" when none exists.
func Dir() string {
	if d := os.Getenv("ROOST_SHARED"); d != "" {
		return d
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if isShared(filepath.Join(d, "shared")) {
				return filepath.Join(d, "shared")
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if isShared(fallback) {
		return fallback
	}
	return ""
}

// Path joins elem to the shared data directory. The result does not exist
// when Dir is "".
func Path(elem ...string) string {
	d := Dir()
	if d == "" {
		d = fallback
	}
	return filepath.Join(append([]string{d}, elem...)...)
}

func isShared(d string) bool {
	fi, err := os.Stat(filepath.Join(d, "corpus"))
	return err == nil && fi.IsDir()
}
