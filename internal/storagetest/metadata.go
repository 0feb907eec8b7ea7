package storagetest

import (
	"strings"
	"testing"

	"roost/internal/storage"
)

// testMetadata checks storage.MetadataStore, for drivers that implement it:
// set, get, remove, server entries apart from INBOX's, computed entries
// read-only, entries follow RENAME and go with DELETE, CREATE's special-use
// flags listed and readable, and everything survives a reopen.
func testMetadata(t *testing.T, c Config) {
	u := c.NewUser(t)
	ms, ok := u.(storage.MetadataStore)
	if !ok {
		t.Skip("driver does not implement storage.MetadataStore")
	}
	p, s := prefix(u), sep(u)
	box, moved := p+"Meta", p+"Moved"
	must(t, u.Create(ctx, box, nil))
	must(t, ms.SetMetadata(ctx, box, []storage.MetadataEntry{
		{Name: "/private/comment", Value: []byte("line\r\nwith\ttab")},
		{Name: "/shared/comment", Value: []byte("shared")},
		{Name: "/private/vendor/x/y", Value: []byte{}},
	}))
	must(t, ms.SetMetadata(ctx, "", []storage.MetadataEntry{{Name: "/private/vendor/x/server", Value: []byte("srv")}}))
	must(t, ms.SetMetadata(ctx, "INBOX", []storage.MetadataEntry{{Name: "/private/comment", Value: []byte("inbox")}}))
	want := "/private/comment=line\r\nwith\ttab /private/vendor/x/y= /shared/comment=shared"
	checkMeta(t, ms, box, want)
	checkMeta(t, ms, "", "/private/vendor/x/server=srv")
	checkMeta(t, ms, "INBOX", "/private/comment=inbox")

	must(t, ms.SetMetadata(ctx, box, []storage.MetadataEntry{{Name: "/shared/comment"}}))
	must(t, u.Rename(ctx, box, moved))
	want = "/private/comment=line\r\nwith\ttab /private/vendor/x/y="
	checkMeta(t, ms, moved, want)
	_, err := ms.GetMetadata(ctx, box)
	wantKind(t, err, storage.KindNotFound)

	err = ms.SetMetadata(ctx, "", []storage.MetadataEntry{{Name: storage.MetadataServerComment, Value: []byte("x")}})
	wantKind(t, err, storage.KindNotPossible)

	junk := p + "Junk" + s + "Sub"
	must(t, u.Create(ctx, junk, []string{`\Junk`}))
	checkMeta(t, ms, junk, `/private/specialuse=\Junk`)
	err = ms.SetMetadata(ctx, junk, []storage.MetadataEntry{{Name: storage.MetadataSpecialUse, Value: []byte(`\Sent`)}})
	wantKind(t, err, storage.KindNotPossible)
	checkSpecialUse(t, u, junk, `\Junk`)
	if c.Reopen != nil {
		u = c.Reopen(t, u)
		ms = u.(storage.MetadataStore)
		checkMeta(t, ms, moved, want)
		checkMeta(t, ms, "", "/private/vendor/x/server=srv")
		checkMeta(t, ms, junk, `/private/specialuse=\Junk`)
		checkSpecialUse(t, u, junk, `\Junk`)
	}

	must(t, u.Delete(ctx, moved))
	must(t, u.Create(ctx, moved, nil))
	checkMeta(t, ms, moved, "")
	checkMeta(t, ms, "INBOX", "/private/comment=inbox")
}

func checkMeta(t *testing.T, ms storage.MetadataStore, box, want string) {
	t.Helper()
	got, err := ms.GetMetadata(ctx, box)
	if err != nil {
		t.Fatalf("GetMetadata(%q): %v", box, err)
	}
	s := ""
	for i, e := range got {
		if i > 0 {
			s += " "
		}
		s += e.Name + "=" + string(e.Value)
	}
	if s != want {
		t.Errorf("GetMetadata(%q) = %q, want %q", box, s, want)
	}
}

func checkSpecialUse(t *testing.T, u storage.User, box, want string) {
	t.Helper()
	l, err := u.List(ctx)
	must(t, err)
	for _, mi := range l {
		if mi.Name == box {
			if got := strings.Join(mi.SpecialUse, " "); got != want {
				t.Errorf("LIST %s special-use = %q, want %q", box, got, want)
			}
			return
		}
	}
	t.Errorf("LIST has no %s", box)
}

// RunMetadata runs only the METADATA part of the suite, for drivers whose
// tests do not run all of it.
func RunMetadata(t *testing.T, c Config) { testMetadata(t, c) }
