package imapserver

import (
	"context"
	"slices"

	"roost/internal/imap"
	"roost/internal/storage"
)

// fieldScanner is implemented by mailboxes that read one cached field of
// many messages in one pass (maildir: the index's field cache in large
// sequential reads instead of one read per message). fn runs with the
// mailbox locked and must not call it; val is valid only during the call;
// ok false means no cached value (read it with Field).
type fieldScanner interface {
	ScanField(ctx context.Context, uids []uint32, name string, fn func(i int, val []byte, ok bool)) error
}

// scanChunk is how many header blocks SEARCH, SORT and THREAD read ahead
// at once; the mailbox stays locked for one chunk at a time.
const scanChunk = 1024

// headerAhead reads a cached field (the header block, FieldHeader, or the
// sort keys) of a run of messages ahead of their evaluation, one chunk
// at a time.
type headerAhead struct {
	fs     fieldScanner
	name   string
	n      int                // messages in the run
	uidAt  func(k int) uint32 // UID of the k-th message of the run
	lo, hi int                // the chunk held: [lo, hi)
	uids   []uint32
	arena  []byte
	spans  [][2]int // arena offsets per chunk message; start -1: not cached
	failed bool     // a scan failed: read each message through Field
	// pick, when set, keeps only the lines of these header fields of
	// each block (imap.PickLines): SEARCH reads a few fields, and the
	// rest of the block is not copied.
	pick []string
}

// newHeaderAhead returns a reader of the header blocks of n messages, or
// nil when mb cannot scan (callers then read each header through Field).
func newHeaderAhead(mb storage.Mailbox, n int, uidAt func(k int) uint32) *headerAhead {
	return newFieldAhead(mb, FieldHeader, n, uidAt)
}

// newFieldAhead is newHeaderAhead for the cached field name.
func newFieldAhead(mb storage.Mailbox, name string, n int, uidAt func(k int) uint32) *headerAhead {
	fs, ok := mb.(fieldScanner)
	if !ok || n == 0 {
		return nil
	}
	return &headerAhead{fs: fs, name: name, n: n, uidAt: uidAt}
}

// block returns the field of the k-th message, or nil when it is not
// cached. The block stays valid until a block outside the current
// chunk is asked for.
func (h *headerAhead) block(ctx context.Context, k int) []byte {
	if h == nil || h.failed || k < 0 || k >= h.n {
		return nil
	}
	if k < h.lo || k >= h.hi {
		if !h.fill(ctx, k) {
			return nil
		}
	}
	sp := h.spans[k-h.lo]
	if sp[0] < 0 {
		return nil
	}
	return h.arena[sp[0]:sp[1]:sp[1]]
}

// fill reads the chunk starting at k.
func (h *headerAhead) fill(ctx context.Context, k int) bool {
	h.lo, h.hi = k, min(k+scanChunk, h.n)
	h.uids = h.uids[:0]
	for j := h.lo; j < h.hi; j++ {
		h.uids = append(h.uids, h.uidAt(j))
	}
	if h.arena == nil {
		h.arena = make([]byte, 0, 64<<10) // an empty block is non-nil
	}
	h.arena, h.spans = h.arena[:0], h.spans[:0]
	err := h.fs.ScanField(ctx, h.uids, h.name, func(_ int, val []byte, ok bool) {
		if !ok {
			h.spans = append(h.spans, [2]int{-1, -1})
			return
		}
		start := len(h.arena)
		if h.pick != nil {
			h.arena = imap.PickLines(h.arena, val, h.pick...)
		} else {
			h.arena = append(h.arena, val...)
		}
		h.spans = append(h.spans, [2]int{start, len(h.arena)})
	})
	if err != nil || len(h.spans) != len(h.uids) {
		h.failed = true // Field reports the error, message by message
		return false
	}
	return true
}

// headerNames returns the header fields evaluating k reads (HEADER,
// FROM, SUBJECT, ... and Date: for SENT*), nil when it reads none.
func headerNames(k *searchKey, names []string) []string {
	switch k.op {
	case opHeader:
		if !slices.Contains(names, k.field) {
			names = append(names, k.field)
		}
	case opSentBefore, opSentOn, opSentSince:
		if !slices.Contains(names, "Date") {
			names = append(names, "Date")
		}
	}
	for _, sub := range k.sub {
		names = headerNames(sub, names)
	}
	return names
}

// cannotContain reports, without decoding, that a header key's search
// string cannot be in the searchable form of a field's raw value, so the
// decoding and folding of headerSearchValue can be skipped. It only
// answers for plain ASCII values (no RFC 2047 encoded word, no quoted
// pair) and for search strings of characters that no step of that
// transformation creates or joins: letters, digits, "." "-" "_". For
// HEADER and SUBJECT, decoding such a value only unfolds (a newline is
// always followed by white space there), compresses white space and
// folds case, which never produces a run of those characters that the
// raw value does not hold case-insensitively. Address keys (FROM, TO, ...)
// are not filtered: their rewriting adds placeholders and joins tokens.
func cannotContain(raw []byte, k *searchKey) bool {
	if len(k.folded) == 0 || k.hdrKind == hdrAddress {
		return false
	}
	for i := 0; i < len(k.folded); i++ {
		c := k.folded[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c >= 0x80, c == 0, c == '\r', c == '\\':
			return false
		case c == '=' && i+1 < len(raw) && raw[i+1] == '?':
			return false // an encoded word
		case c == '\n' && (i+1 == len(raw) || raw[i+1] != ' ' && raw[i+1] != '\t'):
			return false // dropped without white space: joins its neighbours
		}
	}
	return !containsFoldASCII(raw, k.folded)
}

// containsFoldASCII reports whether s contains the lower-case ASCII
// string sub, ignoring ASCII case in s.
func containsFoldASCII(s []byte, sub string) bool {
	first := sub[0]
	upper := first
	if first >= 'a' && first <= 'z' {
		upper = first - 'a' + 'A'
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i] != first && s[i] != upper {
			continue
		}
		j := 1
		for ; j < len(sub); j++ {
			c := s[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != sub[j] {
				break
			}
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// matchesAll reports whether k is ALL (an AND of nothing, nested): SORT
// and THREAD over ALL then skip evaluating every message.
func matchesAll(k *searchKey) bool {
	if k.op != opAnd {
		return false
	}
	for _, sub := range k.sub {
		if !matchesAll(sub) {
			return false
		}
	}
	return true
}

// allIndexes is 0..n-1.
func allIndexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
