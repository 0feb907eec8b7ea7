// Package loadgen implements roost's load generator and the side-by-side
// comparison driver that runs it against roost and Debian's Dovecot 2.3
// (DESIGN.md section 6: every claim of speed is a measured ratio).
//
// The generator speaks just enough IMAP (RFC 9051, RFC 3501 with RFC 7888
// LITERAL+ and RFC 2177 IDLE), POP3 (RFC 1939) and LMTP (RFC 2033) to drive
// a server hard while costing little itself: each client is one goroutine
// with one buffered reader and writer, responses are scanned line by line
// and literals are skipped, never parsed. A workload (cycle, persistent,
// pop3, lmtp, idle, bigbox) runs a number of clients for a duration or an
// operation count with a fixed seed, and returns a Result: per-operation
// counts, rates, p50/p99 latencies and every protocol error. A run with
// errors is a failed run.
//
// Compare (compare.go) is the driver behind scripts/bench: it writes one
// configuration for both servers, fills identical Maildirs, starts both,
// runs each workload alternately (roost, Dovecot, roost, Dovecot …), takes
// medians, reads RSS/PSS/CPU of each server's process tree from /proc and
// renders docs/PERFORMANCE.md.
//
// Deliberate limits: the clients do not validate response contents beyond
// the tagged status and the counts they need (EXISTS, EXPUNGE, STAT); they
// are load, not conformance, tests.
package loadgen
