package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	crand "crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cyrusTool finds a Cyrus test client (package cyrus-clients installs them outside PATH).
func cyrusTool(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join("/usr/lib/cyrus/bin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return need(t, name)
}

// forEachKind runs body against Dovecot and roost, roost through the known-failure list.
func forEachKind(t *testing.T, body func(t testing.TB, kind string)) {
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			if kind == "roost" {
				roostCase(t, func(t testing.TB) { body(t, kind) })
				return
			}
			body(t, kind)
		})
	}
}

// TestCyrusClients: Cyrus imtest and pop3test authenticate with SCRAM-SHA-1, SCRAM-SHA-256 and
// CRAM-MD5 (SASL with the Cyrus library, not our client code), and fail with a wrong password.
func TestCyrusClients(t *testing.T) {
	t.Parallel()
	imtest, pop3test := cyrusTool(t, "imtest"), cyrusTool(t, "pop3test")
	forEachKind(t, func(t testing.TB, kind string) {
		env := newPOP3Env(t, "auth_mechanisms = plain login cram-md5 scram-sha-1 scram-sha-256")
		startServer(t, env.mailEnv, kind)
		for _, mech := range []string{"SCRAM-SHA-1", "SCRAM-SHA-256", "CRAM-MD5"} {
			for _, c := range []struct {
				tool, port, quit, ok string
			}{
				{imtest, fmt.Sprint(env.Port), "x LOGOUT\r\n", "Authenticated."},
				{pop3test, fmt.Sprint(env.POP3Port), "QUIT\r\n", "Authenticated."},
			} {
				run := func(pass string) string {
					in := filepath.Join(env.Dir, "quit.txt")
					os.WriteFile(in, []byte(c.quit), 0o644)
					out, _ := runClient(t, nil, c.tool, "-p", c.port, "-m", mech, "-a", "alice", "-u", "alice",
						"-w", pass, "-f", in, "127.0.0.1")
					return out
				}
				name := filepath.Base(c.tool) + " " + mech
				if out := run("alicepw"); !strings.Contains(out, c.ok) {
					t.Errorf("%s:\n%s", name, out)
				}
				if out := run("wrong"); strings.Contains(out, c.ok) {
					t.Errorf("%s with a wrong password authenticated:\n%s", name, out)
				}
			}
		}
	})
}

// jwtHS256 issues a token signed with secret, as a local issuer would.
func jwtHS256(t testing.TB, secret []byte, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	in := enc(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." + enc(claims)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// withOAuth2 adds an oauth2 passdb validating HS256 JWTs locally (Dovecot's
// introspection_mode = local with a fs:posix key dict) after the passwd-file one.
func withOAuth2(dir string, secret []byte) envOption {
	keys := filepath.Join(dir, "oauth2-keys")
	os.MkdirAll(filepath.Join(keys, "default", "HS256"), 0o755)
	os.WriteFile(filepath.Join(keys, "default", "HS256", "default"), []byte(base64.StdEncoding.EncodeToString(secret)), 0o644)
	conf := filepath.Join(dir, "dovecot-oauth2.conf.ext")
	os.WriteFile(conf, []byte("introspection_mode = local\nlocal_validation_key_dict = fs:posix:prefix="+keys+"/\n"+
		"username_attribute = email\nissuers = https://issuer.example.org\n"), 0o644)
	return withConfig("auth_mechanisms = plain login oauthbearer xoauth2\npassdb {\n  driver = oauth2\n  args = " + conf + "\n}")
}

// TestOAuthBearerIMAP: IMAP AUTHENTICATE OAUTHBEARER and XOAUTH2 with a locally issued JWT; an
// expired token, another user's token and one from another issuer are refused.
func TestOAuthBearerIMAP(t *testing.T) {
	t.Parallel()
	forEachKind(t, func(t testing.TB, kind string) {
		dir, err := os.MkdirTemp("", "roost-oauth2-")
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o755)
		t.Cleanup(func() { os.RemoveAll(dir) })
		secret := []byte("e2e shared secret for HS256 tokens!")
		env := newMailEnv(t, withOAuth2(dir, secret))
		srv := startServer(t, env, kind)
		now := time.Now().Unix()
		token := func(user string, mod func(map[string]any)) string {
			c := map[string]any{"email": user, "sub": user, "iss": "https://issuer.example.org", "iat": now - 5, "exp": now + 600}
			if mod != nil {
				mod(c)
			}
			return jwtHS256(t, secret, c)
		}
		bearer := func(user, tok string) string {
			return base64.StdEncoding.EncodeToString([]byte("n,a=" + user + ",\x01auth=Bearer " + tok + "\x01\x01"))
		}
		xoauth := func(user, tok string) string {
			return base64.StdEncoding.EncodeToString([]byte("user=" + user + "\x01auth=Bearer " + tok + "\x01\x01"))
		}
		try := func(mech, ir string) string {
			c := &imapClient{t: t}
			rc, err := dialRaw(srv.Addr(), 1, &c.tr)
			if err != nil {
				t.Fatal(err)
			}
			defer rc.close()
			c.rc = rc
			c.seq++
			tag := fmt.Sprintf("t%d", c.seq)
			rc.send(tag + " AUTHENTICATE " + mech + " " + ir + "\r\n")
			for {
				line, err := rc.awaitTagOrContinuation(tag)
				if err != nil {
					return "error: " + err.Error()
				}
				if strings.HasPrefix(line, "+") {
					rc.send("\r\n") // the error challenge of RFC 7628 section 3.2.3
					continue
				}
				if strings.HasPrefix(line, tag+" ") {
					if strings.HasPrefix(line, tag+" OK") {
						c.do("LOGOUT")
					}
					return line
				}
			}
		}
		good := token("alice", nil)
		for _, c := range []struct{ name, mech, ir, want string }{
			{"oauthbearer", "OAUTHBEARER", bearer("alice", good), " OK "},
			{"xoauth2", "XOAUTH2", xoauth("alice", good), " OK "},
			{"expired", "OAUTHBEARER", bearer("alice", token("alice", func(c map[string]any) { c["exp"] = now - 60 })), " NO "},
			{"other user's token", "OAUTHBEARER", bearer("bob", good), " NO "},
			{"other issuer", "OAUTHBEARER", bearer("alice", token("alice", func(c map[string]any) { c["iss"] = "https://evil.example" })), " NO "},
			{"forged", "OAUTHBEARER", bearer("alice", good[:len(good)-4]+"AAAA"), " NO "},
		} {
			if got := try(c.mech, c.ir); !strings.Contains(got, c.want) {
				t.Errorf("%s: %s, want%s", c.name, got, c.want)
			}
			if c.want == " NO " {
				// A success clears the address's auth penalty, so the next
				// refusal answers without the growing delay.
				loginAs(t, srv, "alice", "alicepw", " OK ")
			}
		}
		// The passwd-file passdb still serves passwords.
		loginAs(t, srv, "alice", "alicepw", " OK ")
	})
}

// TestAuthCacheFlush: with auth_cache_size set, a password changed in the passwd-file is not
// seen while the cached entry lives (the old one still works); `roost auth cache flush USER`
// reaches the running server through its auth-master socket and drops the entry.
func TestAuthCacheFlush(t *testing.T) {
	t.Parallel()
	bin := needRoost(t)
	roostCase(t, func(t testing.TB) {
		env := newMailEnv(t, withConfig("auth_cache_size = 1M\nauth_cache_ttl = 1 hour\nauth_cache_negative_ttl = 1 hour"))
		srv := startServer(t, env, "roost")
		loginAs(t, srv, "alice", "alicepw", " OK ")
		users := filepath.Join(env.Dir, "users")
		if err := os.WriteFile(users, []byte("alice:{PLAIN}newpw::::::\nbob:{PLAIN}bobpw::::::\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		loginAs(t, srv, "alice", "alicepw", " OK ") // from the cache
		out, err := runClient(t, nil, bin, "auth", "cache", "flush", "-c", env.Conf, "alice")
		if err != nil || strings.TrimSpace(out) != "1 cache entries flushed" {
			t.Fatalf("roost auth cache flush alice: %v\n%s", err, out)
		}
		loginAs(t, srv, "alice", "alicepw", " NO ")
		loginAs(t, srv, "alice", "newpw", " OK ")
		out, err = runClient(t, nil, bin, "auth", "cache", "flush", "-c", env.Conf)
		if err != nil || !strings.HasSuffix(strings.TrimSpace(out), "cache entries flushed") {
			t.Fatalf("roost auth cache flush: %v\n%s", err, out)
		}
	})
}

// loginAs logs in on a fresh connection and checks the tagged reply contains want.
func loginAs(t testing.TB, srv *server, user, pass, want string) {
	t.Helper()
	c := &imapClient{t: t}
	rc, err := dialRaw(srv.Addr(), 1, &c.tr)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	c.rc = rc
	r, err := c.do("LOGIN %s %s", quote(user), quote(pass))
	if err != nil {
		t.Fatalf("LOGIN %s: %v", user, err)
	}
	if r.status == "OK" {
		c.do("LOGOUT")
	}
	if !strings.Contains(r.line, want) {
		t.Errorf("LOGIN %q %q: %s, want %q", user, pass, r.line, want)
	}
}

// TestAPOP: Python poplib's apop() (RFC 1939 section 7) with auth_mechanisms = plain apop,
// against the challenge in the greeting; a wrong secret is refused.
func TestAPOP(t *testing.T) {
	t.Parallel()
	py := need(t, "python3")
	script := `import poplib, sys
p = poplib.POP3(sys.argv[1], int(sys.argv[2]))
print("greeting", p.getwelcome().decode())
try:
    print(p.apop(sys.argv[3], sys.argv[4]).decode())
    print("stat", p.stat())
except poplib.error_proto as e:
    print("refused", e)
p.quit()
`
	forEachKind(t, func(t testing.TB, kind string) {
		env := newPOP3Env(t, "auth_mechanisms = plain apop")
		startServer(t, env.mailEnv, kind)
		run := func(pass string) string {
			out, err := runClient(t, nil, py, "-c", script, "127.0.0.1", fmt.Sprint(env.POP3Port), "alice", pass)
			if err != nil {
				t.Errorf("poplib: %v\n%s", err, out)
			}
			return out
		}
		if out := run("alicepw"); !strings.Contains(out, "+OK") || !strings.Contains(out, "stat (0, 0)") || !strings.Contains(out, "greeting +OK") {
			t.Errorf("APOP alice:\n%s", out)
		}
		if out := run("wrong"); !strings.Contains(out, "refused") {
			t.Errorf("APOP with a wrong secret:\n%s", out)
		}
	})
}

// writeClientCA writes a CA certificate (ca.pem) and a client certificate for cn signed by
// it (client.pem, client.key) into dir.
func writeClientCA(t testing.TB, dir, cn string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "roost e2e client CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(crand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	for name, blk := range map[string]*pem.Block{"ca.pem": {Type: "CERTIFICATE", Bytes: caDER},
		"client.pem": {Type: "CERTIFICATE", Bytes: der}, "client.key": {Type: "PRIVATE KEY", Bytes: kb}} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(blk), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExternalClientCert: IMAP STARTTLS with a client certificate (CN=alice) issued by ssl_ca,
// ssl_verify_client_cert = yes and auth_ssl_username_from_cert = yes, and a passdb giving alice
// nopassword: Python imaplib authenticates with EXTERNAL and is alice; without a certificate
// EXTERNAL fails.
func TestExternalClientCert(t *testing.T) {
	t.Parallel()
	py := need(t, "python3")
	script := `import imaplib, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if sys.argv[3] != "-":
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
m.starttls(ssl_context=ctx)
try:
    typ, data = m.authenticate("EXTERNAL", lambda _: b"")
    print("auth", typ)
    print("select", m.select("INBOX")[0])
except imaplib.IMAP4.error as e:
    print("refused", e)
m.logout()
`
	forEachKind(t, func(t testing.TB, kind string) {
		dir, err := os.MkdirTemp("", "roost-external-")
		if err != nil {
			t.Fatal(err)
		}
		os.Chmod(dir, 0o755)
		t.Cleanup(func() { os.RemoveAll(dir) })
		writeClientCA(t, dir, "alice")
		// EXTERNAL checks an empty password: certificate users need a passdb saying nopassword.
		os.WriteFile(filepath.Join(dir, "certusers"), []byte("alice:::::::nopassword\n"), 0o644)
		env := newMailEnv(t, withTLS(), withConfig(fmt.Sprintf("auth_mechanisms = plain external\n"+
			"ssl_ca = <%[1]s/ca.pem\nssl_verify_client_cert = yes\nssl_require_crl = no\nauth_ssl_username_from_cert = yes\n"+
			"auth_verbose = yes\npassdb {\n  driver = passwd-file\n  args = %[1]s/certusers\n}", dir)))
		startServer(t, env, kind)
		out, err := runClient(t, nil, py, "-c", script, "127.0.0.1", fmt.Sprint(env.Port),
			filepath.Join(dir, "client.pem"), filepath.Join(dir, "client.key"))
		if err != nil || !strings.Contains(out, "auth OK") || !strings.Contains(out, "select OK") {
			t.Errorf("EXTERNAL with a client certificate: %v\n%s", err, out)
		}
		log, _ := os.ReadFile(env.LogPath())
		if !strings.Contains(string(log), "user=<alice>, method=EXTERNAL") {
			t.Errorf("no EXTERNAL login of alice in the log:\n%s", tail(string(log), 10))
		}
		out, _ = runClient(t, nil, py, "-c", script, "127.0.0.1", fmt.Sprint(env.Port), "-", "-")
		if !strings.Contains(out, "refused") {
			t.Errorf("EXTERNAL without a certificate:\n%s", out)
		}
	})
}
