package oauth2db

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"roost/internal/auth"
)

var now = time.Unix(1_700_000_000, 0)

func enc(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sign makes a compact JWS with alg and key (HMAC secret bytes, RSA or EC
// private key).
func sign(t *testing.T, alg, kid string, key any, claims map[string]any) string {
	t.Helper()
	h := map[string]any{"alg": alg, "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	in := enc(h) + "." + enc(claims)
	d := sha256.Sum256([]byte(in))
	var sig []byte
	var err error
	switch k := key.(type) {
	case []byte:
		m := hmac.New(sha256.New, k)
		m.Write([]byte(in))
		sig = m.Sum(nil)
	case *rsa.PrivateKey:
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
	case *ecdsa.PrivateKey:
		r, s, e := ecdsa.Sign(rand.Reader, k, d[:])
		err = e
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	}
	if err != nil {
		t.Fatal(err)
	}
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func writeKey(t *testing.T, dir, azp, alg, kid string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, azp, alg)
	os.MkdirAll(p, 0o755)
	if err := os.WriteFile(filepath.Join(p, kid), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func pemPub(t *testing.T, pub any) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func localPassdb(t *testing.T, extra string) (*Passdb, string) {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "oauth2.conf")
	os.WriteFile(conf, []byte("introspection_mode = local\nlocal_validation_key_dict = fs:posix:prefix="+dir+"/keys/\n"+
		"username_attribute = email\npass_attrs = oauth_sub=%{oauth2:sub} nodelay=\n"+extra), 0o644)
	p, err := Open(conf, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	return p, filepath.Join(dir, "keys")
}

func claims(user string, mod func(map[string]any)) map[string]any {
	c := map[string]any{"email": user, "sub": "id-" + user, "exp": now.Unix() + 300, "iat": now.Unix() - 10,
		"iss": "https://issuer.example", "aud": "roost"}
	if mod != nil {
		mod(c)
	}
	return c
}

func verify(p *Passdb, user, token string) auth.PassResult {
	return p.VerifyPlain(context.Background(), &auth.Request{User: user, Service: "imap"}, token)
}

func TestLocalJWT(t *testing.T) {
	t.Parallel()
	p, keys := localPassdb(t, "issuers = https://issuer.example\nclient_id = roost\n")
	secret := []byte("0123456789abcdef0123456789abcdef")
	writeKey(t, keys, "default", "HS256", "default", []byte(base64.StdEncoding.EncodeToString(secret)))
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	writeKey(t, keys, "default", "RS256", "rsa%2e1", pemPub(t, &rk.PublicKey))
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	writeKey(t, keys, "mail-client", "ES256", "default", pemPub(t, &ek.PublicKey))

	ok := []struct{ name, tok string }{
		{"HS256", sign(t, "HS256", "", secret, claims("alice@example.org", nil))},
		{"RS256 kid escaped", sign(t, "RS256", "rsa.1", rk, claims("alice@example.org", nil))},
		{"ES256 azp", sign(t, "ES256", "", ek, claims("alice@example.org", func(c map[string]any) { c["azp"] = "mail-client" }))},
		{"aud list", sign(t, "HS256", "", secret, claims("alice@example.org", func(c map[string]any) { c["aud"] = []string{"x", "roost"} }))},
	}
	for _, c := range ok {
		r := verify(p, "alice@example.org", c.tok)
		if r.Status != auth.OK {
			t.Errorf("%s: %v %v", c.name, r.Status, r.Err)
			continue
		}
		if r.Fields["oauth_sub"] != "id-alice@example.org" || strings.Join(r.Order, " ") != "oauth_sub nodelay" {
			t.Errorf("%s: fields %v order %v", c.name, r.Fields, r.Order)
		}
	}
	bad := []struct{ name, tok, user string }{
		{"expired", sign(t, "HS256", "", secret, claims("alice@example.org", func(c map[string]any) { c["exp"] = now.Unix() - 1 })), ""},
		{"no exp", sign(t, "HS256", "", secret, claims("alice@example.org", func(c map[string]any) { delete(c, "exp") })), ""},
		{"not yet valid", sign(t, "HS256", "", secret, claims("alice@example.org", func(c map[string]any) { c["nbf"] = now.Unix() + 60 })), ""},
		{"issued in future", sign(t, "HS256", "", secret, claims("alice@example.org", func(c map[string]any) { c["iat"] = now.Unix() + 60 })), ""},
		{"wrong issuer", sign(t, "HS256", "", secret, claims("alice@example.org", func(c map[string]any) { c["iss"] = "https://evil" })), ""},
		{"wrong audience", sign(t, "HS256", "", secret, claims("alice@example.org", func(c map[string]any) { c["aud"] = "other" })), ""},
		{"other user", sign(t, "HS256", "", secret, claims("bob@example.org", nil)), ""},
		{"wrong key", sign(t, "HS256", "", []byte("another secret"), claims("alice@example.org", nil)), ""},
		{"unknown kid", sign(t, "RS256", "nope", rk, claims("alice@example.org", nil)), ""},
		{"alg none", enc(map[string]any{"alg": "none"}) + "." + enc(claims("alice@example.org", nil)) + ".", ""},
		{"RS256 signature as HS256", strings.Replace(sign(t, "RS256", "", rk, claims("alice@example.org", nil)), enc(map[string]any{"alg": "RS256", "typ": "JWT"}), enc(map[string]any{"alg": "HS256", "typ": "JWT"}), 1), ""},
		{"garbage", "not.a.jwt", ""},
	}
	for _, c := range bad {
		if r := verify(p, "alice@example.org", c.tok); r.Status != auth.PasswordMismatch {
			t.Errorf("%s: %v %v, want password mismatch", c.name, r.Status, r.Err)
		}
	}
	if r := p.LookupCredentials(context.Background(), &auth.Request{User: "alice@example.org"}); r.Status == auth.OK {
		t.Error("credentials lookup succeeded")
	}
}

func TestIntrospection(t *testing.T) {
	t.Parallel()
	var gotAuth, gotForm string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		u, pw, _ := r.BasicAuth()
		gotAuth, gotForm = u+":"+pw, r.PostForm.Get("token")
		switch r.PostForm.Get("token") {
		case "good":
			w.Write([]byte(`{"active":true,"username":"alice","scope":"openid mail","status":"ok"}`))
		case "inactive":
			w.Write([]byte(`{"active":false}`))
		case "boom":
			w.WriteHeader(http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(srv.Close)
	c := &Conf{Mode: ModePost, IntrospectionURL: srv.URL, ClientID: "roost", ClientSecret: "s3cret",
		UsernameAttribute: "username", UsernameFormat: "%n", Scope: []string{"mail"},
		ActiveAttribute: "status", ActiveValue: "ok"}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New(c, Options{Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if r := verify(p, "alice@example.org", "good"); r.Status != auth.OK {
		t.Errorf("good token: %v %v", r.Status, r.Err)
	}
	if gotAuth != "roost:s3cret" || gotForm != "good" {
		t.Errorf("request: basic %q token %q", gotAuth, gotForm)
	}
	for tok, want := range map[string]auth.Status{"inactive": auth.PasswordMismatch, "refused": auth.PasswordMismatch, "boom": auth.InternalFail} {
		if r := verify(p, "alice@example.org", tok); r.Status != want {
			t.Errorf("%s: %v, want %v", tok, r.Status, want)
		}
	}
	if r := verify(p, "bob@example.org", "good"); r.Status != auth.PasswordMismatch {
		t.Errorf("token of another user: %v", r.Status)
	}
	srv.Close()
	if r := verify(p, "alice@example.org", "good"); r.Status != auth.InternalFail {
		t.Errorf("introspection server down: %v, want internal failure", r.Status)
	}
}

func TestIntrospectionAuthMode(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok123" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"email":"alice@example.org"}`))
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	conf := filepath.Join(dir, "oauth2.conf")
	os.WriteFile(conf, []byte("tokeninfo_url = "+srv.URL+"/tokeninfo?access_token=\nintrospection_url = "+srv.URL+"\nintrospection_mode = auth\n"), 0o644)
	p, err := Open(conf, Options{Client: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if r := verify(p, "alice@example.org", "tok123"); r.Status != auth.OK {
		t.Errorf("auth mode: %v %v", r.Status, r.Err)
	}
	if r := verify(p, "alice@example.org", "other"); r.Status != auth.PasswordMismatch {
		t.Errorf("auth mode, bad token: %v", r.Status)
	}
}

func TestConfErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"unknown": "bogus = 1\n",
		"mode":    "introspection_mode = magic\nintrospection_url = http://x\n",
		"nourl":   "introspection_mode = post\n",
		"nokeys":  "introspection_mode = local\n",
		"baddict": "introspection_mode = local\nlocal_validation_key_dict = redis:host=x\n",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		if _, err := Open(p, Options{}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzValidateJWT(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.c2ln")
	f.Add("a.b.c")
	f.Add("....")
	keys := FSKeys{Dir: f.TempDir()}
	f.Fuzz(func(t *testing.T, tok string) {
		ValidateJWT(tok, keys, nil, "", now)
	})
}
