package loadgen

import (
	"bufio"
	"bytes"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i))
	}
	if p := percentile(ds, 0.5); p != 50 {
		t.Errorf("p50 = %v", p)
	}
	if p := percentile(ds, 0.99); p != 99 {
		t.Errorf("p99 = %v", p)
	}
	if m := median([]float64{3, 1, 2, 10}); m != 2.5 {
		t.Errorf("median = %v", m)
	}
}

func TestReadResponseSkipsLiterals(t *testing.T) {
	t.Parallel()
	in := "* 1 FETCH (BODY[] {5}\r\na\r\nb)\r\n* 3 EXISTS\r\na1 OK [APPENDUID 7 42] done\r\n"
	ic := &imapConn{r: bufio.NewReader(bytes.NewBufferString(in)), tagBuf: []byte("a1")}
	if err := ic.wait(); err != nil {
		t.Fatal(err)
	}
	if ic.exists != 3 || ic.appendUID() != 42 {
		t.Errorf("exists %d, appenduid %d", ic.exists, ic.appendUID())
	}
}

func TestNextUserDisjoint(t *testing.T) {
	t.Parallel()
	users := []string{"a", "b", "c", "d", "e"}
	seen := map[string]int{}
	for id := range 2 {
		w := &workerEnv{o: Options{Users: users, Clients: 2}, id: id}
		for range 6 {
			u := w.nextUser()
			if prev, ok := seen[u]; ok && prev != id {
				t.Errorf("user %s used by workers %d and %d", u, prev, id)
			}
			seen[u] = id
		}
	}
	if len(seen) != len(users) {
		t.Errorf("users used: %v", seen)
	}
}

func FuzzReadResponse(f *testing.F) {
	f.Add([]byte("* 1 FETCH (BODY[] {5}\r\na\r\nb)\r\na1 OK x\r\n"))
	f.Add([]byte("* 99999999999 EXISTS\r\na1 NO x\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ic := &imapConn{r: bufio.NewReader(bytes.NewReader(b)), tagBuf: []byte("a1")}
		ic.wait()
		ic.appendUID()
	})
}
