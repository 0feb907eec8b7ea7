package server

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"

	"roost/internal/auth"
	"roost/internal/logging"
	"roost/internal/service"
)

// closingDB is a passdb and userdb that counts Close calls.
type closingDB struct{ closed atomic.Int32 }

func (d *closingDB) VerifyPlain(context.Context, *auth.Request, string) auth.PassResult {
	return auth.PassResult{}
}
func (d *closingDB) LookupCredentials(context.Context, *auth.Request) auth.PassResult {
	return auth.PassResult{}
}
func (d *closingDB) LookupUser(context.Context, *auth.Request) auth.UserResult {
	return auth.UserResult{}
}
func (d *closingDB) Close() error { d.closed.Add(1); return nil }

// holdingServer keeps every connection it is given until the test closes it.
type holdingServer struct{ conns chan net.Conn }

func (h *holdingServer) ServeConn(c net.Conn)           { h.conns <- c }
func (h *holdingServer) Shutdown(context.Context) error { return nil }

// TestRetiredStackClosesAuthBackends: a stack replaced by a reload closes its
// auth backends (SQL/LDAP pools) once, after its last connection ends, and
// then refuses new connections so the accept loop uses the current stack.
func TestRetiredStackClosesAuthBackends(t *testing.T) {
	t.Parallel()
	db := &closingDB{}
	a, err := auth.New(auth.Options{
		Passdbs: []auth.PassdbConfig{{Name: "sql", Driver: db}},
		Userdbs: []auth.UserdbConfig{{Name: "sql", Driver: db}},
	})
	if err != nil {
		t.Fatal(err)
	}
	hold := &holdingServer{conns: make(chan net.Conn, 2)}
	st := &stack{auth: a, log: logging.NewWriter(io.Discard, false),
		servers: map[serverKey]connServer{{"imap-login", false}: hold}}
	b := service.Bound{Inet: &service.InetListener{Service: "imap-login"}}

	c1, p1 := net.Pipe()
	defer p1.Close()
	if !st.serve(c1, b) {
		t.Fatal("a current stack refused a connection")
	}
	st.retire()
	if n := db.closed.Load(); n != 0 {
		t.Fatalf("backends closed %d times while a connection was live", n)
	}
	held := <-hold.conns
	held.Close()
	held.Close() // a second Close must not release twice
	if n := db.closed.Load(); n != 1 {
		t.Fatalf("backends closed %d times after the last connection ended, want 1 (the same driver as passdb and userdb)", n)
	}
	c2, p2 := net.Pipe()
	defer p2.Close()
	defer c2.Close()
	if st.serve(c2, b) {
		t.Fatal("a closed stack accepted a connection")
	}
}
