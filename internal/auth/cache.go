package auth

import (
	"container/list"
	"crypto/rand"
	"strconv"
	"strings"
	"sync"
	"time"

	"roost/internal/pwscheme"
)

// CacheKeyer is implemented by drivers whose answers may be cached
// (auth_cache_size). CacheKey is a %-template of the request variables
// the answer depends on ("%u", "%u\t%s"), as Dovecot derives a driver's
// cache_key from its query; CacheKeyOf builds one.
type CacheKeyer interface {
	CacheKey() string
}

// CacheKeyOf returns the cache key template of the %-variables used in
// templates (Dovecot's auth_cache_parse_key): each distinct directive
// ("%u", "%Lu", "%{service}") once, in order of appearance, joined by
// tabs.
func CacheKeyOf(templates ...string) string {
	var out []string
	seen := map[string]bool{}
	for _, t := range templates {
		for i := 0; i < len(t); i++ {
			if t[i] != '%' || i+1 >= len(t) {
				continue
			}
			j := i + 1
			if t[j] == '%' {
				i = j
				continue
			}
			for j < len(t) && (t[j] == '-' || t[j] == '.' || (t[j] >= '0' && t[j] <= '9')) {
				j++
			}
			for j < len(t) && t[j] >= 'A' && t[j] <= 'Z' {
				j++ // modifiers
			}
			if j < len(t) && t[j] == '{' {
				if k := strings.IndexByte(t[j:], '}'); k >= 0 {
					j += k
				}
			}
			if j >= len(t) {
				break
			}
			d := t[i : j+1]
			if d == "%$" {
				i = j
				continue
			}
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
			i = j
		}
	}
	return strings.Join(out, "\t")
}

// cachedScheme hashes passwords of passdbs that return none (LDAP
// authentication binds), as Dovecot's CACHED_PASSWORD_SCHEME does, so
// later logins can be verified from the cache.
const cachedScheme = "SSHA512"

// entryOverhead approximates the bytes of one entry besides its strings.
const entryOverhead = 96

// cache is the auth cache: LRU by size, entries expire after ttl
// (found) or negTTL (unknown users, repeated mismatches).
type cache struct {
	max         int
	ttl, negTTL time.Duration
	now         func() time.Time

	mu    sync.Mutex // guards following
	lru   *list.List // of *cacheEntry, most recent first
	index map[string]*list.Element
	size  int
	hits  int64
	miss  int64
}

type cacheEntry struct {
	key     string
	user    string
	created time.Time
	size    int
	// negative: the user was unknown.
	negative bool
	// lastSuccess: the last check of this entry's password succeeded.
	lastSuccess bool
	pass        PassResult // passdb entries (Password holds the hash)
	user2       UserResult // userdb entries
}

func newCache(max int, ttl, negTTL time.Duration, now func() time.Time) *cache {
	return &cache{max: max, ttl: ttl, negTTL: negTTL, now: now, lru: list.New(), index: map[string]*list.Element{}}
}

// get returns a copy of the live entry for key. expired is set for a
// found entry past ttl (never returned) ; negExpired tells whether the
// negative TTL has passed.
func (c *cache) get(key string) (e cacheEntry, negExpired, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, found := c.index[key]
	if !found {
		c.miss++
		return cacheEntry{}, false, false
	}
	ent := el.Value.(*cacheEntry)
	age := c.now().Sub(ent.created)
	negExpired = age >= c.negTTL
	if (ent.negative && negExpired) || (!ent.negative && age >= c.ttl) {
		c.removeLocked(el)
		c.miss++
		return cacheEntry{}, false, false
	}
	c.lru.MoveToFront(el)
	c.hits++
	return *ent, negExpired, true
}

// setLastSuccess records the outcome of a password check against an
// entry.
func (c *cache) setLastSuccess(key string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, found := c.index[key]; found {
		el.Value.(*cacheEntry).lastSuccess = ok
	}
}

func (c *cache) put(e *cacheEntry) {
	if e.negative && c.negTTL <= 0 {
		return
	}
	e.created = c.now()
	e.size = entryOverhead + len(e.key) + len(e.pass.Password) + fieldsSize(e.pass.Fields) + fieldsSize(e.user2.Fields)
	if e.size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, found := c.index[e.key]; found {
		c.removeLocked(el)
	}
	c.index[e.key] = c.lru.PushFront(e)
	c.size += e.size
	for c.size > c.max {
		c.removeLocked(c.lru.Back())
	}
}

func (c *cache) removeLocked(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.lru.Remove(el)
	delete(c.index, e.key)
	c.size -= e.size
}

// flush removes every entry, or those of the given users, and returns
// how many it removed.
func (c *cache) flush(users []string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		e := el.Value.(*cacheEntry)
		if len(users) == 0 || containsFold(users, e.user) {
			c.removeLocked(el)
			n++
		}
		el = next
	}
	return n
}

func containsFold(list []string, s string) bool {
	for _, u := range list {
		if strings.EqualFold(u, s) {
			return true
		}
	}
	return false
}

func fieldsSize(f Fields) int {
	n := 0
	for k, v := range f {
		n += len(k) + len(v) + 16
	}
	return n
}

// CacheStats are the auth cache's counters.
type CacheStats struct {
	Entries, Bytes int
	Hits, Misses   int64
}

// CacheStats returns the cache's counters (zero without a cache).
func (a *Auth) CacheStats() CacheStats {
	c := a.cache
	if c == nil {
		return CacheStats{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: c.lru.Len(), Bytes: c.size, Hits: c.hits, Misses: c.miss}
}

// FlushCache empties the auth cache, or removes the entries of users
// (names as the chain saw them, after auth_username_format), and returns
// how many entries went.
func (a *Auth) FlushCache(users []string) int {
	if a.cache == nil {
		return 0
	}
	return a.cache.flush(users)
}

// cacheKey expands a driver's cache key for req: "P<n>\t..." for passdb
// n, "U<n>\t..." for userdb n. ok is false when the driver is not cached.
func (a *Auth) cacheKey(req *Request, kind byte, n int, driver any) (string, bool) {
	if a.cache == nil {
		return "", false
	}
	ck, isKeyer := driver.(CacheKeyer)
	if !isKeyer {
		return "", false
	}
	tmpl := ck.CacheKey()
	if tmpl == "" {
		return "", false
	}
	v, err := req.Expand(tmpl)
	if err != nil {
		return "", false
	}
	return string(kind) + strconv.Itoa(n) + "\t" + v, true
}

// cachedPassword hashes password for a cache entry of a passdb that
// returned no hash.
func cachedPassword(password, user string) string {
	h, err := pwscheme.GenerateRand(rand.Reader, cachedScheme, password, user, 0)
	if err != nil {
		return ""
	}
	return h
}
