package sasl

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"testing"

	"roost/internal/pwscheme"
)

// credsOf serves one user's stored password through pwscheme.Credentials,
// as auth.LookupCredentials does.
func credsOf(user, stored string) CredentialsFunc {
	return func(_ context.Context, authzid, authcid, scheme string) ([]byte, error) {
		if authcid != user {
			return nil, errors.New("unknown user")
		}
		return pwscheme.Credentials(stored, scheme, authcid, "")
	}
}

func TestCRAMMD5RFC2195(t *testing.T) {
	t.Parallel()
	stored, err := pwscheme.Generate("CRAM-MD5", "tanstaaftanstaaf", "tim", 0)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := pwscheme.Credentials(stored, "CRAM-MD5", "tim", "")
	mac, err := HMACMD5FromContext(raw, []byte("<1896.697170952@postoffice.reston.mci.net>"))
	if err != nil || hexs(mac) != "b913a602c7eda7a495b4e6e7334d3890" {
		t.Fatalf("HMACMD5FromContext = %x, %v", mac, err)
	}
	ctx := context.Background()
	m := NewCRAMMD5(Config{}, credsOf("tim", stored))
	ch, done, err := m.Next(ctx, nil)
	if err != nil || done || !bytes.HasPrefix(ch, []byte("<")) {
		t.Fatalf("challenge %q %v %v", ch, done, err)
	}
	resp := "tim " + hexs(hmacMD5([]byte("tanstaaftanstaaf"), ch))
	if _, done, err := m.Next(ctx, []byte(resp)); !done || err != nil {
		t.Fatalf("good response: %v %v", done, err)
	}
	m = NewCRAMMD5(Config{}, credsOf("tim", stored))
	ch, _, _ = m.Next(ctx, nil)
	resp = "tim " + hexs(hmacMD5([]byte("wrong"), ch))
	if _, _, err := m.Next(ctx, []byte(resp)); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong password: %v", err)
	}
	for _, bad := range []string{"tim", "tim 123", " b913a602c7eda7a495b4e6e7334d3890", "tim zz13a602c7eda7a495b4e6e7334d3890"} {
		m = NewCRAMMD5(Config{}, credsOf("tim", stored))
		m.Next(ctx, nil)
		if _, _, err := m.Next(ctx, []byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func hmacMD5(key, msg []byte) []byte {
	return hmacSum(func() hash.Hash { return md5New() }, key, msg)
}

func hmacSum(h func() hash.Hash, key, msg []byte) []byte {
	m := hmac.New(h, key)
	m.Write(msg)
	return m.Sum(nil)
}

func hexs(b []byte) string {
	const d = "0123456789abcdef"
	var s strings.Builder
	for _, c := range b {
		s.WriteByte(d[c>>4])
		s.WriteByte(d[c&15])
	}
	return s.String()
}

func TestDigestMD5RFC2831(t *testing.T) {
	t.Parallel()
	d := map[string]string{"username": "chris", "realm": "elwood.innosoft.com", "nonce": "OA6MG9tEQGm2hh",
		"cnonce": "OA6MHXh6VqTrRk", "nc": "00000001", "qop": "auth", "digest-uri": "imap/elwood.innosoft.com"}
	stored, _ := pwscheme.Generate("PLAIN", "secret", "", 0)
	ha1, err := pwscheme.Credentials(stored, "DIGEST-MD5", "chris@elwood.innosoft.com", "")
	if err != nil {
		t.Fatal(err)
	}
	resp, rsp := DigestResponse(ha1, d)
	if resp != "d388dad90d4bbd760a152321f2143af7" || rsp != "ea40f60335c427b5527b84dbabcdfffd" {
		t.Fatalf("DigestResponse = %s, %s", resp, rsp)
	}
	ctx := context.Background()
	m := NewDigestMD5(Config{Realms: []string{"elwood.innosoft.com"}}, credsOf("chris@elwood.innosoft.com", stored)).(*digestMD5)
	m.fixed = "OA6MG9tEQGm2hh"
	ch, _, err := m.Next(ctx, nil)
	want := `realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",qop="auth",charset=utf-8,algorithm=md5-sess`
	if err != nil || string(ch) != want {
		t.Fatalf("challenge %q, %v", ch, err)
	}
	client := `charset=utf-8,username="chris",realm="elwood.innosoft.com",nonce="OA6MG9tEQGm2hh",nc=00000001,cnonce="OA6MHXh6VqTrRk",digest-uri="imap/elwood.innosoft.com",response=d388dad90d4bbd760a152321f2143af7,qop=auth`
	ch, done, err := m.Next(ctx, []byte(client))
	if err != nil || done || string(ch) != "rspauth=ea40f60335c427b5527b84dbabcdfffd" {
		t.Fatalf("rspauth %q %v %v", ch, done, err)
	}
	if _, done, err := m.Next(ctx, []byte{}); !done || err != nil {
		t.Fatalf("final: %v %v", done, err)
	}
	m = NewDigestMD5(Config{}, credsOf("chris@elwood.innosoft.com", stored)).(*digestMD5)
	m.fixed = "OA6MG9tEQGm2hh"
	m.Next(ctx, nil)
	if _, _, err := m.Next(ctx, []byte(strings.Replace(client, "d388", "e388", 1))); !errors.Is(err, ErrMismatch) {
		t.Fatalf("wrong response: %v", err)
	}
}

func TestParseDigestResponse(t *testing.T) {
	t.Parallel()
	d, err := ParseDigestResponse([]byte(`username="a\"b",  nc=00000001 ,qop=auth`))
	if err != nil || d["username"] != `a"b` || d["nc"] != "00000001" || d["qop"] != "auth" {
		t.Fatalf("%v %v", d, err)
	}
	for _, bad := range []string{`username="x`, `a=1,a=2`, `=x`, `x`, `a="b"c`} {
		if _, err := ParseDigestResponse([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// scramCreds builds Dovecot's stored SCRAM credentials.
func scramCreds(h func() hash.Hash, password, saltB64 string, iter int) string {
	salt, _ := base64.StdEncoding.DecodeString(saltB64)
	sp, _ := pbkdf2.Key(h, password, salt, iter, h().Size())
	ck := hmacSum(h, sp, []byte("Client Key"))
	hh := h()
	hh.Write(ck)
	sk := hmacSum(h, sp, []byte("Server Key"))
	b := base64.StdEncoding.EncodeToString
	return strings.Join([]string{itoa(iter), saltB64, b(hh.Sum(nil)), b(sk)}, ",")
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func TestSCRAMRFCVectors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mech                                       string
		h                                          func() hash.Hash
		salt, snonce, first, sfirst, final, sfinal string
	}{
		{SCRAMSHA1, sha1.New, "QSXCR+Q6sek8bf92", "3rfcNHYJY1ZVvWVs7j",
			"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
			"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
			"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
			"v=rmF9pqV8S7suAoZWja4dJRkFsKQ="},
		{SCRAMSHA256, sha256.New, "W22ZaJ0SNY7soEsUEjb6gQ==", "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
			"n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
			"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
			"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
			"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="},
	}
	ctx := context.Background()
	for _, tt := range tests {
		stored := "{" + tt.mech + "}" + scramCreds(tt.h, "pencil", tt.salt, 4096)
		mech, err := NewSCRAM(tt.mech, Config{}, credsOf("user", stored))
		if err != nil {
			t.Fatal(err)
		}
		mech.(*scram).fixedNonce = tt.snonce
		ch, done, err := mech.Next(ctx, []byte(tt.first))
		if err != nil || done || string(ch) != tt.sfirst {
			t.Fatalf("%s server-first %q %v %v", tt.mech, ch, done, err)
		}
		ch, done, err = mech.Next(ctx, []byte(tt.final))
		if err != nil || !done || string(ch) != tt.sfinal {
			t.Fatalf("%s server-final %q %v %v", tt.mech, ch, done, err)
		}
		// A flipped proof fails with ErrMismatch.
		mech, _ = NewSCRAM(tt.mech, Config{}, credsOf("user", stored))
		mech.(*scram).fixedNonce = tt.snonce
		mech.Next(ctx, []byte(tt.first))
		bad := strings.Replace(tt.final, "p=", "p=A", 1)[:len(tt.final)]
		if _, _, err := mech.Next(ctx, []byte(bad)); err == nil {
			t.Fatalf("%s: bad proof accepted", tt.mech)
		}
	}
}

func TestSCRAMChannelBinding(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	stored := "{SCRAM-SHA-256}" + scramCreds(sha256.New, "pencil", "W22ZaJ0SNY7soEsUEjb6gQ==", 4096)
	cbData := []byte("0123456789abcdef0123456789abcdef")
	cb := func(typ string) ([]byte, bool) { return cbData, typ == "tls-exporter" }
	run := func(mech, gs2 string, cfg Config, cbSent []byte) error {
		m, _ := NewSCRAM(mech, cfg, credsOf("user", stored))
		ch, _, err := m.Next(ctx, []byte(gs2+"n=user,r=abc"))
		if err != nil {
			return err
		}
		return scramClientFinal(ctx, m, sha256.New, "pencil", gs2+"n=user,r=abc", string(ch), gs2, cbSent)
	}
	if err := run(SCRAMSHA256Plus, "p=tls-exporter,,", Config{ChannelBinding: cb}, cbData); err != nil {
		t.Fatalf("PLUS with right binding: %v", err)
	}
	if err := run(SCRAMSHA256Plus, "p=tls-exporter,,", Config{ChannelBinding: cb}, []byte("other")); !errors.Is(err, ErrMismatch) {
		t.Fatalf("PLUS with wrong binding: %v", err)
	}
	if err := run(SCRAMSHA256Plus, "p=tls-unique,,", Config{ChannelBinding: cb}, cbData); !errors.Is(err, ErrMalformed) {
		t.Fatalf("PLUS with unavailable type: %v", err)
	}
	if err := run(SCRAMSHA256, "y,,", Config{PlusOffered: true}, nil); !errors.Is(err, ErrMalformed) {
		t.Fatalf("downgrade: %v", err)
	}
	if err := run(SCRAMSHA256, "y,,", Config{}, nil); err != nil {
		t.Fatalf("y without PLUS offered: %v", err)
	}
	if err := run(SCRAMSHA256, "n,a=admin,", Config{}, nil); err != nil {
		t.Fatalf("authzid: %v", err)
	}
}

// scramClientFinal plays the client's final step.
func scramClientFinal(ctx context.Context, m Mechanism, h func() hash.Hash, pw, clientFirst, serverFirst, gs2 string, cb []byte) error {
	var nonce, salt string
	iter := 0
	for _, a := range strings.Split(serverFirst, ",") {
		switch {
		case strings.HasPrefix(a, "r="):
			nonce = a[2:]
		case strings.HasPrefix(a, "s="):
			salt = a[2:]
		case strings.HasPrefix(a, "i="):
			for _, c := range a[2:] {
				iter = iter*10 + int(c-'0')
			}
		}
	}
	s, _ := base64.StdEncoding.DecodeString(salt)
	sp, _ := pbkdf2.Key(h, pw, s, iter, h().Size())
	ck := hmacSum(h, sp, []byte("Client Key"))
	hh := h()
	hh.Write(ck)
	bare := clientFirst[len(gs2):]
	noProof := "c=" + base64.StdEncoding.EncodeToString(append([]byte(gs2), cb...)) + ",r=" + nonce
	sig := hmacSum(h, hh.Sum(nil), []byte(bare+","+serverFirst+","+noProof))
	for i := range ck {
		ck[i] ^= sig[i]
	}
	_, done, err := m.Next(ctx, []byte(noProof+",p="+base64.StdEncoding.EncodeToString(ck)))
	if err == nil && !done {
		return errors.New("not done")
	}
	return err
}

func TestOAuth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var got []string
	fn := func(_ context.Context, user, token string) error {
		got = append(got, user+" "+token)
		if token != "good" {
			return errors.New("invalid token")
		}
		return nil
	}
	m := NewOAuthBearer(fn)
	if _, done, err := m.Next(ctx, []byte("n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer good\x01\x01")); !done || err != nil {
		t.Fatalf("oauthbearer: %v %v", done, err)
	}
	m = NewOAuthBearer(fn)
	ch, done, err := m.Next(ctx, []byte("n,a=user@example.com,\x01auth=Bearer bad\x01\x01"))
	if err != nil || done || string(ch) != oauthBearerError {
		t.Fatalf("oauthbearer bad token: %q %v %v", ch, done, err)
	}
	if _, _, err := m.Next(ctx, []byte("\x01")); err == nil {
		t.Fatal("oauthbearer: failure not reported after error challenge")
	}
	m = NewXOAuth2(fn)
	if _, done, err := m.Next(ctx, []byte("user=someuser@example.com\x01auth=Bearer good\x01\x01")); !done || err != nil {
		t.Fatalf("xoauth2: %v %v", done, err)
	}
	if got[0] != "user@example.com good" || got[2] != "someuser@example.com good" {
		t.Fatalf("calls %q", got)
	}
	for _, bad := range []string{"n,,\x01auth=Bearer x\x01\x01", "n,a=u,\x01auth=Basic x\x01\x01", "n,a=u\x01", "x"} {
		if _, _, err := ParseOAuthBearer([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestExternalAnonymous(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var z string
	m := NewExternal(func(_ context.Context, authzid string) error { z = authzid; return nil })
	if ch, _, err := m.Next(ctx, nil); err != nil || len(ch) != 0 {
		t.Fatal(ch, err)
	}
	if _, done, err := m.Next(ctx, []byte("admin")); !done || err != nil || z != "admin" {
		t.Fatal(done, err, z)
	}
	var trace string
	a := NewAnonymous(func(_ context.Context, tr string) error { trace = tr; return nil })
	if _, done, err := a.Next(ctx, []byte("sirhc")); !done || err != nil || trace != "sirhc" {
		t.Fatal(done, err, trace)
	}
}

func TestInfoFlags(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{"plain": "plaintext", "CRAM-MD5": "dictionary active",
		"DIGEST-MD5": "dictionary active mutual-auth", "SCRAM-SHA-256": "mutual-auth", "ANONYMOUS": "anonymous", "EXTERNAL": ""} {
		i, ok := Lookup(name)
		if !ok || strings.Join(i.Flags(), " ") != want {
			t.Errorf("%s: %+v %v", name, i, ok)
		}
	}
}

func FuzzMechanisms(f *testing.F) {
	for _, s := range []string{"n,,n=user,r=abc", "tim b913a602c7eda7a495b4e6e7334d3890",
		`username="chris",nonce="x",nc=00000001,cnonce="y",digest-uri="imap/x",response=d388dad90d4bbd760a152321f2143af7`,
		"n,a=u,\x01auth=Bearer t\x01\x01", "user=u\x01auth=Bearer t\x01\x01"} {
		f.Add([]byte(s))
	}
	stored := "{PLAIN}pencil"
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx := context.Background()
		creds := func(_ context.Context, _, authcid, scheme string) ([]byte, error) {
			return pwscheme.Credentials(stored, scheme, authcid, "")
		}
		ok := func(context.Context, string, string) error { return nil }
		for _, name := range []string{SCRAMSHA1, SCRAMSHA256Plus} {
			m, _ := NewSCRAM(name, Config{}, creds)
			m.Next(ctx, b)
			m.Next(ctx, b)
		}
		for _, m := range []Mechanism{NewCRAMMD5(Config{}, creds), NewDigestMD5(Config{}, creds), NewOAuthBearer(ok), NewXOAuth2(ok)} {
			m.Next(ctx, nil)
			if _, done, err := m.Next(ctx, b); done && err == nil && (m.Name() == CRAMMD5 || m.Name() == DigestMD5) {
				t.Fatalf("%s accepted %q", m.Name(), b)
			}
		}
	})
}

func md5New() hash.Hash { return md5.New() }
