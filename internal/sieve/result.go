package sieve

import (
	"fmt"
	"strings"
)

// ActionKind names an action as Pigeonhole's test suite does.
type ActionKind string

// Action kinds.
const (
	ActKeep     ActionKind = "keep"
	ActStore    ActionKind = "store"
	ActDiscard  ActionKind = "discard"
	ActRedirect ActionKind = "redirect"
	ActReject   ActionKind = "reject"
	ActVacation ActionKind = "vacation"
	ActNotify   ActionKind = "notify"
)

// Action is one entry of a Result.
type Action struct {
	Kind       ActionKind
	Mailbox    string   // keep, store
	Flags      []string // keep, store (nil: none given)
	FlagsSet   bool     // imap4flags active: Flags is authoritative
	Create     bool     // fileinto :create
	SpecialUse string   // fileinto :specialuse
	Copy       bool     // :copy: keeps the implicit keep
	Address    string   // redirect
	Reason     string   // reject
	Ereject    bool
	Vacation   *VacationReply
	Notify     *Notification
	Pipe       *ProgramCall // pipe (vnd.dovecot.pipe)
	Report     *Report      // report (vnd.dovecot.report)
	Line       int
	// Message is the message as edited when the action was taken (nil:
	// the result's message).
	Message []byte
	// executed: performed by an earlier Execute of the result (the test
	// suite's :append_result); not performed again.
	executed bool
}

// VacationReply is a vacation action (RFC 5230).
type VacationReply struct {
	Seconds   uint64
	Subject   string
	From      string
	Addresses []string
	MIME      bool
	Handle    string
	Reason    string
	// To and the reply message are filled in when the reply is decided.
	To string
}

// Notification is an enotify action (RFC 5435).
type Notification struct {
	Method     string
	From       string
	Importance string
	Options    []string
	Message    string
}

// Result is what a script run decided.
type Result struct {
	Actions []*Action
	// ImplicitKeep is set when the implicit keep was not cancelled.
	ImplicitKeep bool
	// KeepFlags are the flags the implicit keep stores with.
	KeepFlags []string
	// Message is the message as edited by editheader (nil: unchanged).
	Message []byte
	// Err is the runtime error that aborted the script, if any; the
	// result then holds only the implicit keep.
	Err error
	// Errors are non-fatal runtime problems (Pigeonhole logs them).
	Warnings []string
	// Debug holds the vnd.dovecot.debug debug_log messages (Pigeonhole
	// logs them at info level).
	Debug     []string
	redirects int
	dups      []dupMark
}

// formatFlags prints flags as Pigeonhole's result dump does.
func formatFlags(flags []string) string {
	out := make([]string, len(flags))
	for i, f := range flags {
		if strings.HasPrefix(f, "\\") {
			out[i] = strings.ToLower(f)
		} else {
			out[i] = f
		}
	}
	return strings.Join(out, " ")
}

// Print writes the result in the form of Pigeonhole's sieve-test:
// "Performed actions:" then "Implicit keep:".
func (r *Result) Print(b *strings.Builder) {
	b.WriteString("\nPerformed actions:\n\n")
	if len(r.Actions) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, a := range r.Actions {
		printAction(b, a)
	}
	b.WriteString("\nImplicit keep:\n\n")
	if !r.ImplicitKeep {
		b.WriteString("  (none)\n")
	} else {
		b.WriteString(" * store message in folder: INBOX\n")
		if len(r.KeepFlags) > 0 {
			fmt.Fprintf(b, "        + add IMAP flags: %s\n", formatFlags(r.KeepFlags))
		}
	}
	b.WriteString("\n")
}

func printAction(b *strings.Builder, a *Action) {
	switch a.Kind {
	case ActKeep, ActStore:
		fmt.Fprintf(b, " * store message in folder: %s\n", a.Mailbox)
		if len(a.Flags) > 0 {
			fmt.Fprintf(b, "        + add IMAP flags: %s\n", formatFlags(a.Flags))
		}
		if a.Create {
			b.WriteString("        + create mailbox if it does not exist\n")
		}
	case ActDiscard:
		b.WriteString(" * discard\n")
	case ActRedirect:
		fmt.Fprintf(b, " * redirect message to: <%s>\n", a.Address)
	case ActReject:
		fmt.Fprintf(b, " * reject message with reason: %s\n", a.Reason)
	case ActVacation:
		v := a.Vacation
		b.WriteString(" * send vacation message:\n")
		fmt.Fprintf(b, "    => seconds : %d\n", v.Seconds)
		if v.Subject != "" {
			fmt.Fprintf(b, "    => subject : %s\n", v.Subject)
		}
		if v.From != "" {
			fmt.Fprintf(b, "    => from    : %s\n", v.From)
		}
		fmt.Fprintf(b, "    => handle  : %s\n", v.Handle)
		fmt.Fprintf(b, "\nSTART MESSAGE\n%s\nEND MESSAGE\n", v.Reason)
	case ActReport:
		fmt.Fprintf(b, " * report incoming message as `%s' to: <%s>\n", a.Report.FeedbackType, a.Report.Address)
	case ActNotify:
		n := a.Notify
		b.WriteString(" * send notification with method 'mailto:':\n")
		fmt.Fprintf(b, "    => importance : %s\n", n.Importance)
		if n.Message != "" {
			fmt.Fprintf(b, "    => subject    : %s\n", n.Message)
		}
		fmt.Fprintf(b, "    => recipients : %s\n", n.Method)
	}
	if a.Copy {
		b.WriteString("        + preserve implicit keep\n")
	}
}
