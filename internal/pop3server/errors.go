package pop3server

import (
	"roost/internal/storage"
)

// storageError answers a storage failure as Dovecot's
// client_send_storage_error: temporary kinds get [SYS/TEMP], the others
// [SYS/PERM]; internal errors show only the generic text and a timestamp.
func (c *conn) storageError(err error) {
	text := storage.ClientText(err)
	kind := storage.KindOf(err)
	if text == "" || kind == storage.KindInternal {
		text = internalErrorText + " [" + c.srv.opts.Now().Format("2006-01-02 15:04:05") + "]"
		kind = storage.KindTemp
	}
	switch kind {
	case storage.KindTemp, storage.KindNoQuota, storage.KindInUse, storage.KindUnavailable:
		c.errReply("[SYS/TEMP] " + text)
	default:
		c.errReply("[SYS/PERM] " + text)
	}
}
