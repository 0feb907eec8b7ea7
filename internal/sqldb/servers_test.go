package sqldb

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"roost/internal/auth"
	"roost/internal/sqldb/sqldbtest"
)

// TestPostgres runs seed 004's setup against a private PostgreSQL.
func TestPostgres(t *testing.T) {
	t.Parallel()
	srv := sqldbtest.Postgres(t)
	loadUsers(t, srv.PgAdmin(t), func(i int) string { return fmt.Sprintf("$%d", i) })
	dir := t.TempDir()
	db := openConf(t, dir, "driver = pgsql\nconnect = "+srv.PgConnect()+"\n"+commonConf)
	checkBackend(t, db)
	t.Run("slow", func(t *testing.T) { checkSlow(t, dir, srv.PgConnect()) })
	t.Run("down", func(t *testing.T) {
		srv.Stop()
		checkDown(t, newAuth(t, db))
	})
}

// TestMariaDB runs seed 001's setup (driver = mysql, connect = host=127.0.0.1
// dbname=mailserver user=mailuser password=...) against a private MariaDB.
func TestMariaDB(t *testing.T) {
	t.Parallel()
	srv := sqldbtest.MariaDB(t)
	admin := srv.MyAdmin(t)
	loadUsers(t, admin, sqlitePlaceholder)
	dir := t.TempDir()
	// MySQL's || is OR unless PIPES_AS_CONCAT: seed 004's query uses CONCAT here.
	conf := "driver = mysql\nconnect = " + srv.MyConnect() + "\n" + mysqlConf
	db := openConf(t, dir, conf)
	checkBackend(t, db)
	t.Run("no-backslash-escapes", func(t *testing.T) {
		// A server whose global sql_mode turns backslash escapes off
		// must not let a quote through.
		sqldbtest.Exec(t, srv.MyRoot(t), "SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')")
		db2 := openConf(t, t.TempDir(), conf)
		checkInjection(t, newAuth(t, db2))
	})
	t.Run("down", func(t *testing.T) {
		srv.Stop()
		checkDown(t, newAuth(t, db))
	})
}

var mysqlConf = "default_pass_scheme = SHA512\n" +
	"password_query = SELECT email as user, password, CONCAT('maildir:/home/mail', maildir) as userdb_mail, \\\n" +
	"  nologin, reason, allow_nets FROM users WHERE email = '%u'\n" +
	"user_query = SELECT CONCAT('/home/mail/', maildir) as home, 10000 AS uid, 10000 AS gid, email FROM users WHERE email = '%u'\n" +
	"iterate_query = SELECT email AS user FROM users\n"

// checkDown: with the server gone, logins and lookups are temporary
// failures, never unknown users.
func checkDown(t *testing.T, a *auth.Auth) {
	if res, _ := login(a, "foo@domain.com", "plain_text_password"); res.Status != auth.InternalFail {
		t.Errorf("login with the server down: %v", res.Status)
	}
	if res, _ := login(a, "nobody@domain.com", "x"); res.Status != auth.InternalFail {
		t.Errorf("unknown user with the server down: %v", res.Status)
	}
	ur := a.LookupUser(context.Background(), &auth.Request{Service: "lmtp", User: "foo@domain.com"})
	if ur.Status != auth.InternalFail {
		t.Errorf("lookup with the server down: %v", ur.Status)
	}
	if err := a.IterateUsers(context.Background(), func(string) error { return nil }); err == nil {
		t.Error("iteration with the server down succeeded")
	}
}

// checkSlow: a query that hangs ends in a temporary failure at the query
// timeout, and logins of other users go through meanwhile.
func checkSlow(t *testing.T, dir, connect string) {
	conf := "driver = pgsql\nconnect = " + connect + " maxconns=3\n" +
		"password_query = SELECT password, CASE WHEN '%u' LIKE 'slow%%' THEN pg_sleep(3600)::text END AS x FROM users WHERE email = '%u' OR '%u' LIKE 'slow%%' LIMIT 1\n" +
		"default_pass_scheme = SHA512\n"
	db := openConf(t, dir, conf)
	db.timeout = 2 * time.Second
	a := newAuth(t, db)
	var wg sync.WaitGroup
	slow := make([]auth.Status, 2)
	for i := range slow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, _ := login(a, fmt.Sprintf("slow%d@domain.com", i), "x")
			slow[i] = res.Status
		}()
	}
	// Two of the three connections hang; the third serves this login.
	res, _ := login(a, "foo@domain.com", "plain_text_password")
	wg.Wait()
	if res.Status != auth.OK {
		t.Errorf("fast login during slow ones: %v", res.Status)
	}
	for i, st := range slow {
		if st != auth.InternalFail {
			t.Errorf("slow login %d: %v, want internal failure at the timeout", i, st)
		}
	}
	if res, _ := login(a, "foo@domain.com", "plain_text_password"); res.Status != auth.OK {
		t.Errorf("login after the slow ones: %v %v", res.Status, res.Err)
	}
}
