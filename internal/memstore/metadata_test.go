package memstore

import (
	"testing"

	"roost/internal/storage"
	"roost/internal/storagetest"
)

func TestMetadataConformance(t *testing.T) {
	t.Parallel()
	storagetest.RunMetadata(t, storagetest.Config{NewUser: func(t *testing.T) storage.User {
		u, err := New(Options{}).OpenUser(t.Context(), storage.UserConfig{Username: "u"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}})
}
