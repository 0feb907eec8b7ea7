package imap

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"roost/internal/shareddir"
	"strconv"
	"strings"
	"testing"
	"time"

	"roost/internal/message"
)

// Differential check of SORT and THREAD against Dovecot 2.3.19's answers
// recorded in testdata/sortthread (see its README.md): every recorded
// command is answered from SortData built as the command code builds it
// (the cached header block, INTERNALDATE and RFC822.SIZE) and compared
// with Dovecot's response, sequence numbers and all.

// sortThreadTotal is how many commands of each kind the oracle holds;
// every one of them must agree with Dovecot. Without the corpus only the
// synthetic mailboxes are compared.
var sortThreadTotal = map[string]int{"SORT": 1675, "THREAD REFERENCES": 62, "THREAD REFS": 62, "THREAD ORDEREDSUBJECT": 62, "ESEARCH": 16}

var oracleTag = regexp.MustCompile(`\(TAG "[^"]*"\)`)

type oracleBox struct {
	msgs []SortData
	cmds []sortThreadRecord
}

func loadSortThreadOracle(t *testing.T) (names []string, boxes map[string]*oracleBox) {
	t.Helper()
	f, err := os.Open(sortThreadOracleFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var corpus string
	boxes = map[string]*oracleBox{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r sortThreadRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		b, seen := boxes[r.Mailbox]
		if seen && b == nil {
			continue // a corpus mailbox without the corpus
		}
		if b == nil {
			b = &oracleBox{}
			boxes[r.Mailbox] = b
			names = append(names, r.Mailbox)
		}
		if r.Kind == "cmd" {
			b.cmds = append(b.cmds, r)
			continue
		}
		data := []byte(r.Msg)
		if r.Path != "" {
			if corpus == "" {
				corpus = findSortThreadCorpus(t)
			}
			if corpus == "-" {
				boxes[r.Mailbox] = nil
				continue
			}
			raw, err := os.ReadFile(filepath.Join(corpus, r.Path))
			if err != nil {
				t.Fatal(err)
			}
			data = appendForm(raw, true)
		}
		b.msgs = append(b.msgs, oracleSortData(t, r, data))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names, boxes
}

// oracleSortData builds a message's SortData the way the command code
// does: from the header block FETCH caches, INTERNALDATE and size.
func oracleSortData(t *testing.T, r sortThreadRecord, data []byte) SortData {
	t.Helper()
	root := message.Parse(data)
	arrival, err := time.Parse("02-Jan-2006 15:04:05 -0700", r.Date)
	if err != nil {
		t.Fatal(err)
	}
	d := NewSortData(data[root.Offset:root.BodyOffset()], arrival, int64(r.Size), ^SortFields(0))
	d.Seq, d.UID = r.UID, r.UID // fresh mailboxes: sequence number = UID
	return d
}

func TestSortThreadAgainstDovecot(t *testing.T) {
	t.Parallel()
	names, boxes := loadSortThreadOracle(t)
	verbose := os.Getenv("ROOST_ORACLE_VERBOSE") != ""
	agree, total := map[string]int{}, map[string]int{}
	for _, name := range names {
		b := boxes[name]
		if b == nil {
			continue
		}
		for _, c := range b.cmds {
			kind, got, ok := answerOracleCmd(t, b.msgs, c.Cmd)
			if !ok {
				continue
			}
			want, _, _ := strings.Cut(c.Resp, "\r\n")
			want = oracleTag.ReplaceAllString(want, `(TAG "TAG")`)
			total[kind]++
			if got == want {
				agree[kind]++
			} else if verbose {
				t.Logf("%s %s:\n got %s\nwant %s", name, c.Cmd, got, want)
			}
		}
	}
	_, withCorpus := boxes["corpus"]
	withCorpus = withCorpus && boxes["corpus"] != nil
	for kind, want := range sortThreadTotal {
		t.Logf("%s: %d of %d agree with Dovecot", kind, agree[kind], total[kind])
		if agree[kind] != total[kind] {
			t.Errorf("%s: %d of %d agree with Dovecot (ROOST_ORACLE_VERBOSE=1 shows the differences)", kind, agree[kind], total[kind])
		}
		if withCorpus && total[kind] != want {
			t.Errorf("%s: oracle holds %d commands, want %d", kind, total[kind], want)
		}
	}
}

// answerOracleCmd answers one recorded command; ok is false for commands
// this package has no answer for.
func answerOracleCmd(t *testing.T, msgs []SortData, cmd string) (kind, resp string, ok bool) {
	t.Helper()
	switch {
	case strings.HasPrefix(cmd, "THREAD "):
		f := strings.Fields(cmd)
		alg, ok := ParseThreadAlgorithm(f[1])
		if !ok {
			t.Fatalf("%s: unknown algorithm", cmd)
		}
		return "THREAD " + f[1], "* THREAD " + string(AppendThreads(nil, Threads(msgs, alg), false)), true
	case strings.Contains(cmd, "RETURN ("):
		return "ESEARCH", answerESearch(t, msgs, cmd), true
	case strings.HasPrefix(cmd, "SORT (") && strings.HasSuffix(cmd, ") UTF-8 ALL"):
		crit, err := ParseSortCriteria(strings.Fields(cmd[len("SORT (") : len(cmd)-len(") UTF-8 ALL")]))
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		sorted := append([]SortData(nil), msgs...)
		Sort(sorted, crit)
		var b strings.Builder
		b.WriteString("* SORT")
		for _, m := range sorted {
			b.WriteString(" " + strconv.FormatUint(uint64(m.Seq), 10))
		}
		return "SORT", b.String(), true
	}
	return "", "", false
}

// answerESearch answers the recorded "[UID] SEARCH|SORT RETURN (…) …"
// commands with AppendESearch; the criteria are the few the generator
// uses (ALL, a sequence set, LARGER n, SMALLER n, SUBJECT nosuch…).
func answerESearch(t *testing.T, msgs []SortData, cmd string) string {
	t.Helper()
	uid := strings.HasPrefix(cmd, "UID ")
	cmd = strings.TrimPrefix(cmd, "UID ")
	verb, rest, _ := strings.Cut(cmd, " RETURN (")
	opts, rest, _ := strings.Cut(rest, ") ")
	var ret SearchReturn
	f := strings.Fields(opts)
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case "MIN":
			ret.Min = true
		case "MAX":
			ret.Max = true
		case "ALL":
			ret.All = true
		case "COUNT":
			ret.Count = true
		case "PARTIAL":
			i++
			r, err := ParsePartialRange(f[i])
			if err != nil {
				t.Fatalf("%s: %v", cmd, err)
			}
			ret.Partial = &r
		}
	}
	if len(f) == 0 {
		ret.All = true
	}
	var crit []SortCriterion
	if verb == "SORT" {
		keys, r, _ := strings.Cut(strings.TrimPrefix(rest, "("), ") UTF-8 ")
		c, err := ParseSortCriteria(strings.Fields(keys))
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		crit, rest = c, r
	}
	var hits []SortData
	for _, m := range msgs {
		if oracleMatch(t, m, rest, uint32(len(msgs))) {
			hits = append(hits, m)
		}
	}
	if crit != nil {
		Sort(hits, crit)
	}
	nums := make([]uint32, len(hits))
	for i, m := range hits {
		nums[i] = m.Seq
		if uid {
			nums[i] = m.UID
		}
	}
	return strings.TrimSuffix(string(AppendESearch(nil, "TAG", uid, ret, nums)), "\r\n")
}

func oracleMatch(t *testing.T, m SortData, crit string, count uint32) bool {
	key, arg, _ := strings.Cut(crit, " ")
	n, _ := strconv.ParseInt(arg, 10, 64)
	switch key {
	case "ALL":
		return true
	case "LARGER":
		return m.Size > n
	case "SMALLER":
		return m.Size < n
	case "SUBJECT":
		return false // only "nosuchsubjectanywhere" is recorded
	}
	set, err := ParseSeqSet(crit)
	if err != nil {
		t.Fatalf("criteria %q: %v", crit, err)
	}
	return set.Contains(m.Seq, count)
}

// findSortThreadCorpus returns the corpus directory, or "-" when it is
// missing outside CI (the corpus mailboxes are then skipped).
func findSortThreadCorpus(t *testing.T) string {
	dir := os.Getenv("ROOST_CORPUS")
	if dir == "" {
		dir = shareddir.Path("corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.tsv")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus missing: %v", err)
		}
		t.Logf("corpus not found at %s (set ROOST_CORPUS): comparing the synthetic mailboxes only", dir)
		return "-"
	}
	return dir
}
