package message

import (
	"errors"
	"testing"
)

func TestDecodeStrict(t *testing.T) {
	t.Parallel()
	tests := []struct {
		enc, in, want string
		err           error
	}{
		{"base64", "aGVs\r\nbG8=\r\n", "hello", nil},
		{"base64", "aGVsbG8", "", ErrTruncatedEncoding},
		{"base64", "aGVsbG8*", "", ErrInvalidEncoding},
		{"base64", "aGVsbG8=aGVs", "", ErrInvalidEncoding},
		{"base64", "a===", "", ErrInvalidEncoding},
		{"quoted-printable", "caf=C3=A9 \t\r\nx=\r\ny=20\r\n", "caf\xc3\xa9\r\nxy \r\n", nil},
		{"quoted-printable", "a=ZZ", "", ErrInvalidEncoding},
		{"quoted-printable", "a= b\r\n", "", ErrInvalidEncoding},
		{"7bit", "as is=ZZ", "as is=ZZ", nil},
	}
	for _, tt := range tests {
		msg := []byte("Content-Transfer-Encoding: " + tt.enc + "\r\n\r\n" + tt.in)
		got, err := DecodePartBinary(msg, Parse(msg))
		if !errors.Is(err, tt.err) || err == nil && string(got) != tt.want {
			t.Errorf("%s %q: got %q, %v; want %q, %v", tt.enc, tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestBinarySectionRewritesHeaders(t *testing.T) {
	t.Parallel()
	msg := []byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b\r\nContent-Transfer-Encoding: 7bit\r\n\r\nyo\r\n--b--\r\n")
	got, err := BinarySection(msg, Parse(msg), nil)
	want := "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
		"Content-Transfer-Encoding: binary\r\n\r\nhi\r\n--b\r\nContent-Transfer-Encoding: 7bit\r\n\r\nyo\r\n--b--\r\n"
	if err != nil || string(got) != want {
		t.Errorf("got %q, %v\nwant %q", got, err, want)
	}
	bad := append([]byte(nil), msg...)
	bad = append(bad[:len(bad)-len("--b--\r\n")], "--b\r\nContent-Transfer-Encoding: x-bogus\r\n\r\nz\r\n--b--\r\n"...)
	root := Parse(bad)
	if _, err := BinarySection(bad, root, root.Children[1]); !errors.Is(err, ErrUnknownCTE) {
		t.Errorf("unknown CTE in another part: got %v, want ErrUnknownCTE (Dovecot checks the whole message)", err)
	}
}

func FuzzBinarySection(f *testing.F) {
	f.Add([]byte("Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n"))
	f.Add([]byte("Content-Transfer-Encoding: quoted-printable\r\n\r\na=3D=\r\nb  \r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGk=\r\n--b--\r\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		root := Parse(msg)
		root.Walk(func(p *Part) {
			b, err := BinarySection(msg, root, p)
			if err == nil && b == nil && p.Body.Physical > 0 && len(p.Children) == 0 {
				t.Fatalf("nil content without error")
			}
		})
		_, _ = BinarySection(msg, root, nil)
	})
}
