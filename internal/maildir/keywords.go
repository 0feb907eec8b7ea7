package maildir

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"roost/internal/vfs"
)

const keywordsName = "dovecot-keywords"

// readKeywords reads dovecot-keywords: lines "<index> <name>", index
// 0..25 mapping to the file name letters 'a'..'z'.
func readKeywords(fsys vfs.FS, path string) ([maxKeywords]string, stamp, error) {
	var kw [maxKeywords]string
	f, err := fsys.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return kw, stamp{}, nil
	}
	if err != nil {
		return kw, stamp{}, fmt.Errorf("open keywords: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return kw, stamp{}, fmt.Errorf("stat keywords: %w", err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		num, name, ok := strings.Cut(sc.Text(), " ")
		if !ok || name == "" {
			continue // Dovecot ignores broken lines
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 0 || n >= maxKeywords {
			continue
		}
		kw[n] = name
	}
	if err := sc.Err(); err != nil {
		return kw, stamp{}, fmt.Errorf("read keywords: %w", err)
	}
	return kw, stampOf(fi), nil
}
