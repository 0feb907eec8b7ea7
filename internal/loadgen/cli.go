package loadgen

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Main is roost-bench: `roost-bench run …` drives one server,
// `roost-bench compare …` runs the side-by-side comparison.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) < 2 {
		fmt.Fprintf(stderr, "usage: roost-bench run|compare|report [flags]\n")
		return 2
	}
	switch args[1] {
	case "run":
		return mainRun(ctx, args[2:], stdout, stderr)
	case "compare":
		return mainCompare(ctx, args, stdout, stderr)
	case "report":
		return mainReport(args, stdout, stderr)
	}
	fmt.Fprintf(stderr, "roost-bench: unknown command %q (run, compare)\n", args[1])
	return 2
}

func mainRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	users := fs.String("users", "", "comma-separated user names")
	corpus := fs.String("corpus", "", "corpus directory (../shared/corpus) for messages; default synthetic 4 KB")
	fs.StringVar(&o.Workload, "w", "cycle", "workload: "+strings.Join(Workloads(), ", "))
	fs.StringVar(&o.Target.Addr, "addr", "127.0.0.1:143", "server `host:port`")
	fs.BoolVar(&o.Target.TLS, "tls", false, "implicit TLS")
	fs.StringVar(&o.Password, "pass", Password, "password of every user")
	fs.IntVar(&o.Clients, "c", 4, "clients")
	fs.IntVar(&o.Sessions, "sessions", 0, "idle: sessions (default -c)")
	fs.DurationVar(&o.Duration, "d", 10*time.Second, "duration")
	fs.IntVar(&o.Ops, "n", 0, "operation count (overrides -d)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.Users = strings.Split(*users, ",")
	if *corpus != "" {
		msgs, err := LoadCorpus(*corpus, 3000, 5000, 200)
		if err != nil {
			fmt.Fprintln(stderr, "roost-bench:", err)
			return 1
		}
		o.Messages = msgs
	}
	res, err := Run(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "roost-bench:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
	} else {
		printResult(stdout, res)
	}
	if res.Failed() {
		return 1
	}
	return 0
}

func printResult(w io.Writer, r *Result) {
	fmt.Fprintf(w, "%s: %d clients, %v, client CPU %v\n", r.Workload, r.Clients, r.Elapsed.Round(time.Millisecond), r.ClientCPU.Round(time.Millisecond))
	fmt.Fprintf(w, "%-18s %8s %10s %10s %10s\n", "op", "count", "rate/s", "p50", "p99")
	for _, o := range r.Ops {
		fmt.Fprintf(w, "%-18s %8d %10.1f %10v %10v\n", o.Name, o.Count, o.Rate, o.P50.Round(time.Microsecond), o.P99.Round(time.Microsecond))
	}
	for k, v := range r.Values {
		fmt.Fprintf(w, "%s = %g\n", k, v)
	}
	fmt.Fprintf(w, "errors: %d\n", r.Errors)
	for _, e := range r.ErrorSamples {
		fmt.Fprintf(w, "  %s\n", e)
	}
}

func mainCompare(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o CompareOptions
	fs.StringVar(&o.RoostBin, "roost", "", "roost binary")
	fs.StringVar(&o.DovecotBin, "dovecot", "/usr/sbin/dovecot", "dovecot binary (empty: roost only)")
	fs.StringVar(&o.Dir, "dir", filepath.Join(os.TempDir(), "roost-bench"), "work directory")
	fs.StringVar(&o.CorpusDir, "corpus", "", "corpus directory (../shared/corpus)")
	fs.DurationVar(&o.Duration, "d", 5*time.Second, "duration of each run")
	fs.IntVar(&o.Reps, "reps", 3, "runs per server and case (alternating)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed")
	cases := fs.String("cases", "", "comma-separated case or workload names (default all)")
	fs.IntVar(&o.CycleClients, "c", 0, "clients for cycle and pop3 (default 4 per CPU)")
	fs.IntVar(&o.IdleSessions, "idle", 1000, "idle sessions")
	fs.IntVar(&o.BigboxSize, "bigbox", 100000, "bigbox messages")
	fs.IntVar(&o.SortThreadSize, "sortthread", 50000, "sortthread messages")
	fs.StringVar(&o.ProfileDir, "profile", "", "write roost CPU and allocation profiles per case to `dir`")
	out := fs.String("out", "", "write the Markdown report to `file` (keeping its notes section)")
	if err := fs.Parse(args[2:]); err != nil {
		return 2
	}
	if *cases != "" {
		o.Cases = strings.Split(*cases, ",")
	}
	if o.RoostBin == "" {
		fmt.Fprintln(stderr, "roost-bench: -roost is required")
		return 2
	}
	o.Log = stderr
	cmp, err := Compare(ctx, o)
	if err != nil {
		fmt.Fprintln(stderr, "roost-bench:", err)
		return 1
	}
	info := ReportInfo{
		Command:        commandLine(args),
		RoostVersion:   orUnknown(os.Getenv("ROOST_BENCH_ROOST_VERSION")),
		DovecotVersion: version(o.DovecotBin, "--version"),
	}
	w := stdout
	notes := ""
	if *out != "" {
		notes = keptNotes(*out)
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(stderr, "roost-bench:", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	WriteReport(w, cmp, info, notes)
	if b, err := json.MarshalIndent(cmp, "", " "); err == nil {
		os.WriteFile(filepath.Join(o.Dir, "results.json"), b, 0o644)
	}
	return 0
}

// mainReport re-renders a report from a compare run's results.json
// (after a change to the report's layout, without measuring again).
func mainReport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	results := fs.String("results", "", "results.json of a compare run")
	out := fs.String("out", "", "report `file` (keeping its notes section); default stdout")
	var info ReportInfo
	fs.StringVar(&info.Command, "command", "", "the command that measured")
	fs.StringVar(&info.RoostVersion, "roost-version", "(unknown)", "roost version measured")
	fs.StringVar(&info.DovecotVersion, "dovecot-version", version("/usr/sbin/dovecot", "--version"), "Dovecot version measured")
	if err := fs.Parse(args[2:]); err != nil {
		return 2
	}
	b, err := os.ReadFile(*results)
	if err != nil {
		fmt.Fprintln(stderr, "roost-bench:", err)
		return 1
	}
	var cmp Comparison
	if err := json.Unmarshal(b, &cmp); err != nil {
		fmt.Fprintln(stderr, "roost-bench: results:", err)
		return 1
	}
	w := stdout
	notes := ""
	if *out != "" {
		notes = keptNotes(*out)
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(stderr, "roost-bench:", err)
			return 1
		}
		defer f.Close()
		w = f
	}
	WriteReport(w, &cmp, info, notes)
	return 0
}

func commandLine(args []string) string {
	if c := os.Getenv("ROOST_BENCH_COMMAND"); c != "" {
		return c
	}
	return strings.Join(append([]string{"roost-bench"}, args[1:]...), " ")
}

func version(bin string, arg string) string {
	if bin == "" {
		return "(not run)"
	}
	out, err := exec.Command(bin, arg).Output()
	if err != nil {
		return "(unknown)"
	}
	return strings.TrimSpace(string(out))
}

// keptNotes returns the notes section of an existing report.
func keptNotes(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if i := strings.Index(string(b), NotesMarker); i >= 0 {
		return string(b[i:])
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}
