// Command roost is the roost mail server and its admin tool. Invoked as
// dovecot, doveconf, doveadm, dovecot-lda or deliver it behaves as that
// program.
package main

import (
	"os"

	"roost/internal/admin"
)

func main() {
	os.Exit(admin.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
