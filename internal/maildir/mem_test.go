package maildir_test

import (
	"os"
	"path/filepath"
	"testing"

	"roost/internal/storage"
	"roost/internal/vfs"
)

// BenchmarkOpenFirst opens a large mailbox written by an outside writer
// for the first time (no dovecot-uidlist, no index), as the first SELECT
// of the bigbox case does.
func BenchmarkOpenFirst(b *testing.B) {
	home, _ := largeBox(b)
	md := filepath.Join(home, "Maildir")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for _, f := range []string{"dovecot-uidlist", "roost.index", "roost.index.log", "roost.cache", "roost.modseq"} {
			_ = os.Remove(filepath.Join(md, f))
		}
		u := openUser(&testing.T{}, vfs.OS{}, home)
		b.StartTimer()
		mb, err := u.Open(bg, "INBOX", storage.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		mb.Close()
	}
}
