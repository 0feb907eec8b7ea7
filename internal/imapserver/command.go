package imapserver

import (
	"context"

	"roost/internal/imapwire"
)

// state is a connection state (RFC 3501 section 3), as a bit so that a
// command spec can allow several.
type state uint8

const (
	stateNotAuth state = 1 << iota
	stateAuth
	stateSelected
	stateLogout

	statesAny      = stateNotAuth | stateAuth | stateSelected
	statesLoggedIn = stateAuth | stateSelected
)

// cmdFlags modify how the dispatcher treats a command.
type cmdFlags uint8

const (
	// flagUID: the command may be prefixed with UID.
	flagUID cmdFlags = 1 << iota
	// flagUsesSeqs: without the UID prefix the command uses sequence
	// numbers, so no EXPUNGE may be sent while it runs or at its end
	// (RFC 3501 section 7.4.1); the dispatcher skips the closing sync.
	flagUsesSeqs
	// flagNoSync: the command announces changes itself (or must not).
	flagNoSync
)

// handler runs one command. It reads its arguments from cmd.dec (which is
// positioned right after the command name) up to and including the CRLF,
// then acts. It returns nil for a tagged OK (text cmd.okText, code
// cmd.okCode), a *status (from no or bad) for NO/BAD, a storage error
// (mapped by the one table in errors.go), or the decoder's error, which
// becomes "BAD Error in IMAP command NAME: reason".
type handler func(ctx context.Context, c *conn, cmd *command) error

// commandSpec is one row of the command table.
type commandSpec struct {
	handler handler
	states  state
	flags   cmdFlags
	okText  string // default text of the tagged OK
}

// command is one command being executed.
type command struct {
	tag  string
	name string // upper-case command name without "UID ", e.g. "FETCH"
	uid  bool   // the command was sent as "UID <name>"
	dec  *imapwire.Decoder
	spec *commandSpec

	// Tagged OK response; handlers may change them before returning nil.
	okCode string // e.g. "READ-WRITE", "APPENDUID 1 2"; empty for none
	okText string
}

// fullName is the command as Dovecot names it in errors: "UID FETCH".
func (cmd *command) fullName() string {
	if cmd.uid {
		return "UID " + cmd.name
	}
	return cmd.name
}

// newCommandTable returns the command table. Commands whose handlers live
// in cmd_fetch*.go, cmd_search*.go, cmd_store*.go, cmd_copy*.go and
// cmd_expunge*.go are owned by another engineer (see HANDOFF.md).
func newCommandTable() map[string]*commandSpec {
	return map[string]*commandSpec{
		// Any state (RFC 3501 section 6.1).
		"CAPABILITY": {handler: cmdCapability, states: statesAny, okText: "Capability completed."},
		"NOOP":       {handler: cmdNoop, states: statesAny, okText: "NOOP completed."},
		"LOGOUT":     {handler: cmdLogout, states: statesAny, flags: flagNoSync, okText: "Logout completed."},
		"ID":         {handler: cmdID, states: statesAny, okText: "ID completed."},

		// Not authenticated (section 6.2).
		"STARTTLS":     {handler: cmdStartTLS, states: stateNotAuth, okText: "Begin TLS negotiation now."},
		"AUTHENTICATE": {handler: cmdAuthenticate, states: stateNotAuth, okText: "Logged in"},
		"LOGIN":        {handler: cmdLogin, states: stateNotAuth, okText: "Logged in"},

		// Authenticated (section 6.3) and extensions.
		"SELECT":      {handler: cmdSelect, states: statesLoggedIn, flags: flagNoSync},
		"EXAMINE":     {handler: cmdSelect, states: statesLoggedIn, flags: flagNoSync},
		"CREATE":      {handler: cmdCreate, states: statesLoggedIn, okText: "Create completed."},
		"GETMETADATA": {handler: cmdGetMetadata, states: statesLoggedIn, okText: "Getmetadata completed."},
		"SETMETADATA": {handler: cmdSetMetadata, states: statesLoggedIn, okText: "Setmetadata completed."},
		"DELETE":      {handler: cmdDelete, states: statesLoggedIn, okText: "Delete completed."},
		"RENAME":      {handler: cmdRename, states: statesLoggedIn, okText: "Rename completed."},
		"SUBSCRIBE":   {handler: cmdSubscribe, states: statesLoggedIn, okText: "Subscribe completed."},
		"UNSUBSCRIBE": {handler: cmdSubscribe, states: statesLoggedIn, okText: "Unsubscribe completed."},
		"LIST":        {handler: cmdList, states: statesLoggedIn, okText: "List completed."},
		"LSUB":        {handler: cmdList, states: statesLoggedIn, okText: "Lsub completed."},
		"NOTIFY":      {handler: cmdNotify, states: statesLoggedIn, okText: "NOTIFY completed."},
		"STATUS":      {handler: cmdStatus, states: statesLoggedIn, okText: "Status completed."},
		"APPEND":      {handler: cmdAppend, states: statesLoggedIn, okText: "Append completed."},
		"NAMESPACE":   {handler: cmdNamespace, states: statesLoggedIn, okText: "Namespace completed."},
		"ENABLE":      {handler: cmdEnable, states: statesLoggedIn, okText: "Enabled."},
		"IDLE":        {handler: cmdIdle, states: statesLoggedIn, flags: flagNoSync, okText: "Idle completed."},
		"COMPRESS":    {handler: cmdCompress, states: statesLoggedIn, flags: flagNoSync, okText: "Begin compression."},

		// Selected (section 6.4) and extensions.
		"CHECK":    {handler: cmdCheck, states: stateSelected, okText: "Check completed."},
		"CLOSE":    {handler: cmdClose, states: stateSelected, flags: flagNoSync, okText: "Close completed."},
		"UNSELECT": {handler: cmdUnselect, states: stateSelected, flags: flagNoSync, okText: "Unselect completed."},
		"EXPUNGE":  {handler: cmdExpunge, states: stateSelected, flags: flagUID, okText: "Expunge completed."},
		"SEARCH":   {handler: cmdSearch, states: stateSelected, flags: flagUID | flagUsesSeqs, okText: "Search completed."},
		"FETCH":    {handler: cmdFetch, states: stateSelected, flags: flagUID | flagUsesSeqs, okText: "Fetch completed."},
		"STORE":    {handler: cmdStore, states: stateSelected, flags: flagUID | flagUsesSeqs, okText: "Store completed."},
		"COPY":     {handler: cmdCopy, states: stateSelected, flags: flagUID | flagUsesSeqs, okText: "Copy completed."},
		"MOVE":     {handler: cmdCopy, states: stateSelected, flags: flagUID, okText: "Move completed."},
		"SORT":     {handler: cmdSort, states: stateSelected, flags: flagUID | flagUsesSeqs, okText: "Sort completed."},
		"THREAD":   {handler: cmdThread, states: stateSelected, flags: flagUID | flagUsesSeqs, okText: "Thread completed."},
		"REPLACE":  {handler: cmdReplace, states: stateSelected, flags: flagUID, okText: "Replace completed."},

		// CONTEXT=SEARCH (RFC 5267, feature_contextsearch.go).
		"CANCELUPDATE": {handler: cmdCancelUpdate, states: stateSelected, okText: "Search updates cancelled."},
	}
}

// end finishes a command's arguments. As in Dovecot, arguments after the
// ones a command reads are ignored ("NOOP extra", "SELECT INBOX x"): the
// rest of the line is skipped.
func (cmd *command) end() bool {
	d := cmd.dec
	if d.CRLF() {
		return true
	}
	if d.Err() != nil {
		return false
	}
	if !d.SP() {
		return d.ExpectCRLF() // records the error
	}
	return d.DiscardLine() == nil
}
