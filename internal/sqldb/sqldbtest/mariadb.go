package sqldbtest

import (
	"database/sql"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// MariaDB starts a private MariaDB with database "mailserver" and user
// "mailuser" (seed 001), reachable over TCP on 127.0.0.1.
func MariaDB(t testing.TB) *Server {
	t.Helper()
	server, err1 := exec.LookPath("mariadbd")
	install, err2 := exec.LookPath("mariadb-install-db")
	if err1 != nil || err2 != nil {
		Missing(t, "MariaDB server not installed (scripts/setup-deps installs mariadb-server)")
	}
	cred := account(t, "mysql")
	s := &Server{User: "mailuser", Password: "mail-secret", DBName: "mailserver", Port: freePort(t)}
	s.Dir = tempDir(t, "roost-mariadb-", cred)
	s.Socket = filepath.Join(s.Dir, "mysqld.sock")
	data := filepath.Join(s.Dir, "data")
	run(t, cred, s.Dir, install, "--no-defaults", "--datadir="+data, "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve")
	start(t, s, cred, server, "--no-defaults", "--datadir="+data, "--socket="+s.Socket,
		"--port="+strconv.Itoa(s.Port), "--bind-address=127.0.0.1", "--skip-name-resolve",
		"--pid-file="+filepath.Join(s.Dir, "mysqld.pid"), "--skip-log-bin", "--innodb-buffer-pool-size=16M",
		"--innodb-flush-log-at-trx-commit=0", "--log-error="+filepath.Join(s.Dir, "error.log"))
	admin := s.rootDB(t)
	defer admin.Close()
	s.waitReady(t, admin.PingContext)
	Exec(t, admin, "CREATE DATABASE "+s.DBName,
		fmt.Sprintf("CREATE USER '%s'@'127.0.0.1' IDENTIFIED BY '%s'", s.User, s.Password),
		fmt.Sprintf("GRANT ALL ON %s.* TO '%s'@'127.0.0.1'", s.DBName, s.User))
	return s
}

func (s *Server) rootDB(t testing.TB) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "unix", s.Socket
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sql.OpenDB(conn)
}

// MyAdmin opens a connection to the database as its user.
func (s *Server) MyAdmin(t testing.TB) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = s.User, s.Password, "tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), s.DBName
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	t.Cleanup(func() { db.Close() })
	return db
}

// MyConnect is the Dovecot connect string (seed 001's form plus port).
func (s *Server) MyConnect() string {
	return fmt.Sprintf("host=127.0.0.1 port=%d dbname=%s user=%s password=%s", s.Port, s.DBName, s.User, s.Password)
}

// MyRoot opens a connection as the server's root account (unix socket).
func (s *Server) MyRoot(t testing.TB) *sql.DB {
	t.Helper()
	db := s.rootDB(t)
	t.Cleanup(func() { db.Close() })
	return db
}
