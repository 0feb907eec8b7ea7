package config

import (
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"protocols = imap\nservice imap-login {\n inet_listener imaps {\n port = 993\n }\n}\n",
		"mail_plugins = $mail_plugins sieve\nprotocol lda {\nmail_plugins = $mail_plugins x\n}\n",
		"a = \"q # x\" # c\nb = 'x\\'y'\nc = one \\\n two\n",
		"!include_try conf.d/*.conf\nssl_cert = </etc/ssl/c.pem\n",
		"mailbox \"Sent Messages\" {\nspecial_use = \\Sent\n}\n}\n",
	} {
		f.Add(s)
	}
	fsys := MapFS{"/etc/ssl/c.pem": "PEM\n", "/etc/conf.d/a.conf": "x = 1\n"}
	f.Fuzz(func(t *testing.T, s string) {
		file, err := Parse("/etc/dovecot.conf", strings.NewReader(s), Options{FS: fsys})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "/etc/") {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		walk(t, file.Root, 0)
	})
}

func walk(t *testing.T, n *Node, depth int) {
	if depth > MaxDepth+1 {
		t.Fatalf("depth %d", depth)
	}
	for _, c := range n.Children {
		if c.Line <= 0 {
			t.Fatalf("node %q without line", c.Key)
		}
		walk(t, c, depth+1)
	}
}
