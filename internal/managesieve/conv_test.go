package managesieve

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roost/internal/auth"
	"roost/internal/login"
	"roost/internal/passwdfile"
	"roost/internal/sievestore"
)

func newLogin(t testing.TB) *login.Service {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(path, []byte("alice:{PLAIN}secret::::::\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pdb, err := passwdfile.NewPassdb(path, passwdfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	udb, _ := passwdfile.NewUserdb(path, passwdfile.Options{})
	a, err := auth.New(auth.Options{
		Passdbs:        []auth.PassdbConfig{{Name: "passwd-file", Driver: pdb}},
		Userdbs:        []auth.UserdbConfig{{Name: "passwd-file", Driver: udb}},
		UsernameFormat: auth.DefaultUsernameFormat, UsernameChars: auth.DefaultUsernameChars,
		Sleep: func(context.Context, time.Duration) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := login.New(login.Options{Auth: a, Mechanisms: []string{"plain"}, AllowInsecurePlaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func selfSigned(t testing.TB) *tls.Config {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

type client struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func newServer(t *testing.T, plugin map[string]string) (*client, *sievestore.Store) {
	t.Helper()
	cfg, err := sievestore.ParseConfig(plugin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st := sievestore.Open(cfg)
	srv, err := New(Options{Auth: newLogin(t), TLS: selfSigned(t),
		OpenStore: func(context.Context, *login.Session) (Store, error) { return st, nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	a, b := net.Pipe()
	srv.ServeConn(a)
	c := &client{t: t, nc: b, r: bufio.NewReader(b)}
	c.expect(`"IMPLEMENTATION" "Dovecot (Debian) Pigeonhole"`)
	c.skipTo(`OK "Dovecot (Debian) ready."`)
	return c, st
}

func (c *client) send(s string) {
	c.t.Helper()
	go c.nc.Write([]byte(s))
}

func (c *client) readLine() string {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	l, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return strings.TrimRight(l, "\r\n")
}

func (c *client) expect(want string) {
	c.t.Helper()
	if got := c.readLine(); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

func (c *client) skipTo(want string) {
	c.t.Helper()
	for {
		if l := c.readLine(); l == want {
			return
		}
	}
}

func TestConversation(t *testing.T) {
	t.Parallel()
	c, st := newServer(t, map[string]string{"sieve_quota_max_scripts": "2"})
	c.send("NOOP \"x\"\r\n")
	c.expect(`OK (TAG "x") "Done"`)
	c.send("LISTSCRIPTS\r\n")
	c.expect(`NO "Error in MANAGESIEVE command received by server."`)
	ir := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00secret"))
	c.send("AUTHENTICATE \"PLAIN\" \"" + ir + "\"\r\n")
	c.expect(`OK "Logged in."`)
	c.send("PUTSCRIPT \"one\" {6+}\r\nkeep;\n\r\n")
	c.expect(`OK "PUTSCRIPT completed."`)
	c.send("PUTSCRIPT \"bad\" {14+}\r\nfileinto \"x\";\n\r\n")
	c.expect(`NO {122}`)
	c.expect(`bad: line 1: error: unknown command 'fileinto' (only reported once at first occurrence).`)
	c.expect(`bad: error: validation failed.`)
	c.expect(``)
	c.send("CHECKSCRIPT \"if true {\"\r\n")
	if l := c.readLine(); !strings.HasPrefix(l, "NO {") {
		t.Fatalf("CHECKSCRIPT of a bad script: %q", l)
	}
	c.skipTo("error: parse failed.")
	c.expect("")
	c.send("SETACTIVE \"one\"\r\n")
	c.expect(`OK "Setactive completed."`)
	c.send("LISTSCRIPTS\r\n")
	c.expect(`"one" ACTIVE`)
	c.expect(`OK "Listscripts completed."`)
	c.send("GETSCRIPT \"one\"\r\n")
	c.expect("{6}")
	c.expect("keep;")
	c.expect("")
	c.expect(`OK "Getscript completed."`)
	c.send("PUTSCRIPT \"two\" \"stop;\"\r\n")
	c.expect(`OK "PUTSCRIPT completed."`)
	c.send("HAVESPACE \"three\" 10\r\n")
	c.expect(`NO (QUOTA/MAXSCRIPTS) "Script count quota exceeded (max 2 scripts)."`)
	c.send("DELETESCRIPT \"one\"\r\n")
	c.expect(`NO (ACTIVE) "Cannot delete the active Sieve script."`)
	c.send("RENAMESCRIPT \"one\" \"two\"\r\n")
	c.expect(`NO (ALREADYEXISTS) "A sieve script with that name already exists."`)
	c.send("GETSCRIPT \"zz\"\r\n")
	c.expect("NO (NONEXISTENT) \"Sieve script `zz' not found\"")
	c.send("RENAMESCRIPT \"one\" \"uno\"\r\n")
	c.expect(`OK "Renamescript completed."`)
	if a, _ := st.Active(); a != "uno" {
		t.Errorf("active after rename = %q", a)
	}
	c.send("SETACTIVE \"\"\r\n")
	c.expect(`OK "Active script is now deactivated."`)
	c.send("DELETESCRIPT \"uno\"\r\n")
	c.expect(`OK "Deletescript completed."`)
	c.send("UNAUTHENTICATE\r\n")
	c.expect(`OK "Unauthenticate completed."`)
	c.send("LOGOUT\r\n")
	c.expect(`OK "Logout completed."`)
}

func TestStartTLSAndContinuation(t *testing.T) {
	t.Parallel()
	c, _ := newServer(t, nil)
	c.send("STARTTLS\r\n")
	c.expect(`OK "Begin TLS negotiation now."`)
	tc := tls.Client(c.nc, &tls.Config{InsecureSkipVerify: true})
	c.nc, c.r = tc, bufio.NewReader(tc)
	c.expect(`"IMPLEMENTATION" "Dovecot (Debian) Pigeonhole"`)
	c.skipTo(`OK "TLS negotiation successful."`)
	c.send("AUTHENTICATE \"PLAIN\"\r\n")
	c.expect(`""`)
	c.send("\"" + base64.StdEncoding.EncodeToString([]byte("\x00alice\x00wrong")) + "\"\r\n")
	c.expect(`NO "Authentication failed."`)
	c.send("AUTHENTICATE \"PLAIN\"\r\n")
	c.expect(`""`)
	c.send("{" + "20+}\r\n" + base64.StdEncoding.EncodeToString([]byte("\x00alice\x00secret")) + "\r\n")
	c.expect(`OK "Logged in."`)
}

func TestBadCommandsEndLogin(t *testing.T) {
	t.Parallel()
	c, _ := newServer(t, nil)
	c.send("FOO\r\nBAR\r\nBAZ\r\n")
	c.expect(`NO "Error in MANAGESIEVE command received by server."`)
	c.expect(`NO "Error in MANAGESIEVE command received by server."`)
	c.expect(`BYE "Too many invalid MANAGESIEVE commands."`)
}
