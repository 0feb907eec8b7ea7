package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// doveadmQuestions are the auth questions asked of both servers: doveadm auth test, auth
// lookup and user, on one passwd-file configuration whose extra fields are not in sorted order.
var doveadmQuestions = [][]string{
	{"auth", "test", "alice", "alicepw"},
	{"auth", "test", "alice", "wrong"},
	{"auth", "test", "carol", "carolpw"},
	{"auth", "test", "nobody", "x"},
	{"auth", "lookup", "carol"},
	{"auth", "lookup", "alice"},
	{"auth", "lookup", "nobody"},
	// alice's passwd-file line has empty uid, gid and home: the passwd-file userdb answers
	// with those fields empty, ahead of the static userdb that is never asked.
	{"user", "alice"},
	{"user", "carol"},
	{"user", "nobody"},
}

// doveadmEnv is a mail environment with a passwd-file userdb and a user with extra fields.
func doveadmEnv(t testing.TB) *mailEnv {
	t.Helper()
	env := newMailEnv(t)
	carol := fmt.Sprintf("carol:{PLAIN}carolpw:%d:%d::%s::zeta=last userdb_quota_rule=*:storage=1G nodelay alpha=first userdb_mail=maildir:~/Mail\n",
		env.UID, env.GID, env.Home("carol"))
	f, err := os.OpenFile(filepath.Join(env.Dir, "users"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(carol)
	f.Close()
	conf, _ := os.ReadFile(env.Conf)
	c := strings.Replace(string(conf), "userdb {\n  driver = static", "userdb {\n  driver = passwd-file\n  args = "+filepath.Join(env.Dir, "users")+"\n}\nuserdb {\n  driver = static", 1)
	os.WriteFile(env.Conf, []byte(c), 0o644)
	return env
}

// askAll runs every question with bin (doveadm, or roost which takes the same arguments) and
// returns one transcript: the command, its exit status and its output.
func askAll(t testing.TB, env *mailEnv, bin string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range doveadmQuestions {
		args := append([]string{q[0]}, q[1:]...)
		// doveadm takes -c before the command; roost after it.
		var cmd *exec.Cmd
		if filepath.Base(bin) == "doveadm" {
			cmd = exec.Command(bin, append([]string{"-c", env.Conf}, args...)...)
		} else {
			n := 1
			if q[0] == "auth" {
				n = 2
			}
			cmd = exec.Command(bin, append(append(append([]string{}, args[:n]...), "-c", env.Conf), args[n:]...)...)
		}
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		fmt.Fprintf(&b, "$ %s\n[exit %d]\n%s", strings.Join(q, " "), code, normaliseDoveadm(string(out), env))
	}
	return b.String()
}

// normaliseDoveadm replaces what differs per run (the test directory and the mail owner) and
// drops roost's load warnings for settings it does not implement (config noise, not answers).
func normaliseDoveadm(s string, env *mailEnv) string {
	var keep []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(l, "Warning: ") || !strings.Contains(l, "not implemented by roost") {
			keep = append(keep, l)
		}
	}
	s = strings.Join(keep, "")
	s = strings.ReplaceAll(s, env.Dir, "<DIR>")
	s = strings.ReplaceAll(s, fmt.Sprintf("=%d\n", env.UID), "=<UID>\n")
	s = strings.ReplaceAll(s, fmt.Sprintf("=%d\n", env.GID), "=<GID>\n")
	s = strings.ReplaceAll(s, fmt.Sprintf(": %d\n", env.UID), ": <UID>\n")
	s = strings.ReplaceAll(s, fmt.Sprintf(": %d\n", env.GID), ": <GID>\n")
	return s
}

// TestDoveadmAuthDifferential: the same doveadm auth test / auth lookup / user questions
// answered by Debian's Dovecot (doveadm against its running auth process, private base_dir)
// and by roost on the same passwd-file configuration. Dovecot's answers are committed in
// testdata/doveadm-auth.dovecot, so roost is checked where Dovecot is not installed.
func TestDoveadmAuthDifferential(t *testing.T) {
	t.Parallel()
	golden := filepath.Join("testdata", "doveadm-auth.dovecot")
	if *update {
		env := doveadmEnv(t)
		startServer(t, env, "dovecot")
		out := askAll(t, env, need(t, "doveadm"))
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	bin := needRoost(t)
	roostCase(t, func(t testing.TB) {
		env := doveadmEnv(t)
		got := askAll(t, env, bin)
		if p := os.Getenv("DOVEADM_DIFF_OUT"); p != "" {
			os.WriteFile(p, []byte(got), 0o644) // for inspecting a failure byte by byte
		}
		if got != string(want) {
			t.Errorf("roost's answers differ from Dovecot's (%s):\n%s", golden, lineDiff(string(want), got))
		}
	})
}
