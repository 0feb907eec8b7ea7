package server

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"roost/internal/pwscheme"
	"roost/internal/service"
)

// Quickstart ports: the standard ports plus 10000, all on 127.0.0.1.
const (
	quickIMAP  = 10143
	quickIMAPS = 10993
	quickPOP3  = 10110
	quickPOP3S = 10995
	quickLMTP  = 10024
)

// quickstartConfig is the generated configuration, in Dovecot syntax, so
// that an admin can read and grow it. %[1]s is the data directory.
const quickstartConfig = `# roost quickstart configuration, generated %[2]s.
# It is ordinary Dovecot 2.3 syntax: edit it, or copy it to /etc/roost/roost.conf.
protocols = imap pop3 lmtp
listen = 127.0.0.1
base_dir = %[1]s/run
log_path = /dev/stderr
%[3]s
ssl = yes
ssl_cert = <%[1]s/tls/cert.pem
ssl_key = <%[1]s/tls/key.pem

mail_location = maildir:~/Maildir

passdb {
  driver = passwd-file
  args = scheme=SHA512-CRYPT %[1]s/users
}
userdb {
  driver = passwd-file
  args = %[1]s/users
  default_fields = home=%[1]s/mail/%%u
}

namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \Sent
    auto = subscribe
  }
  mailbox Junk {
    special_use = \Junk
    auto = subscribe
  }
  mailbox Trash {
    special_use = \Trash
    auto = subscribe
  }
}

service imap-login {
  inet_listener imap {
    port = %[4]d
  }
  inet_listener imaps {
    port = %[5]d
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %[6]d
  }
  inet_listener pop3s {
    port = %[7]d
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    port = %[8]d
  }
}
`

// QuickstartDir returns the default quickstart data directory.
func QuickstartDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "roost"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("no data directory: set XDG_DATA_HOME or HOME, or pass -d: %w", err)
	}
	return filepath.Join(home, ".local", "share", "roost"), nil
}

// Quickstart prepares (on first run) or reuses the quickstart instance in
// dir: configuration, self-signed certificate and one generated user. It
// prints how to connect to out and returns the configuration path.
func Quickstart(dir string, out io.Writer) (string, error) {
	if dir == "" {
		var err error
		if dir, err = QuickstartDir(); err != nil {
			return "", err
		}
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for _, d := range []string{"run", "tls", "mail"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return "", fmt.Errorf("create %s: %w", d, err)
		}
	}
	if err := ensureCert(dir); err != nil {
		return "", err
	}
	username, password, err := ensureUser(dir)
	if err != nil {
		return "", err
	}
	cfg := filepath.Join(dir, "roost.conf")
	if _, err := os.Stat(cfg); errors.Is(err, os.ErrNotExist) {
		text := fmt.Sprintf(quickstartConfig, dir, time.Now().UTC().Format(time.DateOnly), quickUIDLines(),
			quickIMAP, quickIMAPS, quickPOP3, quickPOP3S, quickLMTP)
		if err := writeFileAtomic(cfg, []byte(text), 0o600); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(out, `roost quickstart (configuration: %[1]s)
  IMAP   127.0.0.1:%[2]d  (STARTTLS)  e.g. curl -k --ssl-reqd imap://127.0.0.1:%[2]d/INBOX -u %[7]s:%[8]s
  IMAPS  127.0.0.1:%[3]d  (TLS)       e.g. curl -k imaps://127.0.0.1:%[3]d/ -u %[7]s:%[8]s
  POP3   127.0.0.1:%[4]d  (STARTTLS)  e.g. curl -k --ssl-reqd pop3://127.0.0.1:%[4]d/ -u %[7]s:%[8]s
  POP3S  127.0.0.1:%[5]d  (TLS)       e.g. curl -k pop3s://127.0.0.1:%[5]d/ -u %[7]s:%[8]s
  LMTP   127.0.0.1:%[6]d              e.g. swaks --protocol LMTP --server 127.0.0.1:%[6]d --to %[7]s
  user: %[7]s  password: %[8]s
  mail is stored under %[9]s
`, cfg, quickIMAP, quickIMAPS, quickPOP3, quickPOP3S, quickLMTP, username, password, filepath.Join(dir, "mail"))
	return cfg, nil
}

// quickUIDLines makes mail owned by whoever runs the quickstart. As root
// that is root, which Dovecot refuses by default (first_valid_uid = 500):
// the quickstart allows it explicitly.
func quickUIDLines() string {
	if os.Geteuid() == 0 {
		return "# running as root: mail is owned by root\nfirst_valid_uid = 0\nmail_uid = root\nmail_gid = root"
	}
	u, err := user.Current()
	if err != nil {
		return ""
	}
	return fmt.Sprintf("mail_uid = %s\nmail_gid = %s", u.Uid, u.Gid)
}

func ensureCert(dir string) error {
	certPath := filepath.Join(dir, "tls", "cert.pem")
	if _, err := os.Stat(certPath); err == nil {
		return nil
	}
	ck, err := service.SelfSigned([]string{"localhost", "127.0.0.1"}, time.Now())
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, "tls", "key.pem"), []byte(ck.KeyPEM), 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certPath, []byte(ck.CertPEM), 0o644)
}

// ensureUser creates the users file with one user and remembers the
// password in a 0600 file so later runs can print it again.
func ensureUser(dir string) (username, password string, err error) {
	credPath := filepath.Join(dir, "credentials")
	if b, err := os.ReadFile(credPath); err == nil {
		u, p, ok := strings.Cut(strings.TrimSpace(string(b)), ":")
		if ok {
			return u, p, nil
		}
	}
	username = "roost"
	if u, err := user.Current(); err == nil && u.Username != "" && u.Username != "root" {
		username = u.Username
	}
	password = randomPassword()
	hash, err := pwscheme.Generate("SHA512-CRYPT", password, username, 0)
	if err != nil {
		return "", "", err
	}
	if err := writeFileAtomic(filepath.Join(dir, "users"), []byte(username+":"+hash+"::::::\n"), 0o600); err != nil {
		return "", "", err
	}
	if err := writeFileAtomic(credPath, []byte(username+":"+password+"\n"), 0o600); err != nil {
		return "", "", err
	}
	return username, password, nil
}

// randomPassword returns 128 random bits in base32.
func randomPassword() string { return rand.Text() }

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}
