package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMetadataAndAppendLimitWiring: mail_attribute_dict (expanded),
// mail_server_comment and quota_max_mail_size reach the IMAP server:
// SETMETADATA writes the configured file, GETMETADATA "" shows the comment,
// and APPENDLIMIT (capability and STATUS) is the plugin's limit.
func TestMetadataAndAppendLimitWiring(t *testing.T) {
	in := start(t, "mail_attribute_dict = file:%h/attrs\nmail_server_comment = hello\n"+
		"mail_plugins = quota\nplugin {\n  quota = maildir\n  quota_max_mail_size = 10k\n}\n")
	c := dial(t, in.addrs[0])
	c.expect("* OK")
	c.send("a LOGIN alice secret")
	if got := c.expect("a OK"); !strings.Contains(got, " APPENDLIMIT=10240") || !strings.Contains(got, " METADATA") {
		t.Errorf("capabilities: %q", got)
	}
	c.send("b STATUS INBOX (APPENDLIMIT)")
	c.expect("* STATUS INBOX (APPENDLIMIT 10240)")
	c.expect("b OK")
	c.send(`c SETMETADATA INBOX (/private/comment "mine")`)
	c.expect("c OK")
	c.send(`d GETMETADATA "" /shared/comment`)
	c.expect(`* METADATA "" (/shared/comment {5}`)
	c.expect("d OK")
	data, err := os.ReadFile(filepath.Join(in.dir, "home/alice/attrs"))
	if err != nil || !strings.Contains(string(data), "/comment\nmine\n") {
		t.Errorf("attribute dict: %q, %v", data, err)
	}
}
