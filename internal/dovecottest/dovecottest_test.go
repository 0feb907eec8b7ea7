package dovecottest

import (
	"bufio"
	"net"
	"os"
	"strings"
	"testing"
)

// TestStartIMAP logs in to a private instance.
func TestStartIMAP(t *testing.T) {
	if _, err := os.Stat(Binary); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("dovecot not installed: %v", err)
		}
		t.Skipf("dovecot not installed: %v", err)
	}
	nc, err := net.Dial("tcp", StartIMAP(t, Options{Env: []string{"TZ=UTC"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "* OK") {
		t.Fatalf("greeting %q: %v", line, err)
	}
	if _, err := nc.Write([]byte("a LOGIN " + User + " " + Password + "\r\na LOGOUT\r\n")); err != nil {
		t.Fatal(err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("no tagged LOGIN answer: %v", err)
		}
		if strings.HasPrefix(line, "a ") {
			if !strings.HasPrefix(line, "a OK") {
				t.Fatalf("LOGIN: %q", line)
			}
			return
		}
	}
}

func TestWriteOracle(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/sub/o.jsonl.gz"
	if err := WriteOracle(path, []struct{ A string }{{"<x>"}, {"y"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
