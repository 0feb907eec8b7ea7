package settings

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// compatPath is docs/compat.md, relative to this package.
const compatPath = "../../docs/compat.md"

// command is one row of the programs and commands tables. Roost names the
// entry of internal/admin's command table that implements it ("" if none).
type command struct {
	Name, Roost string
	Support
}

// programs are the binaries roost stands in for (argv[0] dispatch) and
// roost's own commands.
func programs() []command {
	d, p, n := Done, Partial, NotYet
	return []command{
		{"roost serve", "serve", Support{d, "runs the server; a quickstart instance when no configuration exists"}},
		{"roost help", "help", Support{d, "lists the commands or describes one"}},
		{"dovecot", "", Support{p, "invoked as `dovecot`: `-F`, `-c`, `-n`, `-a`, `--version`, `stop`, `reload`; `--hostdomain`, `--build-options` and `-p` not yet"}},
		{"doveconf", "config", Support{p, "`roost config`, or invoked as `doveconf`: `-n`, `-a`, `-h`, `-P`, `-c` and setting names; `-f`, `-x`, `-S`, `-m`, `-N`, `-d` not yet"}},
		{"doveadm", "", Support{p, "invoked as `doveadm`, runs the roost command of the same name; see the table below"}},
		{"dovecot-lda, deliver", "lda", Support{p, "`roost lda`, or invoked as `dovecot-lda`/`deliver`: `-d`, `-f`, `-a`, `-r`, `-m`, `-p`, `-e`, `-k`, `-c`, `-o`; exit codes 0, 67, 75, 77; no bounce is sent (a permanent refusal exits 77 for the MTA to bounce)"}},
		{"sieve-test", "sieve-test", Support{p, "`roost sieve-test`: Pigeonhole's dry run with `-f -r -a -x -e -c -m -o`; prints the same \"Performed actions\" lines (docs/sieve.md lists the extensions)"}},
		{"sievec", "sievec", Support{p, "`roost sievec`: compiles and reports errors with line and column; writes no .svbin"}},
		{"sieve-filter", "", Support{n, ""}},
	}
}

// doveadmCommands are the commands of spec/seed-reference.md section 1.2.
func doveadmCommands() []command {
	p, n, x := Partial, NotYet, Never
	return []command{
		{"acl get|set|add|remove|delete|rights|recalc|debug", "", Support{n, ""}},
		{"altmove", "", Support{n, "needs ALT storage (sdbox/mdbox)"}},
		{"auth cache flush", "auth cache flush", Support{p, "roost has no auth cache yet: nothing to flush"}},
		{"auth lookup", "auth lookup", Support{p, "runs the chain in-process; -a is ignored; fields sorted"}},
		{"auth login", "auth login", Support{p, "runs the chain in-process; -a is ignored"}},
		{"auth test", "auth test", Support{Done, "runs the chain in-process; -a is ignored"}},
		{"auth <user> (pre-2.1 spelling of auth test)", "", Support{n, ""}},
		{"backup", "", Support{n, "dsync"}},
		{"batch", "", Support{n, ""}},
		{"config", "config", Support{p, "as doveconf, above"}},
		{"copy", "", Support{n, ""}},
		{"deduplicate", "", Support{n, ""}},
		{"director add|dump|flush|map|move|remove|ring|status", "", Support{x, noteDirector}},
		{"dsync-server", "", Support{n, "dsync"}},
		{"dump", "", Support{n, ""}},
		{"exec", "", Support{x, "roost has no helper binaries to run"}},
		{"expunge", "", Support{n, ""}},
		{"fetch", "", Support{n, ""}},
		{"flags add|remove|replace", "", Support{n, ""}},
		{"force-resync", "", Support{n, "the index rebuilds itself from the mail files"}},
		{"fs copy|delete|get|iter|iter-dirs|put|stat", "", Support{x, "Dovecot Pro (obox) only"}},
		{"help", "help", Support{p, "lists roost's commands; doveadm's per-command usage text not yet"}},
		{"import", "", Support{n, ""}},
		{"index", "", Support{n, "Maildir is indexed lazily on access"}},
		{"instance list|remove", "", Support{n, ""}},
		{"kick", "", Support{n, ""}},
		{"log errors|find|reopen|test", "", Support{n, ""}},
		{"mailbox create|delete|list|rename|status|subscribe|unsubscribe|mutf7", "", Support{n, ""}},
		{"mount add|list|remove", "", Support{n, ""}},
		{"move", "", Support{n, ""}},
		{"penalty", "", Support{n, ""}},
		{"proxy kick|list", "", Support{n, ""}},
		{"purge", "", Support{n, "will exit 0 for Maildir, which has nothing to purge"}},
		{"pw", "pw", Support{p, "every scheme but OTP and PLAIN-TRUNC generation"}},
		{"quota get|recalc", "", Support{n, ""}},
		{"reload", "", Support{p, "as `dovecot reload`; `roost reload` not yet"}},
		{"replicator remove|replicate|status", "", Support{n, noteReplicator}},
		{"save", "", Support{n, ""}},
		{"search", "", Support{n, ""}},
		{"sieve activate", "sieve activate", Support{Done, "the ~/.dovecot.sieve link, as Pigeonhole's file storage"}},
		{"sieve deactivate", "sieve deactivate", Support{Done, ""}},
		{"sieve delete", "sieve delete", Support{Done, "-a deletes the active script too"}},
		{"sieve get", "sieve get", Support{Done, ""}},
		{"sieve list", "sieve list", Support{Done, "NAME, and ACTIVE after the active one"}},
		{"sieve put", "sieve put", Support{Done, "checked by the compiler and the script quotas first; -a activates"}},
		{"sieve rename", "sieve rename", Support{Done, ""}},
		{"sis deduplicate|find", "", Support{n, "single-instance attachment storage is later work"}},
		{"stats dump|top", "", Support{n, ""}},
		{"stop", "", Support{p, "as `dovecot stop`; `roost stop` not yet"}},
		{"sync", "", Support{n, "dsync"}},
		{"user", "user", Support{Done, "runs the chain in-process; -a is ignored"}},
		{"who", "", Support{n, ""}},
		{"zlibconnect", "", Support{n, ""}},
	}
}

// knownDifferences is the "Known differences from Dovecot" section.
const knownDifferences = `## Known differences from Dovecot

Deliberate deviations, each a decision rather than a gap:

- **One process.** roost serves every connection from one process, one goroutine per connection
  (DESIGN.md section 2). There are no imap-login, imap, auth or config processes, so the settings
  that size, chroot or recycle them (` + "`service_count`, `process_min_avail`, `vsz_limit`, `chroot`, `default_login_user`" + ` …)
  are accepted with a warning and have no effect. Log lines keep Dovecot's ` + "`imap-login:` and `imap(user)<session>:`" + `
  prefixes, both written by the one process. Users with different system uids are refused with a
  clear error until per-uid workers exist; they are never served as the wrong uid.
- **Warnings for what roost does not implement.** Every setting, section, plugin setting, protocol,
  mail plugin and passdb/userdb driver marked *not yet* or *never* below is a startup (and
  ` + "`roost config`" + `) warning naming file:line. Dovecot prints nothing for these.
- **` + "`global_script_path`" + ` is accepted** at the top level as an alias of ` + "`plugin { sieve_global_path }`" + `, with a
  warning (seed 000 uses it); doveconf fails with "Unknown setting".
- **` + "`$var`" + ` is always expanded in ` + "`roost config -n`" + ` output.** doveconf without ` + "`-x`" + ` prints a reference
  to another setting unexpanded (` + "`login_greeting = $instance_name ready`" + `); roost prints the value
  Dovecot runs with (` + "`login_greeting = dovecot ready`" + `), as ` + "`doveconf -x`" + ` does.
- **BINARY with truncated or invalid base64.** Dovecot 2.3.19 drops the connection when a
  ` + "`FETCH BINARY[…]`" + ` part cannot be decoded. roost will not copy that: when BINARY (RFC 3516) lands,
  such a part gets a tagged NO and the session stays open.
- **BINARY.SIZE is the size BINARY returns.** Dovecot 2.3.19's ` + "`BINARY.SIZE[1]`" + ` disagrees with the length
  of its own ` + "`BINARY[1]`" + ` literal on some quoted-printable and base64 parts (corpus: 7 of 292 recorded
  answers, e.g. 715 against a ` + "`~{1808}`" + ` literal; the same message can give either answer depending on
  what Dovecot cached). RFC 3516 defines the size as that of the decoded section, so roost answers the
  length BINARY would send, which always equals Dovecot's literal.
- **MOVE out of an EXAMINEd mailbox is refused.** EXAMINE selects read-only, and RFC 3501 section 6.3.2
  permits no change to the permanent state of the mailbox; Dovecot 2.3.19 moves the messages anyway
  (copies them and expunges them from the read-only mailbox). roost answers ` + "`NO Mailbox is read-only.`" + `
  and leaves them where they are; COPY works as in Dovecot.
- **IMAP4rev2 and UTF8=ACCEPT are advertised** (Dovecot 2.3 offers neither); they change nothing until
  the client sends ` + "`ENABLE IMAP4rev2`" + ` or ` + "`ENABLE UTF8=ACCEPT`" + `. One consequence in IMAP4rev1 sessions: a
  mailbox name sent as 8-bit UTF-8 (the go-imap v2 client does that as soon as it sees IMAP4rev2) is
  accepted, where Dovecot answers "NO Mailbox name is not valid mUTF-7"; 7-bit names are decoded
  exactly as Dovecot does.
- **METADATA, CREATE-SPECIAL-USE and APPENDLIMIT are offered by default.** METADATA (RFC 5464) is
  advertised whatever ` + "`imap_metadata`" + ` says, with the entries in the file Dovecot's usual
  ` + "`mail_attribute_dict = file:%h/Maildir/dovecot-attributes`" + ` names and in Dovecot's format, so a
  switch either way keeps them. Entries found by GETMETADATA DEPTH come sorted by name (Dovecot:
  dict order). CREATE's USE list (RFC 6154) is kept as the mailbox's ` + "`/private/specialuse`" + ` entry and
  LIST shows it; Dovecot 2.3.19 ignores USE and reports only configured special-use flags, so
  they are not shown once Dovecot serves the store again. APPENDLIMIT (RFC 7889) is advertised from
  the quota plugin's ` + "`quota_max_mail_size`" + `; Dovecot 2.3.19 has no APPENDLIMIT.
- **roost's own index.** roost never reads or writes Dovecot's ` + "`dovecot.index*`" + ` files; its index is rebuilt
  from the mail files and ` + "`dovecot-uidlist`" + `, which both servers keep exactly as Dovecot writes them.
  The settings that tune Dovecot's index (` + "`mail_cache_fields`, `mailbox_list_index`, `lock_method`, `mmap_disable`" + `)
  are *never*.
- **A missing mail root under a missing home is an error**, not an empty mailbox: Dovecot creates the
  directories; roost answers "Mail storage is not available" so an unmounted volume never looks
  like an empty mailbox (book chapter 8). A missing mail root inside an existing home is created,
  as Dovecot does.
- **TLS is Go's crypto/tls.** ` + "`ssl_cipher_list`, `ssl_cipher_suites` and `ssl_prefer_server_ciphers`" + ` are accepted
  but Go chooses the suites and their order; there are no finite-field DHE suites (` + "`ssl_dh`" + ` is
  ignored) and no SSLv3 (` + "`ssl_min_protocol = SSLv3` or `ANY`" + ` means TLSv1).
- **` + "`dovecot --version`" + `** prints ` + "`2.3.19.1 (roost 0.1)`" + `: scripts that parse the Dovecot version keep working.

No deviation is known in MIME parsing, ENVELOPE or BODYSTRUCTURE: internal/message and
internal/imap match Dovecot 2.3.19 byte for byte on all 4604 messages of the shared corpus.
`

// TestCompatDoc checks that docs/compat.md is what the status tables
// render; -update rewrites it.
func TestCompatDoc(t *testing.T) {
	t.Parallel()
	sc, err := loadSchema()
	if err != nil {
		t.Fatal(err)
	}
	got := renderCompat(sc)
	if *update {
		if err := os.WriteFile(compatPath, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(compatPath)
	if err != nil {
		t.Fatalf("%v: run go test ./internal/settings -run TestCompatDoc -update", err)
	}
	if string(want) != got {
		t.Errorf("docs/compat.md is out of date with internal/settings/status.go: run go test ./internal/settings -run TestCompatDoc -update")
	}
}

// TestSupportTablesNameRealSettings checks every status key names a
// setting or section Dovecot 2.3 has.
func TestSupportTablesNameRealSettings(t *testing.T) {
	t.Parallel()
	sc, err := loadSchema()
	if err != nil {
		t.Fatal(err)
	}
	for name := range sc.support.global {
		if _, ok := sc.globalDefault(name); !ok {
			t.Errorf("globalSupport: %s is not a Dovecot 2.3 setting", name)
		}
	}
	for key := range sc.support.section {
		kind, name, ok := strings.Cut(key, "/")
		tmpl := sc.sections[kind]
		if tmpl == nil {
			t.Errorf("sectionSupport: %s: no section %s", key, kind)
			continue
		}
		if _, found := tmpl.Get(name); ok && !found {
			t.Errorf("sectionSupport: %s is not a setting of %s { }", key, kind)
		}
	}
	for key := range sc.support.driver {
		if kind, _, _ := strings.Cut(key, "/"); kind != "passdb" && kind != "userdb" {
			t.Errorf("driverSupport: %s: want passdb/NAME or userdb/NAME", key)
		}
	}
}

// TestCommandsMatchAdmin checks the command rows against the command table
// of internal/admin, read as source (settings cannot import admin): every
// command admin has is listed, and every row naming one names a real one.
func TestCommandsMatchAdmin(t *testing.T) {
	t.Parallel()
	have, err := adminCommandNames("../admin")
	if err != nil {
		t.Fatal(err)
	}
	if len(have) == 0 {
		t.Skip("internal/admin has no command table yet")
	}
	listed := map[string]bool{}
	for _, c := range append(programs(), doveadmCommands()...) {
		if c.Roost == "" {
			if c.Status == Done {
				t.Errorf("%s: done but names no roost command", c.Name)
			}
			continue
		}
		listed[c.Roost] = true
		if !have[c.Roost] {
			t.Errorf("%s: internal/admin has no command %q", c.Name, c.Roost)
		}
	}
	for name := range have {
		if !listed[name] {
			t.Errorf("internal/admin command %q is not in the compat tables (compat_test.go)", name)
		}
	}
}

// adminCommandNames returns the Name of every Command{...} literal in the
// non-test Go files of dir.
func adminCommandNames(dir string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return nil, err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			for _, lit := range commandLits(n) {
				if name, ok := stringField(lit, "Name"); ok {
					names[name] = true
				}
			}
			return true
		})
	}
	return names, nil
}

// commandLits returns n if it is a Command{...} literal, or the elements of
// a []Command{...} literal (whose type is elided).
func commandLits(n ast.Node) []*ast.CompositeLit {
	lit, ok := n.(*ast.CompositeLit)
	if !ok {
		return nil
	}
	if id, ok := lit.Type.(*ast.Ident); ok && id.Name == "Command" {
		return []*ast.CompositeLit{lit}
	}
	arr, ok := lit.Type.(*ast.ArrayType)
	if !ok {
		return nil
	}
	if id, ok := arr.Elt.(*ast.Ident); !ok || id.Name != "Command" {
		return nil
	}
	var out []*ast.CompositeLit
	for _, e := range lit.Elts {
		if el, ok := e.(*ast.CompositeLit); ok && el.Type == nil {
			out = append(out, el)
		}
	}
	return out
}

func stringField(lit *ast.CompositeLit, field string) (string, bool) {
	for _, e := range lit.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		if k, ok := kv.Key.(*ast.Ident); !ok || k.Name != field {
			continue
		}
		if b, ok := kv.Value.(*ast.BasicLit); ok && b.Kind == token.STRING {
			s, err := strconv.Unquote(b.Value)
			return s, err == nil
		}
	}
	return "", false
}

// row is one table line: name, optional Dovecot default, status, note.
type row struct {
	name, def string
	Support
}

// table is one rendered table with its heading.
type table struct {
	heading, intro string
	withDefault    bool
	rows           []row
}

func renderCompat(sc *schema) string {
	tables := []table{
		globalTable(sc), sectionTable(sc), pluginTable(sc), namedTable("Mail plugins (`mail_plugins`)",
			"Values of `mail_plugins`; each one roost does not implement is a warning.", sc.support.mailPlugin),
		namedTable("Passdb and userdb drivers", "`driver =` of `passdb { }` and `userdb { }`; a driver roost does not have is a warning, and the server skips it.", sc.support.driver),
		namedTable("Mail storage formats", "The format prefix of `mail_location` and of a namespace's `location`.", storageSupport()),
		namedTable("Protocols", "Values of `protocols`; each one roost does not serve is a warning.", sc.support.protocol),
		commandTable("Programs", "The binaries roost stands in for when invoked under their name (`ln -s roost doveconf`), and roost's own commands.", programs()),
		commandTable("doveadm commands", "The commands of the Dovecot book's Appendix A and the seeds (spec/seed-reference.md section 1.2). `roost COMMAND` and `doveadm COMMAND` (through a link) run the same code.", doveadmCommands()),
	}
	var b strings.Builder
	b.WriteString(compatIntro)
	writeCounts(&b, tables)
	b.WriteString("\n" + knownDifferences)
	for _, t := range tables {
		writeTable(&b, t)
	}
	return b.String()
}

const compatIntro = `# Dovecot compatibility

Every Dovecot 2.3.19 setting, plugin setting, driver, storage format, protocol and command, with
its status in roost:

- **done**: behaves as in Dovecot 2.3.
- **partial**: works, with the limits the note names. No warning.
- **not yet**: accepted and ignored, with a startup warning naming file:line; planned.
- **never**: accepted and ignored, with a startup warning; the note says why.

An unknown setting is an error naming file:line, as with doveconf. The statuses are data
(` + "`internal/settings/status.go`" + `), the same tables that produce the warnings, and this file is generated
from them: ` + "`go test ./internal/settings -run TestCompatDoc -update`" + ` rewrites it, and the test fails
when it is out of date. IMAP extensions are in ` + "`docs/rfc-status.md`" + `; Sieve extensions and
Pigeonhole test-suite results in ` + "`docs/sieve.md`" + `.

`

func writeCounts(b *strings.Builder, tables []table) {
	b.WriteString("## Counts\n\n| | done | partial | not yet | never | total |\n|---|---|---|---|---|---|\n")
	var total [4]int
	for _, t := range tables {
		var c [4]int
		for _, r := range t.rows {
			c[r.Status]++
			total[r.Status]++
		}
		fmt.Fprintf(b, "| %s | %d | %d | %d | %d | %d |\n", t.heading, c[0], c[1], c[2], c[3], c[0]+c[1]+c[2]+c[3])
	}
	fmt.Fprintf(b, "| **all** | %d | %d | %d | %d | %d |\n", total[0], total[1], total[2], total[3],
		total[0]+total[1]+total[2]+total[3])
}

func writeTable(b *strings.Builder, t table) {
	fmt.Fprintf(b, "\n## %s\n\n%s\n\n", t.heading, t.intro)
	if t.withDefault {
		b.WriteString("| Setting | Dovecot default | Status | Note |\n|---|---|---|---|\n")
	} else {
		b.WriteString("| Name | Status | Note |\n|---|---|---|\n")
	}
	for _, r := range t.rows {
		if t.withDefault {
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", code(r.name), code(r.def), r.Status, cell(r.Note))
		} else {
			fmt.Fprintf(b, "| %s | %s | %s |\n", code(r.name), r.Status, cell(r.Note))
		}
	}
}

// code formats s as inline code in a table cell ("" stays empty).
func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + cell(s) + "`"
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func globalTable(sc *schema) table {
	t := table{heading: "Global settings", withDefault: true,
		intro: "Every setting of `doveconf -a` (Debian's Dovecot 2.3.19.1, built-in services aside), with its default."}
	for _, n := range sc.global.Children {
		if n.Section {
			continue
		}
		t.rows = append(t.rows, row{name: n.Key, def: n.Value, Support: globalStatus(sc.support.global, n.Key)})
	}
	return t
}

func sectionTable(sc *schema) table {
	t := table{heading: "Section settings", withDefault: true,
		intro: "Settings of `namespace { }`, `mailbox { }` (inside a namespace), `passdb { }`, `userdb { }`, `service { }` and its listeners, as `section/setting`. The built-in services' own defaults are in `doveconf -a`."}
	for _, kind := range []string{"namespace", "mailbox", "passdb", "userdb", "service", "inet_listener", "unix_listener", "fifo_listener"} {
		whole, isWhole := sc.support.section[kind]
		for _, n := range sc.sections[kind].Children {
			s := lookupSupport(sc.support.section, kind+"/"+n.Key)
			if isWhole {
				s = whole
			}
			t.rows = append(t.rows, row{name: kind + "/" + n.Key, def: n.Value, Support: s})
		}
	}
	return t
}

func pluginTable(sc *schema) table {
	return namedTable("Plugin settings", "Settings inside `plugin { }` named in the seeds and the Dovecot book. `plugin { }` is free-form, as in Dovecot: other names are kept without a warning. Numbered variants (`quota_rule2`, `imapsieve_mailbox3_name`) share the row of their base name.", sc.support.plugin)
}

func namedTable(heading, intro string, m map[string]Support) table {
	t := table{heading: heading, intro: intro}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.rows = append(t.rows, row{name: n, Support: m[n]})
	}
	return t
}

func commandTable(heading, intro string, cmds []command) table {
	t := table{heading: heading, intro: intro}
	for _, c := range cmds {
		t.rows = append(t.rows, row{name: c.Name, Support: c.Support})
	}
	return t
}
