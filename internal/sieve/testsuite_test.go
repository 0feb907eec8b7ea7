package sieve

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"roost/internal/shareddir"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"roost/internal/message"
	"roost/internal/sieve/syntax"
)

// The Pigeonhole test suite runner: vnd.dovecot.testsuite implemented as
// extra commands, run over every .svtest file.

var updatePass = flag.Bool("sieve.update", false, "rewrite testdata/testsuite-pass.txt with the files that pass")

var suiteDir = shareddir.Path("sieve-tests/pigeonhole")

const passList = "testdata/testsuite-pass.txt"

// suiteFileLimit guards against a runaway file; it is not a timing
// assertion.
const suiteFileLimit = 30 * time.Second

type testFailure struct{ msg string }

func (f testFailure) Error() string { return "test failed: " + f.msg }

// suite is the state of one .svtest file.
type suite struct {
	dir      string
	env      *Env
	store    *MemStore
	mailer   *MemMailer
	tracker  *MemTracker
	prog     *Program
	binaries map[string]*Program
	meta     MemMetadata
	sub      *Result // result of test_script_run, nil when none
	subEnv   *Env
	errs     []string
	failures []string
	tests    int
}

// suiteVariable is ${tst.NAME}: "path" is the test file's directory.
func (s *suite) suiteVariable(name string) string {
	if name == "path" {
		if abs, err := filepath.Abs(s.dir); err == nil {
			return abs
		}
		return s.dir
	}
	return ""
}

func allExtensions() []string {
	return append(append(Capabilities(), extraCapabilities...), "vnd.dovecot.testsuite")
}

func (s *suite) compile(path string) (*Program, error) {
	src, err := os.ReadFile(filepath.Join(s.dir, path))
	if err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	exts := allExtensions()
	if v, ok := s.env.Config["sieve_extensions"]; ok {
		exts = ExtensionList(v)
	}
	name := strings.TrimSuffix(filepath.Base(path), ".sieve")
	opts := Options{Extensions: exts, Config: s.env.settings(), Scripts: s.scripts()}
	if slices.Contains(exts, "vnd.dovecot.testsuite") { // sub-scripts may use test_fail etc.
		opts.extra, opts.extraExt = testsuiteSpecs(), []string{"vnd.dovecot.testsuite"}
	}
	return Compile(name, src, opts)
}

func (s *suite) scripts() DirScripts {
	return DirScripts{Personal: filepath.Join(s.dir, "included"), Global: filepath.Join(s.dir, "included-global")}
}

func ts(r *runner) *suite { return r.hook.(*suite) }

func testsuiteSpecs() []*spec {
	const ext = "vnd.dovecot.testsuite"
	t := func(name string, tags map[string]tagDef, pos []posDef, eval func(*runner, *node) (bool, error)) *spec {
		return &spec{name: name, ext: ext, test: true, tags: tags, pos: pos, eval: eval}
	}
	c := func(name string, tags map[string]tagDef, pos []posDef, run func(*runner, *node) error) *spec {
		return &spec{name: name, ext: ext, tags: tags, pos: pos, run: run}
	}
	str := []posDef{{aString, "string"}}
	return []*spec{
		{name: "test", ext: ext, pos: str, block: true, run: tsTest},
		c("test_fail", nil, str, func(r *runner, n *node) error { return testFailure{r.pstr(n, 0)} }),
		c("test_set", nil, []posDef{{aString, "name"}, {aString, "value"}}, tsSet),
		c("test_config_set", nil, []posDef{{aString, "name"}, {aString, "value"}}, func(r *runner, n *node) error {
			r.env.Config[r.pstr(n, 0)] = suiteConfigValue(r, r.pstr(n, 0), r.pstr(n, 1))
			r.cfg = r.env.settings()
			return nil
		}),
		c("test_config_unset", nil, str, func(r *runner, n *node) error {
			delete(r.env.Config, r.pstr(n, 0))
			r.cfg = r.env.settings()
			return nil
		}),
		c("test_config_reload", map[string]tagDef{"extension": {param: aString}}, nil, func(*runner, *node) error { return nil }),
		c("test_imap_metadata_set", map[string]tagDef{"mailbox": {param: aString}}, []posDef{{aString, "annotation"}, {aString, "value"}},
			func(r *runner, n *node) error {
				box, _ := r.tstr(n, "mailbox")
				ts(r).meta.Set(box, r.pstr(n, 0), r.pstr(n, 1))
				return nil
			}),
		c("test_mailbox_create", nil, str, func(r *runner, n *node) error { ts(r).store.Create(r.pstr(n, 0)); return nil }),
		c("test_result_reset", nil, nil, func(r *runner, n *node) error {
			ts(r).sub = nil
			ts(r).mailer.Reset()
			ts(r).tracker.Reset()
			r.res = &Result{}
			r.cancel = false
			r.notifys = 0
			r.flags = ""                         // the internal flag variable belongs to the result, as in Pigeonhole
			if r.edits && r.env.Message != nil { // message edits (editheader, filter) belong to the result too
				r.setMessage(r.env.Message)
			}
			return nil
		}),
		c("test_result_print", nil, nil, func(*runner, *node) error { return nil }),
		c("test_binary_save", nil, str, func(r *runner, n *node) error { ts(r).binaries[r.pstr(n, 0)] = ts(r).prog; return nil }),
		c("test_binary_load", nil, str, func(r *runner, n *node) error { ts(r).prog = ts(r).binaries[r.pstr(n, 0)]; return nil }),
		t("test_script_compile", nil, str, tsCompile),
		t("test_script_run", map[string]tagDef{"append_result": {}}, nil, tsRun),
		t("test_multiscript", nil, []posDef{{aStringList, "scripts"}}, tsMultiscript),
		t("test_result_execute", nil, nil, tsExecute),
		t("test_result_action", addTags(map[string]tagDef{"index": {param: aNumber}}, "comparator", "match"),
			[]posDef{{aStringList, "key list"}}, tsResultAction),
		t("test_error", addTags(map[string]tagDef{"index": {param: aNumber}}, "comparator", "match"),
			[]posDef{{aStringList, "key list"}}, tsError),
		c("test_message", map[string]tagDef{"smtp": {group: "src"}, "folder": {param: aString, group: "src"}},
			[]posDef{{aNumber, "index"}}, func(r *runner, n *node) error { _, err := tsMessage(r, n); return err }),
		c("test_result_execute", nil, nil, func(r *runner, n *node) error { _, err := tsExecute(r, n); return err }),
		c("test_script_run", nil, nil, func(r *runner, n *node) error { _, err := tsRun(r, n); return err }),
		t("test_message", map[string]tagDef{"smtp": {group: "src"}, "folder": {param: aString, group: "src"}},
			[]posDef{{aNumber, "index"}}, tsMessage),
	}
}

func tsTest(r *runner, n *node) error {
	s := ts(r)
	s.tests++
	err := r.block(n.block)
	var tf testFailure
	switch {
	case errors.As(err, &tf):
		s.failures = append(s.failures, fmt.Sprintf("test %q: %s", r.pstr(n, 0), tf.msg))
		return nil
	case err != nil && !errors.As(err, new(flowStop)):
		s.failures = append(s.failures, fmt.Sprintf("test %q: %v", r.pstr(n, 0), err))
	}
	return nil
}

func tsSet(r *runner, n *node) error {
	name, val := r.pstr(n, 0), r.pstr(n, 1)
	e := r.env
	switch strings.ToLower(name) {
	case "message":
		m := ParseMessage([]byte(val))
		r.setMessage(m)
		// as Pigeonhole's testsuite: the envelope comes from the header
		e.Envelope.From = firstAddress(m, "sender@example.com", "return-path", "sender", "from")
		e.Envelope.To = firstAddress(m, "recipient@example.com", "envelope-to", "to")
		e.Envelope.OrigTo = e.Envelope.To
	case "envelope.from":
		e.Envelope.From = suitePath(val)
	case "envelope.to":
		e.Envelope.To = suitePath(val)
	case "envelope.orig_to":
		e.Envelope.OrigTo = strings.Trim(val, "<>")
	case "envelope.auth":
		e.Envelope.Auth = val
	default:
		r.setVar(name, val)
	}
	return nil
}

func firstAddress(m Message, def string, names ...string) string {
	for _, name := range names {
		if v, ok := message.FieldValue(m.Header(), name); ok {
			for _, a := range parseAddresses(v) {
				return a.local + "@" + a.domain
			}
		}
	}
	return def
}

func (r *runner) setMessage(m Message) {
	r.env.Message = m
	r.raw, r.root = m.Bytes(), m.Root()
	r.hdr = append(r.hdr[:0:0], m.Header()...)
	r.edits = false
}

func tsCompile(r *runner, n *node) (bool, error) {
	s := ts(r)
	s.errs = nil
	prog, err := s.compile(r.pstr(n, 0))
	s.prog = prog
	var ce *CompileError
	if prog != nil {
		for _, w := range prog.Warnings {
			s.errs = append(s.errs, w.Msg)
		}
	}
	if errors.As(err, &ce) {
		all := append(append(syntax.ErrorList{}, ce.Warnings...), ce.Errors...)
		sort.SliceStable(all, func(i, j int) bool {
			return all[i].Script == "" && all[j].Script == "" && all[i].Pos.Line < all[j].Pos.Line
		})
		for _, e := range all {
			s.errs = append(s.errs, e.Msg)
		}
		s.errs = append(s.errs, ce.Phase+" failed")
	} else if err != nil {
		s.errs = append(s.errs, err.Error())
	}
	return err == nil, nil
}

func (s *suite) runEnv(r *runner) *Env {
	e := *r.env
	e.Message = ParseMessage(r.currentRaw())
	e.Scripts = DirScripts{Personal: filepath.Join(s.dir, "included"), Global: filepath.Join(s.dir, "included-global")}
	return &e
}

func tsRun(r *runner, n *node) (bool, error) {
	s := ts(r)
	if s.prog == nil {
		return false, nil
	}
	s.subEnv = s.runEnv(r)
	sub := newRunner(r.ctx, s.subEnv)
	sub.hook = s
	if n.has("append_result") && s.sub != nil {
		sub.res = s.sub
		sub.res.Err = nil
	}
	sub.runProgram(s.prog)
	res := sub.finish()
	s.sub = res
	s.errs = append(s.errs, res.Warnings...)
	if res.Err != nil {
		s.errs = append(s.errs, res.Err.Error())
		return false, nil
	}
	return true, nil
}

func (s *suite) current(r *runner) (*Result, *Env) {
	if s.sub != nil {
		return s.sub, s.subEnv
	}
	res := r.res
	res.ImplicitKeep = !r.cancel
	if r.edits {
		res.Message = r.editedMessage()
	}
	res.dups = r.dupIDs
	return res, s.runEnv(r)
}

func tsExecute(r *runner, n *node) (bool, error) {
	s := ts(r)
	res, env := s.current(r)
	x := &Executor{Deliverer: attachmentFlagger{s.store}, Mailer: s.mailer, Tracker: s.tracker}
	err := res.Execute(r.ctx, env, x)
	if err != nil {
		s.errs = append(s.errs, strings.Split(err.Error(), "\n")...) // joined errors count one by one
	}
	return err == nil, nil
}

func tsResultAction(r *runner, n *node) (bool, error) {
	res, _ := ts(r).current(r)
	var names []string
	for _, a := range res.Actions {
		names = append(names, string(a.Kind))
	}
	if a, ok := n.tags["index"]; ok {
		i := int(a.Number)
		if i < 1 || i > len(names) {
			return false, nil
		}
		names = names[i-1 : i]
	}
	return r.matchKeys(n, names, n.pos[0])
}

func tsError(r *runner, n *node) (bool, error) {
	errs := ts(r).errs
	if a, ok := n.tags["index"]; ok {
		i := int(a.Number)
		if i < 1 || i > len(errs) {
			return false, nil
		}
		errs = errs[i-1 : i]
	}
	return r.matchKeys(n, errs, n.pos[0])
}

func tsMessage(r *runner, n *node) (bool, error) {
	s := ts(r)
	i := int(n.pos[0].Number)
	if n.has("smtp") {
		if i >= len(s.mailer.Sent) {
			return false, nil
		}
		m := s.mailer.Sent[i]
		r.setMessage(ParseMessage(m.Data))
		r.env.Envelope.From = m.From
		r.env.Envelope.To = strings.Join(m.To, ",")
		return true, nil
	}
	box, _ := r.tstr(n, "folder")
	msgs := s.store.Messages(box)
	if i >= len(msgs) {
		return false, nil
	}
	r.setMessage(ParseMessage(msgs[i].Data))
	r.flags = strings.Join(msgs[i].Flags, " ")
	return true, nil
}

// runSuiteFile runs one .svtest file and returns the failures (none =
// pass).
func runSuiteFile(path string) (fails []string) {
	defer func() {
		if p := recover(); p != nil {
			fails = append(fails, fmt.Sprintf("panic: %v\n%s", p, debug.Stack()))
		}
	}()
	src, err := os.ReadFile(path)
	if err != nil {
		return []string{err.Error()}
	}
	s := &suite{dir: filepath.Dir(path), store: NewMemStore(), mailer: &MemMailer{}, tracker: &MemTracker{},
		binaries: map[string]*Program{}, meta: MemMetadata{}}
	prog, err := Compile(strings.TrimSuffix(filepath.Base(path), ".svtest"), src,
		Options{Extensions: allExtensions(), extra: testsuiteSpecs(), extraExt: []string{"vnd.dovecot.testsuite"}, Scripts: s.scripts()})
	if err != nil {
		return []string{"compile: " + err.Error()}
	}
	s.env = &Env{Message: ParseMessage([]byte("From: sender@example.com\r\nTo: recipient@example.com\r\nSubject: Test\r\n\r\nTest.\r\n")),
		Envelope: Envelope{From: "sender@example.com", To: "recipient@example.com"}, Config: map[string]string{},
		Mailboxes: s.store, Tracker: s.tracker, Metadata: s.meta,
		Environment: map[string]string{"location": "MS"}, // Pigeonhole's testsuite runs as a mail server
		Scripts:     DirScripts{Personal: filepath.Join(s.dir, "included"), Global: filepath.Join(s.dir, "included-global")}}
	ctx, cancel := context.WithTimeout(context.Background(), suiteFileLimit)
	defer cancel()
	r := newRunner(ctx, s.env)
	r.hook = s
	r.runProgram(prog)
	if r.res.Err != nil {
		s.failures = append(s.failures, "runtime: "+r.res.Err.Error())
	}
	if s.tests == 0 && len(s.failures) == 0 {
		return nil
	}
	return s.failures
}

func TestPigeonholeSuite(t *testing.T) {
	if _, err := os.Stat(suiteDir); err != nil {
		t.Skipf("pigeonhole test suite not found at %s", suiteDir)
	}
	var files []string
	err := filepath.WalkDir(suiteDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".svtest") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	expected := readPassList(t)
	var passed []string
	for _, f := range files {
		rel, _ := filepath.Rel(suiteDir, f)
		if os.Getenv("SIEVE_TRACE") != "" {
			fmt.Fprintln(os.Stderr, "running", rel)
		}
		fails := runSuiteFile(f)
		if fuzzCase(rel) {
			fails = panicsOnly(fails)
		}
		if len(fails) == 0 {
			passed = append(passed, rel)
			t.Logf("PASS %s", rel)
			continue
		}
		t.Logf("FAIL %s: %s", rel, strings.Join(fails, "; "))
		if expected[rel] {
			t.Errorf("%s is listed in %s but fails: %s", rel, passList, strings.Join(fails, "; "))
		}
	}
	t.Logf("pigeonhole test suite: %d of %d files pass", len(passed), len(files))
	if *updatePass {
		data := "# Pigeonhole test files expected to pass (go test ./internal/sieve -run Suite -sieve.update)\n" + strings.Join(passed, "\n") + "\n"
		if err := os.WriteFile(passList, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fuzzCase reports a file of failures/fuzz*: Pigeonhole's fuzzsuite
// corpus (crash regressions), where a failed test or a script that does
// not compile is an outcome, and only a crash is a failure (Pigeonhole's
// fuzzsuite reports the test case result without failing on it).
func fuzzCase(rel string) bool {
	return strings.HasPrefix(filepath.ToSlash(rel), "failures/fuzz")
}

// panicsOnly keeps the failures that are crashes.
func panicsOnly(fails []string) []string {
	var out []string
	for _, f := range fails {
		if strings.HasPrefix(f, "panic: ") {
			out = append(out, f)
		}
	}
	return out
}

func readPassList(t *testing.T) map[string]bool {
	data, err := os.ReadFile(passList)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	m := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			m[l] = true
		}
	}
	return m
}

var _ = syntax.Pos{}

// suitePath turns a test_set envelope path into what delivery passes: the
// bare address ("" for "<>"), source route dropped; an invalid path stays
// as written so that the envelope test finds it invalid.
func suitePath(val string) string {
	local, domain, ok := parsePath(val)
	switch {
	case !ok:
		return val
	case domain == "":
		return local
	}
	return local + "@" + domain
}

// attachmentFlagger adds $HasAttachment or $HasNoAttachment to stored
// messages, as Pigeonhole's test suite store does
// (mail_attachment_detection_options = add-flags).
type attachmentFlagger struct{ *MemStore }

func (a attachmentFlagger) Deliver(ctx context.Context, mailbox string, create bool, flags []string, msg []byte) error {
	kw := "$HasNoAttachment"
	ParseMessage(msg).Root().Walk(func(p *message.Part) {
		if d := p.Content.Disposition; d != nil && strings.EqualFold(*d, "attachment") {
			kw = "$HasAttachment"
		}
	})
	return a.MemStore.Deliver(ctx, mailbox, create, mergeFlags(flags, []string{kw}), msg)
}

// tsMultiscript runs scripts one after the other as Pigeonhole's
// multiscript does: each script's actions are executed, the next script
// sees the message as edited so far and the internal flags, and the run
// stops once a script cancels the implicit keep; only the last script's
// implicit keep is performed.
func tsMultiscript(r *runner, n *node) (bool, error) {
	s := ts(r)
	env := s.runEnv(r)
	x := &Executor{Deliverer: attachmentFlagger{s.store}, Mailer: s.mailer, Tracker: s.tracker}
	ms := NewMultiscript(env, x)
	ms.hook = s
	paths := r.strs(n.pos[0])
	for i, path := range paths {
		prog, err := s.compile(path)
		if err != nil {
			s.errs = append(s.errs, err.Error())
			return false, nil
		}
		res, err := ms.Run(r.ctx, prog, i == len(paths)-1)
		if res != nil && res.Err != nil {
			err = res.Err
		}
		if err != nil {
			s.errs = append(s.errs, err.Error())
			return false, nil
		}
		if ms.Done() {
			break
		}
	}
	return true, nil
}
