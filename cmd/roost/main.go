// Command roost is the roost mail server and its admin tool. Invoked as
// dovecot, doveconf, doveadm, dovecot-lda or deliver it behaves as that
// program.
//
// For benchmarking, ROOST_CPUPROFILE=FILE writes a CPU profile and
// ROOST_MEMPROFILE=FILE an allocation profile (go tool pprof) when the
// command returns, e.g. after SIGTERM ends `roost serve`. The files are
// created at start, before privileges are dropped. ROOST_PPROF=HOST:PORT
// serves net/http/pprof there while the command runs (a loopback address:
// it is for looking at a running server's heap and goroutines).
package main

import (
	"fmt"
	"net/http"
	_ "net/http/pprof" // served only with ROOST_PPROF
	"os"
	"runtime"
	"runtime/pprof"

	"roost/internal/admin"
)

func main() {
	stop := startProfiles()
	code := admin.Main(os.Args, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// startProfiles starts the profiles named by the environment and returns
// the function that writes them.
func startProfiles() func() {
	var cpu, mem *os.File
	if p := os.Getenv("ROOST_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "roost: cpu profile: %v\n", err)
		} else {
			cpu = f
		}
	}
	if p := os.Getenv("ROOST_MEMPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "roost: memory profile: %v\n", err)
		} else {
			mem = f
		}
	}
	if addr := os.Getenv("ROOST_PPROF"); addr != "" {
		go func() {
			if err := http.ListenAndServe(addr, nil); err != nil {
				fmt.Fprintf(os.Stderr, "roost: pprof: %v\n", err)
			}
		}()
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if mem != nil {
			runtime.GC()
			if err := pprof.Lookup("allocs").WriteTo(mem, 0); err != nil {
				fmt.Fprintf(os.Stderr, "roost: memory profile: %v\n", err)
			}
			mem.Close()
		}
	}
}
