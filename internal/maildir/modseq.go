package maildir

import (
	"path/filepath"
	"strconv"
	"strings"
)

// modseqReserve is how far ahead of the highest MODSEQ in use the value
// persisted in roost.modseq runs. A rebuild (no index, or a crash) starts
// above the persisted value, so HIGHESTMODSEQ never goes backwards while
// the file is written only once per modseqReserve changes.
const modseqReserve = 1024

func (b *box) modseqPath() string {
	dir := b.p.index
	if dir == "" {
		dir = b.p.control
	}
	return filepath.Join(dir, modseqFileName)
}

func (b *box) readModseqLocked() uint64 {
	f, err := b.d.fs.Open(b.modseqPath())
	if err != nil {
		return 0
	}
	defer f.Close()
	buf := make([]byte, 32)
	n, _ := f.Read(buf)
	v, _ := strconv.ParseUint(strings.TrimSpace(string(buf[:n])), 10, 64)
	return v
}

// reserveModseqLocked persists a ceiling above highestModSeq when the
// previous one is about to be passed.
func (b *box) reserveModseqLocked() error {
	if b.highestModSeq+1 < b.modseqCeil {
		return nil
	}
	ceil := b.highestModSeq + modseqReserve
	if b.p.index != "" {
		_ = b.d.fs.MkdirAll(b.p.index, 0o700)
	}
	if err := writeFileSync(b.d.fs, b.modseqPath()+".tmp", []byte(strconv.FormatUint(ceil, 10)+"\n"), b.fsyncOn()); err != nil {
		return osError("write modseq", err)
	}
	if err := b.d.fs.Rename(b.modseqPath()+".tmp", b.modseqPath()); err != nil {
		return osError("write modseq", err)
	}
	b.modseqCeil = ceil
	return nil
}

// bumpModseqLocked advances HIGHESTMODSEQ by one, keeping the persisted
// ceiling ahead of it (a failed write is retried on the next change).
func (b *box) bumpModseqLocked() {
	b.initModseqLocked()
	b.highestModSeq++
	_ = b.reserveModseqLocked()
}

// initModseqLocked starts HIGHESTMODSEQ above every value that may have
// been used before: the persisted ceiling and the index header.
func (b *box) initModseqLocked() {
	if b.modseqInit {
		return
	}
	b.modseqInit = true
	b.modseqCeil = b.readModseqLocked()
	b.highestModSeq = max(b.highestModSeq, b.modseqCeil)
	b.openIndexLocked()
	if b.ix != nil {
		h := b.ix.Header()
		if h.UIDValidity != 0 && (b.ul.uidValidity == 0 || h.UIDValidity == b.ul.uidValidity) {
			b.highestModSeq = max(b.highestModSeq, h.HighestModSeq)
			if h.FirstRecentUID != 0 && !b.recentKnown {
				b.firstRecent, b.recentKnown = h.FirstRecentUID, true
			}
		}
	}
}
