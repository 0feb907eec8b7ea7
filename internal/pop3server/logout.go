package pop3server

import (
	"hash/crc32"
	"strconv"

	"roost/internal/varexpand"
)

// logoutStats expands pop3_logout_format (Dovecot's client_stats).
func (c *conn) logoutStats() string {
	b := c.box
	deleted, deletedBytes := "0", "0"
	if c.quit && c.logout == "Logged out" {
		deleted, deletedBytes = strconv.Itoa(b.deletedCount), strconv.FormatInt(b.deletedSize, 10)
	}
	vars := map[string]string{
		"top_bytes":     strconv.FormatInt(c.stats.topBytes, 10),
		"top_count":     strconv.Itoa(c.stats.topCount),
		"retr_bytes":    strconv.FormatInt(c.stats.retrBytes, 10),
		"retr_count":    strconv.Itoa(c.stats.retrCount),
		"deleted_count": deleted,
		"message_count": strconv.Itoa(len(b.msgs)),
		"message_bytes": strconv.FormatInt(b.total, 10),
		"input":         strconv.FormatInt(c.in.Load(), 10),
		"output":        strconv.FormatInt(c.out.Load(), 10),
		"session":       c.ci.SessionID,
		"deleted_bytes": deletedBytes,
	}
	short := map[string]string{"p": "top_bytes", "t": "top_count", "b": "retr_bytes", "r": "retr_count",
		"d": "deleted_count", "m": "message_count", "s": "message_bytes", "i": "input", "o": "output", "u": "uidl_change"}
	s, _ := varexpand.Expand(c.srv.opts.LogoutFormat, varexpand.LookupFunc(func(name string) (string, bool) {
		if long, ok := short[name]; ok {
			name = long
		}
		if name == "uidl_change" {
			return c.uidlChange(), true
		}
		v, ok := vars[name]
		return v, ok
	}))
	return s
}

// uidlChange is Dovecot's uidl_change statistic: CRC32 hashes of the UIDLs
// of the messages left before and after the session.
func (c *conn) uidlChange() string {
	b := c.box
	if b.uidls == nil {
		return ""
	}
	oldCount := len(b.msgs)
	if b.lowestRetr > 0 {
		oldCount = b.lowestRetr - 1
	}
	var oldHash, newHash uint32
	for i := 0; i < oldCount; i++ {
		oldHash ^= crc32.ChecksumIEEE([]byte(b.uidls[i]))
	}
	for i, u := range b.uidls {
		if !b.deleted[i] {
			newHash ^= crc32.ChecksumIEEE([]byte(u))
		}
	}
	newCount := len(b.msgs) - b.deletedCount
	if oldHash == newHash && oldCount == newCount {
		return strconv.Itoa(oldCount) + "/" + hex8(oldHash)
	}
	return strconv.Itoa(oldCount) + "/" + hex8(oldHash) + " -> " + strconv.Itoa(newCount) + "/" + hex8(newHash)
}

func hex8(v uint32) string {
	s := strconv.FormatUint(uint64(v), 16)
	for len(s) < 8 {
		s = "0" + s
	}
	return s
}
