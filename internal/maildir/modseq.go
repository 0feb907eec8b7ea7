package maildir

import (
	"path/filepath"
	"strconv"
	"strings"
)

// MODSEQs are reserved in blocks. roost.modseq holds a ceiling C, written
// and fsynced before any MODSEQ above the previous ceiling is handed out,
// so every MODSEQ a client has seen is <= C on disk. A box loads with
// HIGHESTMODSEQ = max(index header, C): after a crash, or with the index
// deleted, it starts at or above everything used before, without knowing
// how much of the index survived. The file is written once per
// modseqReserve changes, and never on an open that changes nothing (the
// value reported then is C itself, already durable).
const modseqReserve = 4096

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

// reserveModseqLocked makes sure n more MODSEQs can be handed out: when
// highestModSeq+n would pass the durable ceiling, it persists a new one a
// block further.
func (b *box) reserveModseqLocked(n uint64) error {
	b.initModseqLocked()
	if b.highestModSeq+n <= b.modseqCeil {
		return nil
	}
	ceil := b.highestModSeq + n + modseqReserve
	if b.p.index != "" {
		_ = b.d.fs.MkdirAll(b.p.index, 0o700)
	}
	tmp := b.modseqPath() + ".tmp"
	if err := writeFileSync(b.d.fs, tmp, []byte(strconv.FormatUint(ceil, 10)+"\n"), b.fsyncOn()); err != nil {
		return osError("write modseq", err)
	}
	if err := b.d.fs.Rename(tmp, b.modseqPath()); err != nil {
		return osError("write modseq", err)
	}
	b.modseqCeil = ceil
	return nil
}

// bumpModseqLocked advances HIGHESTMODSEQ by one. Callers that hand the
// value out reserve first (reserveModseqLocked); a failed reservation
// here is retried on the next change, and the value stays above every
// durable one.
func (b *box) bumpModseqLocked() {
	_ = b.reserveModseqLocked(1)
	b.highestModSeq++
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
