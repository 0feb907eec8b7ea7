package imapserver

// The preview oracle: Dovecot 2.3.19's FETCH (PREVIEW) answer for every
// message of the shared corpus, recorded by TestGeneratePreviewOracle
// (preview_oracle_gen_test.go) and compared here with message.Snippet and
// roost's encoding of it. See testdata/preview/README.md.

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"roost/internal/message"
)

// previewOracleMin is how many recorded previews roost must reproduce
// byte for byte. Raise it when a fix makes more match; never lower it.
const previewOracleMin = 4603

func TestPreviewOracle(t *testing.T) {
	t.Parallel()
	dir := oracleCorpusDir(t)
	exs, err := readOracle(previewOracleFile)
	if err != nil {
		t.Fatal(err)
	}
	paths := map[uint32]string{}
	match, total := 0, 0
	for _, e := range exs {
		if e.Kind == "append" {
			paths[e.UID] = e.Path
			continue
		}
		raw, err := os.ReadFile(filepath.Join(dir, paths[e.UID]))
		if err != nil {
			t.Fatal(err)
		}
		msg := oracleAppendForm(raw)
		got := previewResponse(e.UID, message.Snippet(msg, message.Parse(msg)))
		total++
		if bytes.Equal(got, e.resp()) {
			match++
			continue
		}
		if os.Getenv("ROOST_ORACLE_VERBOSE") != "" {
			t.Logf("%s:\n dovecot %q\n roost   %q", paths[e.UID], e.resp(), got)
		}
	}
	t.Logf("previews: %d of %d match Dovecot", match, total)
	if match < previewOracleMin {
		t.Errorf("only %d previews match Dovecot, want at least %d", match, previewOracleMin)
	}
}

// previewResponse is roost's answer to UID FETCH uid (PREVIEW) for a
// message with the given preview text.
func previewResponse(uid uint32, text string) []byte {
	u := strconv.FormatUint(uint64(uid), 10)
	b := []byte("* " + u + " FETCH (UID " + u + " PREVIEW ")
	b = appendPreviewText(b, text, true)
	return append(b, ")\r\nT OK Fetch completed.\r\n"...)
}
