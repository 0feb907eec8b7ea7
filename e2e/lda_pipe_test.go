package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLDASievePipe: vnd.dovecot.pipe at LDA delivery (sieve_plugins = sieve_extprograms) runs
// the program from sieve_pipe_bin_dir with the message on stdin and Dovecot's environment (HOME
// the user's home, USER the user); without the plugin the extension does not exist, the script
// fails to compile and the message is kept in INBOX. The message reaches the program with CRLF
// line ends (sieve_pipe_input_eol = crlf).
func TestLDASievePipe(t *testing.T) {
	t.Parallel()
	for _, loaded := range []bool{true, false} {
		name := "plugin loaded"
		if !loaded {
			name = "plugin not loaded"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			forEachSieveKind(t, func(t testing.TB, kind string) {
				base := newLMTPEnv(t)
				sink, _ := sinkScript(t, base.Dir)
				bin := filepath.Join(base.Dir, "pipe-bin")
				out := filepath.Join(base.Dir, "piped")
				for _, d := range []string{bin, out} {
					if err := os.MkdirAll(d, 0o777); err != nil {
						t.Fatal(err)
					}
					os.Chmod(d, 0o777)
				}
				prog := "#!/bin/sh\n{ echo \"ARGS: $*\"; echo \"HOME=$HOME USER=$USER\"; cat; } > " + out + "/$$.txt\n"
				if err := os.WriteFile(filepath.Join(bin, "record"), []byte(prog), 0o755); err != nil {
					t.Fatal(err)
				}
				plugins := ""
				if loaded {
					plugins = "  sieve_plugins = sieve_extprograms\n"
				}
				env := newLMTPEnv(t, withConfig(ldaSieveConf(sink)+"plugin {\n"+plugins+
					"  sieve_extensions = +vnd.dovecot.pipe\n  sieve_pipe_bin_dir = "+bin+"\n}\n"))
				env.activateScript(t, "bob", "main", "require \"vnd.dovecot.pipe\";\npipe \"record\" [\"one\", \"two\"];\n")
				startServer(t, env.mailEnv, kind)
				msg := "From: s@example.org\nSubject: piped\nMessage-ID: <pipe@example.org>\n\nbody\n"
				if code, o := ldaRun(t, env, kind, msg, "-d", "bob", "-f", "s@example.org"); code != 0 {
					t.Fatalf("%s: exit %d %q", kind, code, o)
				}
				got := sentMessages(t, out)
				inbox := len(env.stored(t, "bob", ""))
				if !loaded {
					if len(got) != 0 || inbox != 1 {
						t.Errorf("%s: without sieve_extprograms: %d programs ran, INBOX holds %d; want 0 and 1 (implicit keep)", kind, len(got), inbox)
					}
					return
				}
				if len(got) != 1 {
					t.Fatalf("%s: the program ran %d times, want 1", kind, len(got))
				}
				want := "ARGS: one two\nHOME=" + env.Home("bob") + " USER=bob\n"
				if !strings.HasPrefix(got[0], want) || !strings.Contains(got[0], "Subject: piped") || !strings.HasSuffix(got[0], "\r\nbody\r\n") {
					t.Errorf("%s: the program got %q, want %q then the message", kind, got[0], want)
				}
				if inbox != 0 {
					t.Errorf("%s: pipe cancels the implicit keep, but INBOX holds %d", kind, inbox)
				}
			})
		})
	}
}
