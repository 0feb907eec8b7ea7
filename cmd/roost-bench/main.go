// Command roost-bench is roost's load generator and the side-by-side
// comparison driver against Dovecot (see internal/loadgen and
// scripts/bench).
package main

import (
	"os"

	"roost/internal/loadgen"
)

func main() {
	os.Exit(loadgen.Main(os.Args, os.Stdout, os.Stderr))
}
