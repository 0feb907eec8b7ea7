package e2e

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// Known failures of roost, listed in testdata/known-failures.txt (one test name per line, `#`
// comments), are run and reported but do not fail the run: the test is marked skipped with every
// mismatch in its message. A listed test that passes fails outside CI (under CI=true it only logs,
// so a fix landing before its line is removed does not break CI). E2E_STRICT=1 ignores the list.

const knownFailuresFile = "testdata/known-failures.txt"

// roostCase runs f for a test that targets roost, honouring the known-failures list.
func roostCase(t *testing.T, f func(tb testing.TB)) {
	t.Helper()
	if os.Getenv("E2E_STRICT") == "1" || !isKnownFailure(t, t.Name()) {
		f(t)
		return
	}
	x := &expectFailTB{TB: t}
	defer func() {
		if r := recover(); r != nil && r != errKnownFatal { //nolint:errorlint // sentinel identity
			panic(r)
		}
		if t.Skipped() {
			return
		}
		if msgs := x.messages(); len(msgs) > 0 {
			t.Skipf("KNOWN FAILURE (listed in e2e/%s; E2E_STRICT=1 fails on it):\n%s",
				knownFailuresFile, strings.Join(msgs, "\n"))
		}
		msg := fmt.Sprintf("%s is listed in e2e/%s but passes now: remove it from the list", t.Name(), knownFailuresFile)
		if inCI() {
			t.Log(msg) // a fix landing while the list still names it must not break CI
			return
		}
		t.Error(msg)
	}()
	f(x)
}

func isKnownFailure(t *testing.T, name string) bool {
	data, err := os.ReadFile(knownFailuresFile)
	if err != nil {
		if !os.IsNotExist(err) {
			t.Fatalf("read %s: %v", knownFailuresFile, err)
		}
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if strings.TrimSpace(line) == name {
			return true
		}
	}
	return false
}

var errKnownFatal = errors.New("known failure: fatal")

// expectFailTB records failures instead of failing the test.
type expectFailTB struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (x *expectFailTB) record(msg string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.msgs = append(x.msgs, msg)
}

func (x *expectFailTB) messages() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]string(nil), x.msgs...)
}

func (x *expectFailTB) Error(args ...any)                 { x.record(fmt.Sprint(args...)) }
func (x *expectFailTB) Errorf(format string, args ...any) { x.record(fmt.Sprintf(format, args...)) }
func (x *expectFailTB) Fail()                             { x.record("failed") }
func (x *expectFailTB) Failed() bool                      { return len(x.messages()) > 0 }
func (x *expectFailTB) FailNow()                          { x.record("failed"); panic(errKnownFatal) }
func (x *expectFailTB) Fatal(args ...any)                 { x.record(fmt.Sprint(args...)); panic(errKnownFatal) }
func (x *expectFailTB) Fatalf(format string, args ...any) {
	x.record(fmt.Sprintf(format, args...))
	panic(errKnownFatal)
}
