package e2e

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// saslMechs is auth_mechanisms for the Postfix SASL tests: every mechanism swaks or gsasl can
// speak over SMTP against a {PLAIN} passwd-file.
const saslMechs = "plain login cram-md5 digest-md5 scram-sha-1 scram-sha-256"

// withAuthSocket adds a world-writable auth-client unix_listener at path (Postfix's smtpd runs
// as the postfix user) and the mechanisms to offer.
func withAuthSocket(path, mechs string) envOption {
	return withConfig(fmt.Sprintf(`auth_mechanisms = %s
service auth {
  unix_listener %s {
    mode = 0666
  }
}`, mechs, path))
}

// startPostfixSASL starts a private Postfix (as startPostfix does: its own config_directory,
// queue and loopback port, `postfix -c DIR start`) whose smtpd authenticates through the
// Dovecot auth-client socket at authSocket.
func startPostfixSASL(t testing.TB, dir, authSocket string) *postfix {
	t.Helper()
	bin := need(t, "postfix")
	if os.Geteuid() != 0 {
		t.Skip("a private Postfix instance needs root")
	}
	pu, err := user.Lookup("postfix")
	if err != nil {
		need(t, "postfix-user")
	}
	p := &postfix{dir: filepath.Join(dir, "postfix"), port: freePort(t)}
	for _, d := range []string{p.conf(), filepath.Join(p.dir, "queue"), filepath.Join(p.dir, "data")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	puid, _ := strconv.Atoi(pu.Uid)
	pgid, _ := strconv.Atoi(pu.Gid)
	os.Chown(filepath.Join(p.dir, "data"), puid, pgid)
	mainCf := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.example.org
mydomain = example.org
myorigin = example.org
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks =
alias_maps =
alias_database =
smtputf8_enable = no
biff = no
default_transport = error:no outbound mail in tests
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = %[2]s
smtpd_relay_restrictions = permit_sasl_authenticated, reject
`, p.dir, authSocket)
	masterCf := fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
proxymap  unix - - n - - proxymap
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`, p.port)
	os.WriteFile(filepath.Join(p.conf(), "main.cf"), []byte(mainCf), 0o644)
	os.WriteFile(filepath.Join(p.conf(), "master.cf"), []byte(masterCf), 0o644)
	if out, err := exec.Command(bin, "-c", p.conf(), "start").CombinedOutput(); err != nil {
		t.Fatalf("postfix start: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		exec.Command(bin, "-c", p.conf(), "stop").Run()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(p.dir, "maillog"))
			t.Logf("postfix maillog:\n%s", tail(string(log), 40))
		}
	})
	waitFor(t, "postfix smtpd to listen", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return p
}

// authSocketMechs reads the MECH lines of an auth-client handshake, in order, without the
// mechanisms Postfix's default smtpd_sasl_security_options (noanonymous) filters out.
func authSocketMechs(t testing.TB, path string) []string {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial auth socket: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(c, "VERSION\t1\t2\nCPID\t%d\n", os.Getpid())
	var mechs []string
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if f[0] == "DONE" {
			return mechs
		}
		if f[0] == "MECH" && !contains(f[2:], "anonymous") {
			mechs = append(mechs, f[1])
		}
	}
	t.Fatalf("auth handshake ended without DONE: %v", sc.Err())
	return nil
}

// ehloAuth returns the mechanisms of the 250-AUTH line swaks saw.
func ehloAuth(t testing.TB, swaks string, port int) []string {
	t.Helper()
	out, err := runClient(t, nil, swaks, "--server", "127.0.0.1", "--port", fmt.Sprint(port), "--quit-after", "EHLO")
	if err != nil {
		t.Fatalf("swaks EHLO: %v\n%s", err, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if _, rest, ok := strings.Cut(l, "<-  250-AUTH "); ok {
			return strings.Fields(rest)
		}
		if _, rest, ok := strings.Cut(l, "<-  250 AUTH "); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatalf("no AUTH in EHLO reply:\n%s", out)
	return nil
}

// TestPostfixSASL: a real Postfix with smtpd_sasl_type = dovecot against the server's auth
// socket. swaks authenticates with PLAIN, LOGIN, CRAM-MD5 and DIGEST-MD5, gsasl --smtp with
// SCRAM-SHA-1 and SCRAM-SHA-256; a wrong password gets 535 5.7.8; the EHLO AUTH list is the
// MECH list of the socket, in order. Run against Dovecot too, which validates the test.
func TestPostfixSASL(t *testing.T) {
	t.Parallel()
	swaks := need(t, "swaks")
	gsasl := need(t, "gsasl")
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body := func(t testing.TB) {
				dir, err := os.MkdirTemp("", "roost-sasl-")
				if err != nil {
					t.Fatal(err)
				}
				os.Chmod(dir, 0o755)
				t.Cleanup(func() { os.RemoveAll(dir) })
				sock := filepath.Join(dir, "auth-client")
				env := newMailEnv(t, withAuthSocket(sock, saslMechs))
				startServer(t, env, kind)
				p := startPostfixSASL(t, env.Dir, sock)
				postfixSASLChecks(t, p, sock, swaks, gsasl)
			}
			if kind == "roost" {
				roostCase(t, body)
				return
			}
			body(t)
		})
	}
}

func postfixSASLChecks(t testing.TB, p *postfix, sock, swaks, gsasl string) {
	want := authSocketMechs(t, sock)
	if got := ehloAuth(t, swaks, p.port); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Postfix advertises AUTH %v, the auth socket offers %v", got, want)
	}
	if strings.Join(want, " ") != strings.ToUpper(saslMechs) {
		t.Errorf("auth socket offers %v, want %s", want, strings.ToUpper(saslMechs))
	}
	swaksAuth := func(mech, pass string) string {
		out, _ := runClient(t, nil, swaks, "--server", "127.0.0.1", "--port", fmt.Sprint(p.port),
			"--auth", mech, "--auth-user", "alice", "--auth-password", pass, "--quit-after", "AUTH")
		return out
	}
	for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5"} {
		if out := swaksAuth(mech, "alicepw"); !strings.Contains(out, "<~  235 2.7.0 Authentication successful") &&
			!strings.Contains(out, "<-  235 2.7.0 Authentication successful") {
			t.Errorf("swaks AUTH %s:\n%s", mech, out)
		}
		if out := swaksAuth(mech, "wrong"); !strings.Contains(out, "535 5.7.8") {
			t.Errorf("swaks AUTH %s with a wrong password, want 535 5.7.8:\n%s", mech, out)
		}
	}
	for _, mech := range []string{"SCRAM-SHA-1", "SCRAM-SHA-256"} {
		gs := func(pass string) (string, error) {
			return runClient(t, nil, gsasl, "--smtp", "--connect", fmt.Sprintf("127.0.0.1:%d", p.port),
				"--no-starttls", "-m", mech, "-a", "alice", "-p", pass, "--hostname", "localhost", "--verbose")
		}
		out, err := gs("alicepw")
		if err != nil || !strings.Contains(out, "235 2.7.0") {
			t.Errorf("gsasl %s: %v\n%s", mech, err, out)
		}
		if out, _ := gs("wrong"); !strings.Contains(out, "535 5.7.8") {
			t.Errorf("gsasl %s with a wrong password, want 535 5.7.8:\n%s", mech, out)
		}
	}
}
