package loadgen

import (
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// NotesMarker starts the hand-written part of docs/PERFORMANCE.md, which
// WriteReport keeps when it rewrites the measured part.
const NotesMarker = "<!-- notes: everything below is kept when scripts/bench rewrites this file -->"

// row is one line of a case's table.
type row struct {
	metric string
	roost  float64
	dove   float64
	higher bool // higher is better
	format string
}

// ReportInfo is what the report says about how it was produced.
type ReportInfo struct {
	Command        string
	DovecotVersion string
	RoostVersion   string
}

// WriteReport renders the comparison as Markdown to w; notes (the kept
// hand-written section, starting with NotesMarker) are appended.
func WriteReport(w io.Writer, cmp *Comparison, info ReportInfo, notes string) {
	o := cmp.Opts
	fmt.Fprintf(w, "# Performance: roost vs Dovecot\n\n")
	fmt.Fprintf(w, "Measured side by side on one machine in one run by `scripts/bench` (internal/loadgen). "+
		"Every figure is the median of %d runs per server, run alternately (roost, Dovecot, roost, Dovecot, …), %v each, "+
		"each run starting after sync(2) has written back what the previous one left dirty. "+
		"Ratio is roost ÷ Dovecot: above 1 is better for rates (↑), below 1 is better for times, CPU and memory (↓).\n\n", o.Reps, o.Duration)
	fmt.Fprintf(w, "- Command: `%s`\n", info.Command)
	fmt.Fprintf(w, "- Date: %s (took %v)\n", cmp.Start.UTC().Format("2006-01-02 15:04 MST"), cmp.Took.Round(time.Second))
	fmt.Fprintf(w, "- Machine: %s\n", machine())
	fmt.Fprintf(w, "- Servers: roost %s; Dovecot %s (Debian package, default process settings)\n", info.RoostVersion, info.DovecotVersion)
	fmt.Fprintf(w, "- Both servers read the same dovecot.conf (only paths and ports differ): passwd-file + static userdb, "+
		"`mail_location = maildir:~/Maildir`, `mail_fsync = optimized`, `ssl = yes` with an ECDSA P-256 certificate, "+
		"`auth_failure_delay = 0`, `mail_max_userip_connections = 100000`. Users: 100 `{PLAIN}`, 20 `{SHA512-CRYPT}`.\n")
	fmt.Fprintf(w, "- The load generator runs on the same cores as the servers; its own CPU share is a row of every table.\n\n")
	c := cmp.Ceilings
	fmt.Fprintf(w, "## Machine ceilings\n\n| probe | rate |\n|---|---|\n")
	fmt.Fprintf(w, "| 4 KiB write + fsync, one file | %.0f /s |\n", c.FsyncPerSec)
	fmt.Fprintf(w, "| Maildir shape: create, write 4 KiB, fsync, rename, fsync dir | %.0f /s |\n", c.CreateFsyncPerSec)
	fmt.Fprintf(w, "| TCP over loopback, one stream | %.0f MiB/s |\n", c.LoopbackMBps)
	fmt.Fprintf(w, "| TCP connect + accept + close over loopback | %.0f /s |\n\n", c.ConnectsPerSec)
	writeSummary(w, cmp)
	for _, cr := range cmp.Cases {
		writeCase(w, cr)
	}
	if notes != "" {
		fmt.Fprintf(w, "%s", notes)
	} else {
		fmt.Fprintf(w, "%s\n", NotesMarker)
	}
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(l[strings.IndexByte(l, ':')+1:])
				break
			}
		}
	}
	kernel, _ := exec.Command("uname", "-sr").Output()
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		f := strings.Fields(string(b))
		if len(f) > 1 {
			var kb float64
			fmt.Sscan(f[1], &kb)
			mem = fmt.Sprintf(", %.0f GiB RAM", kb/(1<<20))
		}
	}
	return fmt.Sprintf("%d × %s%s, %s, %s", runtime.NumCPU(), model, mem, strings.TrimSpace(string(kernel)), runtime.Version())
}

func writeCase(w io.Writer, cr *CaseResult) {
	bc := cr.Case
	fmt.Fprintf(w, "## %s\n\n%s.\n\n", bc.Name, bc.Describe)
	for _, k := range kinds {
		if s := cr.Skipped[k]; s != "" {
			fmt.Fprintf(w, "**Skipped for %s:** %s.\n\n", k, s)
		}
	}
	rows := caseRows(cr)
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "| metric | roost | Dovecot | roost ÷ Dovecot |\n|---|---:|---:|---:|\n")
	for _, r := range rows {
		arrow := "↓"
		if r.higher {
			arrow = "↑"
		}
		fmt.Fprintf(w, "| %s %s | %s | %s | %s |\n", r.metric, arrow, cell(r.format, r.roost), cell(r.format, r.dove), ratio(r.roost, r.dove))
	}
	for _, k := range kinds {
		for i, run := range cr.Runs[k] {
			if run.Result.Errors > 0 {
				fmt.Fprintf(w, "\n**%s run %d failed with %d protocol errors**, e.g. `%s`", k, i+1, run.Result.Errors, strings.Join(run.Result.ErrorSamples[:min(3, len(run.Result.ErrorSamples))], "`, `"))
			}
		}
	}
	fmt.Fprintf(w, "\n")
}

func cell(format string, v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf(format, v)
}

func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// medianOf applies f to every run of kind and returns the median (NaN
// when the kind did not run).
func medianOf(cr *CaseResult, kind string, f func(Measured) float64) float64 {
	runs := cr.Runs[kind]
	if len(runs) == 0 {
		return math.NaN()
	}
	var xs []float64
	for _, r := range runs {
		xs = append(xs, f(r))
	}
	return median(xs)
}

func both(cr *CaseResult, metric, format string, higher bool, f func(Measured) float64) row {
	return row{metric: metric, roost: medianOf(cr, "roost", f), dove: medianOf(cr, "dovecot", f), higher: higher, format: format}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

const mib = 1 << 20

func caseRows(cr *CaseResult) []row {
	if len(cr.Runs["roost"]) == 0 && len(cr.Runs["dovecot"]) == 0 {
		return nil
	}
	switch cr.Case.Workload {
	case "idle":
		return idleRows(cr)
	case "bigbox":
		return bigboxRows(cr)
	case "sortthread":
		return sortThreadRows(cr)
	}
	head := headline(cr)
	plural := head + "s"
	if head == "delivery" {
		plural = "deliveries"
	}
	rows := []row{
		both(cr, plural+" per second", "%.0f", true, func(m Measured) float64 { return m.Result.Op(head).Rate }),
		both(cr, head+" p50 (ms)", "%.2f", false, func(m Measured) float64 { return ms(m.Result.Op(head).P50) }),
		both(cr, head+" p99 (ms)", "%.2f", false, func(m Measured) float64 { return ms(m.Result.Op(head).P99) }),
		both(cr, "server CPU per "+head+" (ms)", "%.3f", false, func(m Measured) float64 {
			return ms(m.Server.CPU) / float64(max(1, m.Result.Op(head).Count))
		}),
		both(cr, "server peak PSS (MiB)", "%.1f", false, func(m Measured) float64 { return float64(m.Server.PSS) / mib }),
		both(cr, "server peak RSS, summed (MiB)", "%.1f", false, func(m Measured) float64 { return float64(m.Server.RSS) / mib }),
		both(cr, "server processes (peak)", "%.0f", false, func(m Measured) float64 { return float64(m.Server.Procs) }),
		both(cr, "load generator CPU (% of machine)", "%.0f", false, clientShare),
	}
	for _, op := range opNames(cr) {
		if op == head {
			continue
		}
		rows = append(rows, both(cr, "p50 "+op+" (ms)", "%.2f", false, func(m Measured) float64 { return ms(m.Result.Op(op).P50) }))
	}
	return rows
}

func headline(cr *CaseResult) string {
	for _, k := range kinds {
		if runs := cr.Runs[k]; len(runs) > 0 {
			return runs[0].Result.Headline
		}
	}
	return ""
}

func opNames(cr *CaseResult) []string {
	for _, k := range kinds {
		if runs := cr.Runs[k]; len(runs) > 0 {
			var out []string
			for _, o := range runs[0].Result.Ops {
				out = append(out, o.Name)
			}
			return out
		}
	}
	return nil
}

func clientShare(m Measured) float64 {
	wall := m.Result.Elapsed.Seconds() * float64(runtime.NumCPU())
	if wall == 0 {
		return 0
	}
	return 100 * m.Result.ClientCPU.Seconds() / wall
}

func idleRows(cr *CaseResult) []row {
	// Memory per session comes from the first run only: a Go heap grown
	// by one run is reused by the next, so later baselines are inflated.
	perSession := func(f func(ProcUsage) int64) func(Measured) float64 {
		return func(m Measured) float64 {
			n := m.Result.Values["sessions"]
			if n == 0 {
				return math.NaN()
			}
			return float64(f(m.IdleFull)-f(m.IdleBase)) / n / 1024
		}
	}
	firstRun := func(metric string, f func(Measured) float64) row {
		r := row{metric: metric, roost: math.NaN(), dove: math.NaN(), format: "%.0f"}
		if runs := cr.Runs["roost"]; len(runs) > 0 {
			r.roost = f(runs[0])
		}
		if runs := cr.Runs["dovecot"]; len(runs) > 0 {
			r.dove = f(runs[0])
		}
		return r
	}
	return []row{
		both(cr, "sessions in IDLE", "%.0f", true, func(m Measured) float64 { return m.Result.Values["sessions"] }),
		firstRun("PSS per idle session, first run (KiB)", perSession(func(u ProcUsage) int64 { return u.PSS })),
		firstRun("RSS per idle session, summed, first run (KiB)", perSession(func(u ProcUsage) int64 { return u.RSS })),
		both(cr, "server PSS with all sessions idle (MiB)", "%.1f", false, func(m Measured) float64 { return float64(m.IdleFull.PSS) / mib }),
		both(cr, "server processes with all sessions idle", "%.0f", false, func(m Measured) float64 { return float64(m.IdleFull.Procs) }),
		both(cr, "notification p50 (ms)", "%.1f", false, func(m Measured) float64 { return ms(m.Result.Op("notify").P50) }),
		both(cr, "every session notified after (ms)", "%.1f", false, func(m Measured) float64 { return 1000 * m.Result.Values["notify_all_s"] }),
		both(cr, "LMTP delivery, every recipient's reply after (ms)", "%.1f", false, func(m Measured) float64 { return 1000 * m.Result.Values["deliver_all_s"] }),
		both(cr, "session notified after its user's LMTP reply, max (ms)", "%.1f", false, func(m Measured) float64 { return 1000 * m.Result.Values["lag_max_s"] }),
		both(cr, "session setup p50: connect+LOGIN+SELECT+IDLE (ms)", "%.1f", false, func(m Measured) float64 { return ms(m.Result.Op("idle_open").P50) }),
	}
}

// bigboxCommands are the timed commands of bigbox, in table order.
var bigboxCommands = []struct{ name, label string }{
	{"select", "SELECT (ms)"}, {"uid_fetch_flags", "UID FETCH 1:* (FLAGS) (ms)"},
	{"search_header", "SEARCH HEADER SUBJECT (ms)"}, {"sort_date", "SORT (DATE) (ms)"},
}

// sortThreadCommands are the timed commands of sortthread.
var sortThreadCommands = []struct{ name, label string }{
	{"select", "SELECT (ms)"}, {"sort_date", "SORT (DATE) (ms)"}, {"sort_subject", "SORT (SUBJECT) (ms)"},
	{"sort_from", "SORT (FROM) (ms)"}, {"thread_references", "THREAD REFERENCES (ms)"},
	{"esearch_header", `ESEARCH: SEARCH RETURN (MIN MAX COUNT) OR SUBJECT "needle" FROM "example" (ms)`},
}

func bigboxRows(cr *CaseResult) []row { return commandRows(cr, bigboxCommands) }

func sortThreadRows(cr *CaseResult) []row { return commandRows(cr, sortThreadCommands) }

// commandRows are the rows of a large-mailbox case: its size, the first
// (indexing) SELECT, each command's median time and the peak memory.
func commandRows(cr *CaseResult, commands []struct{ name, label string }) []row {
	first := func(kind string) float64 {
		if r := cr.FirstOps[kind]; r != nil && r.Op("select").Count > 0 {
			return ms(r.Op("select").P50)
		}
		return math.NaN()
	}
	rows := []row{
		{metric: "messages", roost: medianOf(cr, "roost", func(m Measured) float64 { return m.Result.Values["exists"] }),
			dove: medianOf(cr, "dovecot", func(m Measured) float64 { return m.Result.Values["exists"] }), higher: true, format: "%.0f"},
		{metric: "first SELECT, index built from the Maildir (ms)", roost: first("roost"), dove: first("dovecot"), format: "%.0f"},
	}
	for _, op := range commands {
		rows = append(rows, both(cr, op.label, "%.1f", false, func(m Measured) float64 {
			if m.Result.Op(op.name).Count == 0 {
				return math.NaN()
			}
			return ms(m.Result.Op(op.name).P50)
		}))
	}
	rows = append(rows, both(cr, "server peak PSS (MiB)", "%.1f", false, func(m Measured) float64 { return float64(m.Server.PSS) / mib }))
	return rows
}

// writeSummary is the target table.
func writeSummary(w io.Writer, cmp *Comparison) {
	fmt.Fprintf(w, "## Summary against the targets\n\n| case | measure | roost | Dovecot | ratio | target |\n|---|---|---:|---:|---:|---|\n")
	for _, cr := range cmp.Cases {
		var r row
		target := ""
		switch cr.Case.Name {
		case "cycle":
			r, target = rateRow(cr), "≥ 5×"
		case "cycle-tls", "cycle-sha512", "persistent-tls":
			r = rateRow(cr)
		case "persistent":
			r, target = rateRow(cr), "≥ 1.5×, p99 no worse"
		case "pop3":
			r, target = rateRow(cr), "≥ 3×"
		case "lmtp-1":
			r, target = rateRow(cr), "≥ 1×"
		case "lmtp-4":
			r, target = rateRow(cr), "≥ 1.5×"
		case "idle":
			rows := idleRows(cr)
			r, target = rows[1], "≤ 64 KiB/session; all notified ≤ 2 s"
		case "bigbox":
			r, target = worstCommand(bigboxRows(cr)[2:6]), "each command no slower"
		case "sortthread":
			r, target = worstCommand(sortThreadRows(cr)[2:8]), "each command no slower"
		default:
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", cr.Case.Name, r.metric, cell(r.format, r.roost), cell(r.format, r.dove), ratio(r.roost, r.dove), target)
	}
	fmt.Fprintf(w, "\n")
}

func rateRow(cr *CaseResult) row {
	head := headline(cr)
	label := head + "s/s"
	if head == "delivery" {
		label = "deliveries/s"
	}
	return both(cr, label, "%.0f", true, func(m Measured) float64 { return m.Result.Op(head).Rate })
}

// worstCommand is the row with the highest roost ÷ Dovecot time.
func worstCommand(rows []row) row {
	best, worst := -1.0, rows[0]
	for _, r := range rows {
		if q := r.roost / r.dove; !math.IsNaN(q) && q > best {
			best, worst = q, r
		}
	}
	worst.metric = "slowest relative: " + worst.metric
	return worst
}
