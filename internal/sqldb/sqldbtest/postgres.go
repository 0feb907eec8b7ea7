package sqldbtest

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
)

// pgBin finds a PostgreSQL server binary directory.
func pgBin(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "postgres")); err == nil {
			return dirs[i]
		}
	}
	Missing(t, "PostgreSQL server not installed (scripts/setup-deps installs postgresql)")
	return ""
}

// Postgres starts a private PostgreSQL with a database "mail" owned by
// user "mailreader" (password authentication over TCP, as seed 004).
func Postgres(t testing.TB) *Server {
	t.Helper()
	bin := pgBin(t)
	cred := account(t, "postgres")
	s := &Server{User: "mailreader", Password: "some-password", DBName: "mail", Port: freePort(t), stop: syscall.SIGINT}
	s.Dir = tempDir(t, "roost-pg-", cred)
	s.Socket = s.Dir
	pw := filepath.Join(s.Dir, "pw")
	if err := os.WriteFile(pw, []byte(s.Password+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, cred, s.Dir, filepath.Join(bin, "initdb"), "-D", filepath.Join(s.Dir, "data"), "-U", s.User,
		"--pwfile="+pw, "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C", "-N")
	start(t, s, cred, filepath.Join(bin, "postgres"), "-D", filepath.Join(s.Dir, "data"),
		"-p", strconv.Itoa(s.Port), "-k", s.Dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
		"-c", "full_page_writes=off", "-c", "synchronous_commit=off")
	admin := s.open(t, "postgres")
	s.waitReady(t, admin.PingContext)
	Exec(t, admin, "CREATE DATABASE "+s.DBName+" OWNER "+s.User)
	admin.Close()
	return s
}

func (s *Server) open(t testing.TB, dbname string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", fmt.Sprintf("host=127.0.0.1 port=%d user=%s password=%s dbname=%s sslmode=disable", s.Port, s.User, s.Password, dbname))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// PgAdmin opens a connection to the server's database as its owner.
func (s *Server) PgAdmin(t testing.TB) *sql.DB {
	t.Helper()
	db := s.open(t, s.DBName)
	t.Cleanup(func() { db.Close() })
	return db
}

// PgConnect is the Dovecot connect string for the database.
func (s *Server) PgConnect() string {
	return fmt.Sprintf("host=127.0.0.1 port=%d dbname=%s user=%s password=%s", s.Port, s.DBName, s.User, s.Password)
}
