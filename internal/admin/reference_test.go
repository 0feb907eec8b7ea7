package admin

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/commands.md")

const referencePath = "../../docs/commands.md"

// reference renders the command reference from the command table, the
// one place CLI help lives.
func reference() string {
	var b strings.Builder
	b.WriteString("# roost commands\n\n")
	b.WriteString("Generated from the command table in `internal/admin` by\n")
	b.WriteString("`go test ./internal/admin -run TestCommandReference -update`; `roost help COMMAND` prints the same.\n")
	b.WriteString("Invoked through a link named `dovecot`, `doveconf`, `doveadm`, `dovecot-lda` or `deliver`, roost\n")
	b.WriteString("behaves as that program (see `docs/compat.md`).\n\n")
	b.WriteString("| command | arguments | what it does |\n|---|---|---|\n")
	cmds := commands()
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	for _, c := range cmds {
		fmt.Fprintf(&b, "| `roost %s` | `%s` | %s |\n", c.Name, strings.ReplaceAll(c.Args, "|", "\\|"), strings.ReplaceAll(c.Short, "|", "\\|"))
	}
	return b.String()
}

func TestCommandReference(t *testing.T) {
	want := reference()
	if *update {
		if err := os.WriteFile(referencePath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(referencePath)
	if err != nil || string(got) != want {
		t.Fatalf("docs/commands.md is out of date with the command table: run go test ./internal/admin -run TestCommandReference -update")
	}
}
