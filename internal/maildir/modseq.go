package maildir

import (
	"context"
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
//
// The numbering follows Dovecot's index: an empty mailbox is at
// HIGHESTMODSEQ 1, and each change (one STORE, one save of any number of
// messages, one EXPUNGE, one scan that found outside changes) raises it
// by one, however many messages it touched (a modseq transaction). A
// message keeps no MODSEQ of its own until a client first asks for one
// (modseqs "enabled": CONDSTORE, STATUS HIGHESTMODSEQ): every message then
// has the HIGHESTMODSEQ of that moment (modseqFloor), and later changes
// number from there. roost.modseq records the enabling: "C F" enabled at
// F, "C off" not yet; a bare "C" (written before the lazy numbering) is
// enabled at 0.
const modseqReserve = 4096

// modseqOff marks a box whose modseqs no client has asked for yet.
const modseqOff = "off"

// effModseqLocked is the MODSEQ clients see for a message whose last
// change had raw.
func (b *box) effModseqLocked(raw uint64) uint64 {
	if !b.modseqOn {
		return max(b.highestModSeq, 1)
	}
	return max(raw, b.modseqFloor)
}

// modseqTxnLocked opens a modseq transaction: every change until the
// returned func runs shares one MODSEQ. A nested call leaves the outer
// one open.
func (b *box) modseqTxnLocked() func() {
	if b.modseqTxn {
		return func() {}
	}
	b.modseqTxn, b.modseqBumped = true, false
	return func() { b.modseqTxn, b.modseqBumped = false, false }
}

// enableModseqsLocked gives every message the current HIGHESTMODSEQ, once
// per box life (roost.modseq keeps it across restarts).
func (b *box) enableModseqsLocked() error {
	b.initModseqLocked()
	if b.modseqOn {
		return nil
	}
	b.modseqOn, b.modseqFloor = true, max(b.highestModSeq, 1)
	for v := range b.views {
		v.msgs = nil // cached Messages carry the MODSEQs of before
	}
	return b.writeModseqLocked(max(b.modseqCeil, b.highestModSeq))
}

// ModSeqsEnabled reports whether a client asked for this mailbox's
// MODSEQs before (Dovecot then sends HIGHESTMODSEQ on every SELECT).
func (v *view) ModSeqsEnabled() bool {
	v.b.mu.Lock()
	defer v.b.mu.Unlock()
	v.b.initModseqLocked()
	return v.b.modseqOn
}

// EnableModSeqs starts per-message MODSEQs in the view's mailbox.
func (v *view) EnableModSeqs(_ context.Context) error {
	v.b.mu.Lock()
	defer v.b.mu.Unlock()
	return v.b.enableModseqsLocked()
}

// EnableModSeqs starts per-message MODSEQs in a mailbox not selected
// (STATUS HIGHESTMODSEQ).
func (u *user) EnableModSeqs(ctx context.Context, name string) error {
	b, _, err := u.openBox(ctx, name)
	if err != nil {
		return err
	}
	defer u.d.release(b)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.initModseqLocked(); b.modseqOn {
		return nil // no scan for an APPEND into a mailbox enabled before
	}
	if err := b.refreshLocked(ctx); err != nil {
		return err
	}
	return b.enableModseqsLocked()
}

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
	buf := make([]byte, 64)
	n, _ := f.Read(buf)
	fields := strings.Fields(string(buf[:n]))
	if len(fields) == 0 {
		return 0
	}
	v, _ := strconv.ParseUint(fields[0], 10, 64)
	switch {
	case len(fields) == 1:
		b.modseqOn = true // written before the lazy numbering
	case fields[1] != modseqOff:
		b.modseqOn = true
		b.modseqFloor, _ = strconv.ParseUint(fields[1], 10, 64)
	}
	return v
}

// writeModseqLocked persists the ceiling and the enabling.
func (b *box) writeModseqLocked(ceil uint64) error {
	if b.p.index != "" {
		_ = b.d.fs.MkdirAll(b.p.index, 0o700)
	}
	on := modseqOff
	if b.modseqOn {
		on = strconv.FormatUint(b.modseqFloor, 10)
	}
	tmp := b.modseqPath() + ".tmp"
	data := []byte(strconv.FormatUint(ceil, 10) + " " + on + "\n")
	if err := writeFileSync(b.d.fs, tmp, data, b.fsyncOn()); err != nil {
		return osError("write modseq", err)
	}
	if err := b.d.fs.Rename(tmp, b.modseqPath()); err != nil {
		return osError("write modseq", err)
	}
	b.modseqCeil = ceil
	return nil
}

// reserveModseqLocked makes sure n more MODSEQs can be handed out: when
// highestModSeq+n would pass the durable ceiling, it persists a new one a
// block further.
func (b *box) reserveModseqLocked(n uint64) error {
	b.initModseqLocked()
	if b.highestModSeq+n <= b.modseqCeil {
		return nil
	}
	return b.writeModseqLocked(b.highestModSeq + n + modseqReserve)
}

// bumpModseqLocked advances HIGHESTMODSEQ by one, once per modseq
// transaction. Callers that hand the value out reserve first
// (reserveModseqLocked); a failed reservation here is retried on the
// next change, and the value stays above every durable one.
func (b *box) bumpModseqLocked() {
	if b.modseqTxn && b.modseqBumped {
		return
	}
	b.modseqBumped = b.modseqTxn
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
	b.highestModSeq = max(b.highestModSeq, b.modseqCeil, 1) // an empty box is at 1
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

// ExpungesPending reports whether the view still shows messages expunged
// from the box (a sync with NoExpunges kept them back).
func (v *view) ExpungesPending() bool {
	v.b.mu.Lock()
	defer v.b.mu.Unlock()
	return len(v.gone) > 0
}

// trimModseqLocked lowers the persisted ceiling to HIGHESTMODSEQ when the
// box leaves the cache: the next load then goes on from the exact value,
// as Dovecot's index does, not from the top of the reserved block. Only a
// box that reserved since it loaded has anything to trim.
func (b *box) trimModseqLocked() {
	if !b.modseqInit || b.gone || b.modseqCeil <= b.highestModSeq {
		return
	}
	_ = b.writeModseqLocked(b.highestModSeq)
}
