package maildir

import (
	"sort"
	"strconv"
	"strings"

	"roost/internal/storage"
)

// Maildir info letters for the system flags (maildir(5), Dovecot's
// maildir-filename-flags.c). 'P' (passed) has no IMAP flag and is kept as
// an unknown letter.
const (
	flagDraft    = 1 << iota // D
	flagFlagged              // F
	flagAnswered             // R
	flagSeen                 // S
	flagDeleted              // T
)

// maxKeywords is the number of keyword letters (a..z) a file name can hold.
const maxKeywords = 26

// flagSet is the flags of one message as stored in its file name.
type flagSet struct {
	sys   uint8
	kw    uint32 // bit i = keyword letter 'a'+i
	other string // letters roost does not interpret, sorted
}

var sysLetters = [...]struct {
	bit    uint8
	letter byte
	name   string
}{
	{flagDraft, 'D', storage.FlagDraft},
	{flagFlagged, 'F', storage.FlagFlagged},
	{flagAnswered, 'R', storage.FlagAnswered},
	{flagSeen, 'S', storage.FlagSeen},
	{flagDeleted, 'T', storage.FlagDeleted},
}

// splitName splits a maildir file name into its base (up to the first
// ':') and its flag letters (after ":2,"). hasInfo reports a ":2," part.
func splitName(name string) (base, letters string, hasInfo bool) {
	i := strings.IndexByte(name, ':')
	if i < 0 {
		return name, "", false
	}
	info := name[i+1:]
	if strings.HasPrefix(info, "2,") {
		return name[:i], info[2:], true
	}
	return name[:i], "", false
}

// parseLetters turns info letters into a flagSet.
func parseLetters(letters string) flagSet {
	var fs flagSet
	var other []byte
	for i := 0; i < len(letters); i++ {
		c := letters[i]
		switch {
		case c >= 'a' && c <= 'z':
			fs.kw |= 1 << (c - 'a')
		default:
			known := false
			for _, s := range sysLetters {
				if s.letter == c {
					fs.sys |= s.bit
					known = true
				}
			}
			if !known && strings.IndexByte(string(other), c) < 0 {
				other = append(other, c)
			}
		}
	}
	sort.Slice(other, func(i, j int) bool { return other[i] < other[j] })
	fs.other = string(other)
	return fs
}

// letters returns the info letters of fs in ASCII order, as Dovecot
// writes them.
func (fs flagSet) letters() string {
	b := []byte(fs.other)
	for _, s := range sysLetters {
		if fs.sys&s.bit != 0 {
			b = append(b, s.letter)
		}
	}
	for i := 0; i < maxKeywords; i++ {
		if fs.kw&(1<<i) != 0 {
			b = append(b, byte('a'+i))
		}
	}
	sort.Slice(b, func(i, j int) bool { return b[i] < b[j] })
	return string(b)
}

// fileNameFor returns the file name for base with flags fs in cur/.
func fileNameFor(base string, fs flagSet) string {
	return base + ":2," + fs.letters()
}

// sizeField returns the value of ",<key>=<n>" in a base name.
func sizeField(base string, key byte) (int64, bool) {
	pat := string([]byte{',', key, '='})
	i := strings.Index(base, pat)
	if i < 0 {
		return 0, false
	}
	s := base[i+3:]
	j := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == 0 || (j < len(s) && s[j] != ',' && s[j] != ':') {
		return 0, false
	}
	n, err := strconv.ParseInt(s[:j], 10, 64)
	return n, err == nil
}

// sortCmp orders new file names as Dovecot assigns them UIDs
// (maildir_filename_sort_cmp): by the leading seconds, then the
// microseconds after "M", then the base name.
func sortCmp(a, b string) int {
	sa, ra := leadingNumber(a)
	sb, rb := leadingNumber(b)
	if sa != sb {
		if sa < sb {
			return -1
		}
		return 1
	}
	ua, oka := usecs(ra)
	ub, okb := usecs(rb)
	if oka && okb && ua != ub {
		if ua < ub {
			return -1
		}
		return 1
	}
	ba, _, _ := splitName(ra)
	bb, _, _ := splitName(rb)
	return strings.Compare(ba, bb)
}

func leadingNumber(s string) (uint64, string) {
	var n uint64
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + uint64(s[i]-'0')
		i++
	}
	return n, s[i:]
}

func usecs(s string) (uint64, bool) {
	if !strings.HasPrefix(s, ".") {
		return 0, false
	}
	for i := 1; i < len(s) && s[i] != '.' && s[i] != ':'; i++ {
		if s[i] == 'M' {
			n, _ := leadingNumber(s[i+1:])
			return n, true
		}
	}
	return 0, false
}

// escapeHost escapes a host name for a maildir unique name: '/' becomes
// "\057" and ':' becomes "\072" (maildir(5)).
func escapeHost(h string) string {
	h = strings.ReplaceAll(h, "/", `\057`)
	return strings.ReplaceAll(h, ":", `\072`)
}
