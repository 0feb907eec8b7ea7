package imapserver

import (
	"container/list"
	"slices"
)

// searchTextCacheBytes bounds the folded search text one session keeps
// for its selected mailbox (textCache).
const searchTextCacheBytes = 16 << 20

// textCache keeps the folded BODY/TEXT search text of messages of the
// selected mailbox across commands, least recently used first out. A
// message's content never changes under its UID while the mailbox is
// selected (UIDVALIDITY cannot change then), so entries stay valid until
// the mailbox is unselected, which drops the cache.
type textCache struct {
	size    int
	lru     *list.List // of *textEntry, most recent at the front
	entries map[uint32]*list.Element
}

type textEntry struct {
	uid   uint32
	parts []partText
	size  int
}

func newTextCache() *textCache {
	return &textCache{lru: list.New(), entries: map[uint32]*list.Element{}}
}

// get returns the cached parts of uid.
func (tc *textCache) get(uid uint32) ([]partText, bool) {
	if tc == nil {
		return nil, false
	}
	e, ok := tc.entries[uid]
	if !ok {
		return nil, false
	}
	tc.lru.MoveToFront(e)
	return e.Value.(*textEntry).parts, true
}

// put remembers the parts of uid, evicting the least recently used
// entries beyond searchTextCacheBytes.
func (tc *textCache) put(uid uint32, parts []partText) {
	if tc == nil || parts == nil {
		return
	}
	if _, ok := tc.entries[uid]; ok {
		return
	}
	n := 64
	for _, p := range parts {
		n += len(p.header) + len(p.body) + 32
	}
	if n > searchTextCacheBytes/4 {
		return // one huge message would flush everything else
	}
	tc.entries[uid] = tc.lru.PushFront(&textEntry{uid: uid, parts: parts, size: n})
	tc.size += n
	for tc.size > searchTextCacheBytes {
		old := tc.lru.Back()
		te := old.Value.(*textEntry)
		tc.lru.Remove(old)
		delete(tc.entries, te.uid)
		tc.size -= te.size
	}
}

func sortUint32(s []uint32) { slices.Sort(s) }
