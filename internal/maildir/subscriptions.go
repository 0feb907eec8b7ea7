package maildir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"roost/internal/vfs"
)

const subscriptionsName = "subscriptions"

// subsHeader is the version 2 header of Dovecot's subscriptions file
// (subscription-file.c). In version 2 each line is one mailbox name
// whose hierarchy levels are separated by TAB, each level tab-escaped.
const subsHeader = "V\t2\n\n"

// readSubscriptions returns the names in the file as hierarchy levels.
func readSubscriptions(fsys vfs.FS, path string, listSep byte) ([][]string, error) {
	f, err := fsys.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open subscriptions: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", err)
	}
	v2 := bytes.HasPrefix(data, []byte(subsHeader))
	if v2 {
		data = data[len(subsHeader):]
	}
	var out [][]string
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		if !v2 {
			out = append(out, strings.Split(line, string(listSep)))
			continue
		}
		levels := strings.Split(line, "\t")
		for i := range levels {
			levels[i] = tabUnescape(levels[i])
		}
		out = append(out, levels)
	}
	return out, nil
}

// writeSubscriptions writes a version 2 file under Dovecot's dotlock
// "subscriptions.lock", renamed over the file.
func writeSubscriptions(ctx context.Context, u *user, path string, names [][]string) error {
	var b bytes.Buffer
	b.WriteString(subsHeader)
	for _, levels := range names {
		for i, l := range levels {
			if i > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(tabEscape(l))
		}
		b.WriteByte('\n')
	}
	lock, err := lockFile(ctx, u.lockOpts(u.now), path)
	if err != nil {
		return err
	}
	defer lock.unlock()
	tmp := path + ".roosttmp"
	if err := writeFileSync(u.d.fs, tmp, b.Bytes(), u.fsyncFiles()); err != nil {
		_ = u.d.fs.Remove(tmp)
		return err
	}
	if err := u.d.fs.Rename(tmp, path); err != nil {
		_ = u.d.fs.Remove(tmp)
		return fmt.Errorf("rename subscriptions: %w", err)
	}
	return nil
}

// Dovecot's str_append_tabescaped: \001 -> \0011, \t -> \001t,
// \r -> \001r, \n -> \001n.
func tabEscape(s string) string {
	if !strings.ContainsAny(s, "\x01\t\r\n") {
		return s
	}
	r := strings.NewReplacer("\x01", "\x011", "\t", "\x01t", "\r", "\x01r", "\n", "\x01n")
	return r.Replace(s)
}

func tabUnescape(s string) string {
	if !strings.Contains(s, "\x01") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\x01' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case '1':
			b.WriteByte('\x01')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
