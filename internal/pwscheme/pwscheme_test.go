package pwscheme

import (
	"bufio"
	"bytes"
	"crypto/des"
	"errors"
	"os"
	"roost/internal/shareddir"
	"slices"
	"strings"
	"testing"
)

var vectorsFile = shareddir.Path("vectors/dovecot-pw-schemes.tsv")

type vector struct {
	scheme, user, password, hash string
}

func readVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open(vectorsFile)
	if err != nil {
		t.Skipf("vectors not available: %v", err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			t.Fatalf("bad vector line %q", line)
		}
		vs = append(vs, vector{f[0], f[1], f[2], f[3]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

// TestDovecotVectors verifies every row produced by doveadm pw, checks
// that a wrong password fails, and that the scheme can generate a value
// that verifies.
func TestDovecotVectors(t *testing.T) {
	t.Parallel()
	for _, v := range readVectors(t) {
		t.Run(v.scheme+"/"+v.password, func(t *testing.T) {
			t.Parallel()
			ok, err := Verify(v.password, v.hash, v.user)
			if err != nil || !ok {
				t.Fatalf("Verify(%q, %q) = %v, %v; want true", v.password, v.hash, ok, err)
			}
			ok, err = Verify("x"+v.password, v.hash, v.user)
			if err != nil || ok {
				t.Fatalf("Verify(wrong password) = %v, %v; want false", ok, err)
			}
			gen, err := Generate(v.scheme, v.password, v.user, 0)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			if ok, err := Verify(v.password, gen, v.user); err != nil || !ok {
				t.Fatalf("Verify(generated %q) = %v, %v", gen, ok, err)
			}
		})
	}
}

// TestBookVectors uses the values from seed-book-part1.md section 0.4.
func TestBookVectors(t *testing.T) {
	t.Parallel()
	tests := []struct{ password, hash string }{
		{"test", "{CRYPT}4ZtRq3xJ6dR1s"},
		{"test", "{MD5}$1$47PZafRb$yaF4iBIaA8iCTCJV/JPnK1"},
		{"test", "$1$47PZafRb$yaF4iBIaA8iCTCJV/JPnK1"},
		{"geheim", "{PLAIN-MD5}e8636ea013e682faf61f56ce1cb1ab5c"},
		{"geheim", "{LDAP-MD5}6GNuoBPmgvr2H1bOHLGrXA=="},
		{"geheim", "{SMD5}8jI00LUVTivwWdg2YYOv/tMxXKo="},
		{"test", "{CRAM-MD5}e02d374fde0dc75a17a557039a3a5338c7743304777dccd376f332bee68d2cf6"},
		{"geheim", "{SHA}kGByAB793z4R5tK1eC9Hd/4Dhzk="},
		{"geheim", "{SSHA}6pJi9UmtiW5DxPLSDKJN3B//5pG1HTnd"},
		{"test", "{SHA256}n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="},
		{"geheim", "{SHA512}jYR+AdIrqpafcfo2K03iHJ4Tx4grzqE7pcaorg1x/IyXAMguAIemXIs3vSn1NnR/KMlnK+wcrndi0snza2AT8g=="},
		{"geheim", "{SHA256}rdsPXngmyFfXN20b2bwzwMVEeQourJYUSoryKxKYyUA="},
		{"geheim", "{SHA256.HEX}addb0f5e7826c857d7376d1bd9bc33c0c544790a2eac96144a8af22b1298c940"},
		{"geheim", "{sha256.hex}addb0f5e7826c857d7376d1bd9bc33c0c544790a2eac96144a8af22b1298c940"},
		// Hex form guessed by length without a suffix, as Dovecot does.
		{"geheim", "{SHA256}addb0f5e7826c857d7376d1bd9bc33c0c544790a2eac96144a8af22b1298c940"},
		{"geheim", "{HMAC-MD5}f16f9cd57afad6931bff9508ef68ea2db1b62513b604cf995e4f882bed6d4f1a"},
		{"password", "{NTLM}8846f7eaee8fb117ad06bdd830b7586c"},
		{"password", "{LANMAN}e52cac67419a9a224a3b108f3fa6cb6d"},
		{"test", "{PLAIN}test"},
		{"test", "{plain}test"},
		{"test", "{PLAIN.B64}dGVzdA=="},
		{"testing", "{PLAIN-TRUNC}4-test"},
		{"test", "{PLAIN-TRUNC}4-test"},
		{"test", "4ZtRq3xJ6dR1s"}, // no prefix: DefaultScheme (CRYPT)
	}
	for _, tt := range tests {
		ok, err := Verify(tt.password, tt.hash, "")
		if err != nil || !ok {
			t.Errorf("Verify(%q, %q) = %v, %v; want true", tt.password, tt.hash, ok, err)
		}
	}
}

func TestVerifyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		stored string
		want   error
	}{
		{"{NOPE}x", ErrUnknownScheme},
		{"{SHA.ROT13}x", ErrUnknownScheme},
		{"{SHA}!!!", ErrMalformed},
		{"{SSHA}AAAA", ErrMalformed},
		{"{CRYPT}$y$j9T$abc$def", ErrUnknownScheme},
		{"{DES-CRYPT}short", ErrMalformed},
		{"{SHA512-CRYPT}nodollar", ErrMalformed},
		{"{ARGON2ID}$argon2id$v=19$m=99999999999,t=1,p=1$AAAA$AAAA", ErrMalformed},
		{"{SCRAM-SHA-1}1,2,3", ErrMalformed},
		{"{PBKDF2}$1$salt$0$00", ErrMalformed},
		{"{PLAIN-TRUNC}x", ErrMalformed},
		{"{BLF-CRYPT}$2y$99$xxx", ErrMalformed},
	}
	for _, tt := range tests {
		ok, err := Verify("pw", tt.stored, "u")
		if ok || !errors.Is(err, tt.want) {
			t.Errorf("Verify(%q) = %v, %v; want error %v", tt.stored, ok, err, tt.want)
		}
	}
	if _, err := Parse("nothing", ""); !errors.Is(err, ErrMalformed) {
		t.Errorf("Parse without prefix or default: %v", err)
	}
}

func TestGenerateAll(t *testing.T) {
	t.Parallel()
	for _, name := range List() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h, err := Generate(name, "s3cret pw", "bob@example.com", 0)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(h, "{"+name+"}") {
				t.Errorf("Generate = %q, want {%s} prefix", h, name)
			}
			for pw, want := range map[string]bool{"s3cret pw": true, "x3cret pw": false} {
				ok, err := Verify(pw, h, "bob@example.com")
				if err != nil || ok != want {
					t.Errorf("Verify(%q, %q) = %v, %v; want %v", pw, h, ok, err, want)
				}
			}
		})
	}
}

func TestGenerateRoundsAndEncoding(t *testing.T) {
	t.Parallel()
	tests := []struct{ scheme, prefix string }{
		{"SHA512-CRYPT", "{SHA512-CRYPT}$6$rounds=10000$"},
		{"SHA256-CRYPT", "{SHA256-CRYPT}$5$rounds=10000$"},
		{"BLF-CRYPT", "{BLF-CRYPT}$2y$10$"},
		{"PBKDF2", "{PBKDF2}$1$"},
		{"SCRAM-SHA-256", "{SCRAM-SHA-256}10000,"},
	}
	for _, tt := range tests {
		rounds := 10000
		if tt.scheme == "BLF-CRYPT" {
			rounds = 10
		}
		h, err := Generate(tt.scheme, "pw", "", rounds)
		if err != nil || !strings.HasPrefix(h, tt.prefix) {
			t.Errorf("Generate(%s, %d) = %q, %v; want prefix %q", tt.scheme, rounds, h, err, tt.prefix)
		}
		if ok, err := Verify("pw", h, ""); !ok || err != nil {
			t.Errorf("Verify(%q) = %v, %v", h, ok, err)
		}
	}
	h, err := Generate("sha256.hex", "geheim", "", 0)
	want := "{SHA256.HEX}addb0f5e7826c857d7376d1bd9bc33c0c544790a2eac96144a8af22b1298c940"
	if err != nil || h != want {
		t.Errorf("Generate(sha256.hex) = %q, %v; want %q", h, err, want)
	}
	// SHA-crypt with the default rounds does not write rounds=.
	h, _ = GenerateRand(bytes.NewReader(make([]byte, 64)), "SHA512-CRYPT", "pw", "", 5000)
	if strings.Contains(h, "rounds=") {
		t.Errorf("default rounds written: %q", h)
	}
}

// TestDESCipher checks the bit-level DES against crypto/des with no salt.
func TestDESCipher(t *testing.T) {
	t.Parallel()
	key := []byte{0x13, 0x34, 0x57, 0x79, 0x9b, 0xbc, 0xdf, 0xf1}
	plain := []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	std, _ := des.NewCipher(key)
	want := make([]byte, 8)
	std.Encrypt(want, plain)
	got := toBytes(newDESCipher(toBits(key), 0).encrypt(toBits(plain)))
	if !bytes.Equal(got, want) {
		t.Fatalf("DES = %x, want %x", got, want)
	}
}

func toBits(b []byte) desBlock {
	var out desBlock
	for i := range 64 {
		out[i] = b[i/8] >> (7 - i%8) & 1
	}
	return out
}

func toBytes(b desBlock) []byte {
	out := make([]byte, 8)
	for i := range 64 {
		out[i/8] |= b[i] << (7 - i%8)
	}
	return out
}

func TestCredentials(t *testing.T) {
	t.Parallel()
	want := "e02d374fde0dc75a17a557039a3a5338c7743304777dccd376f332bee68d2cf6"
	for _, stored := range []string{"{PLAIN}test", "{CRAM-MD5}" + want, "{HMAC-MD5}" + want} {
		raw, err := Credentials(stored, "CRAM-MD5", "", "PLAIN")
		if err != nil || encode(raw, EncHex) != want {
			t.Errorf("Credentials(%q) = %x, %v", stored, raw, err)
		}
	}
	if _, err := Credentials("{SHA}kGByAB793z4R5tK1eC9Hd/4Dhzk=", "CRAM-MD5", "", ""); !errors.Is(err, ErrUnknownScheme) {
		t.Errorf("Credentials from SHA: %v", err)
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	l := List()
	for _, want := range []string{"SHA512-CRYPT", "ARGON2ID", "CRAM-MD5", "PLAIN"} {
		if !slices.Contains(l, want) {
			t.Errorf("List() lacks %s", want)
		}
	}
}

// FuzzParse feeds stored-hash strings through every parser that runs
// before any expensive computation.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"{PLAIN}x", "$1$abc$def", "{SHA256.HEX}00", "{SHA512-CRYPT}$6$rounds=1$s$h",
		"{ARGON2ID}$argon2id$v=19$m=8,t=1,p=1$AAAA$AAAAAAAA", "{SCRAM-SHA-1}1,AA==,AA==,AA==",
		"{PBKDF2}$1$s$1$00", "{PLAIN-TRUNC}3-abc", "{DES-CRYPT}abcdefghijklm", "{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := Parse(s, "PLAIN")
		if err != nil {
			return
		}
		raw, err := h.Raw()
		if err != nil {
			return
		}
		str := string(raw)
		switch h.Scheme {
		case "SHA256-CRYPT":
			parseSHACrypt(str, "$5$")
		case "SHA512-CRYPT":
			parseSHACrypt(str, "$6$")
		case "MD5-CRYPT":
			parseMD5CryptSalt(str)
		case "PBKDF2":
			parsePBKDF2(str)
		case "SCRAM-SHA-1", "SCRAM-SHA-256":
			parseSCRAM(str)
		case "ARGON2I", "ARGON2ID":
			parseArgon2(str)
		case "PLAIN", "CLEAR", "CLEARTEXT", "PLAIN-TRUNC", "SHA", "SHA1", "SSHA", "PLAIN-MD5",
			"LDAP-MD5", "SMD5", "DES-CRYPT", "NTLM", "LANMAN", "CRAM-MD5", "DIGEST-MD5":
			// Cheap enough to run in full.
			h.Verify("password", "user@example.org")
		}
	})
}
