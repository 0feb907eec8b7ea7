package managesieve

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"roost/internal/sieve"
	"roost/internal/sievestore"
)

// storeError answers a storage error with its response code (RFC 5804
// section 1.3): the one table for ManageSieve.
func (c *conn) storeError(err error) {
	codes := map[sievestore.Kind]string{
		sievestore.KindNotFound: "NONEXISTENT", sievestore.KindExists: "ALREADYEXISTS",
		sievestore.KindActive: "ACTIVE", sievestore.KindQuotaMaxSize: "QUOTA/MAXSIZE",
		sievestore.KindQuotaMaxScript: "QUOTA/MAXSCRIPTS", sievestore.KindQuotaStorage: "QUOTA/MAXSTORAGE",
		sievestore.KindBadName: "", sievestore.KindNoStorage: "",
	}
	k := sievestore.KindOf(err)
	code, known := codes[k]
	if !known {
		c.internalError(err)
		return
	}
	c.log.Infof("%s", err.Error())
	c.no(code, err.Error())
}

// args checks that cmd has n string arguments and returns them.
func (c *conn) stringArgs(cmd *command, n int) ([]string, bool) {
	if t := cmd.checkArgs(n); t != "" {
		c.badCommand(t)
		return nil, false
	}
	out := make([]string, n)
	for i := range out {
		s, ok := cmd.str(i)
		if !ok {
			c.badCommand(fmt.Sprintf("Error in MANAGESIEVE command %s: Invalid arguments.", cmd.name))
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// compile checks a script; false when the reply (errors, or an internal
// error) was sent.
func (c *conn) compile(ctx context.Context, name string, src []byte, prefix string) bool {
	err := c.srv.opts.Compile(ctx, c.session, name, src)
	if err == nil {
		return true
	}
	var ce *sieve.CompileError
	if !errors.As(err, &ce) {
		c.internalError(fmt.Errorf("compile %q: %w", name, err))
		return false
	}
	var b strings.Builder
	for i, e := range ce.Errors {
		if i >= c.srv.opts.MaxCompileErrors {
			break
		}
		fmt.Fprintf(&b, "%sline %d: error: %s.\r\n", prefix, e.Pos.Line, strings.TrimSuffix(e.Msg, "."))
	}
	phase := ce.Phase
	if phase == "" {
		phase = "validation"
	}
	fmt.Fprintf(&b, "%serror: %s failed.\r\n", prefix, phase)
	c.line("NO " + literal(b.String()))
	return false
}

// literal always renders a literal (compile errors, GETSCRIPT).
func literal(s string) string { return fmt.Sprintf("{%d}\r\n%s", len(s), s) }

// cmdPutScript is PUTSCRIPT (RFC 5804 section 2.6).
func cmdPutScript(ctx context.Context, c *conn, cmd *command) error {
	a, ok := c.stringArgs(cmd, 2)
	if !ok {
		return nil
	}
	if err := c.store.CheckQuota(a[0], int64(len(a[1]))); err != nil {
		c.storeError(err)
		return nil
	}
	if !c.compile(ctx, a[0], []byte(a[1]), a[0]+": ") {
		return nil
	}
	if err := c.store.Put(a[0], []byte(a[1])); err != nil {
		c.storeError(err)
		return nil
	}
	c.ok("", "PUTSCRIPT completed.")
	return nil
}

// cmdCheckScript is CHECKSCRIPT (RFC 5804 section 2.12).
func cmdCheckScript(ctx context.Context, c *conn, cmd *command) error {
	a, ok := c.stringArgs(cmd, 1)
	if !ok {
		return nil
	}
	if c.compile(ctx, "", []byte(a[0]), "") {
		c.ok("", "Script checked successfully.")
	}
	return nil
}

// cmdHaveSpace is HAVESPACE (RFC 5804 section 2.5).
func cmdHaveSpace(_ context.Context, c *conn, cmd *command) error {
	if t := cmd.checkArgs(2); t != "" {
		return c.badCommand(t)
	}
	name, ok := cmd.str(0)
	if !ok {
		return c.badCommand("Error in MANAGESIEVE command HAVESPACE: Invalid arguments.")
	}
	if cmd.args[1].kind != argNumber {
		c.no("", "Invalid scriptsize argument.")
		return nil
	}
	if err := c.store.CheckQuota(name, int64(min(cmd.args[1].n, 1<<62))); err != nil {
		c.storeError(err)
		return nil
	}
	c.ok("", "Putscript would succeed.")
	return nil
}

// cmdListScripts is LISTSCRIPTS (RFC 5804 section 2.7).
func cmdListScripts(_ context.Context, c *conn, cmd *command) error {
	if t := cmd.checkArgs(0); t != "" {
		return c.badCommand(t)
	}
	list, err := c.store.List()
	if err != nil {
		c.internalError(err)
		return nil
	}
	for _, s := range list {
		if s.Active {
			c.line(quote(s.Name) + " ACTIVE")
		} else {
			c.line(quote(s.Name))
		}
	}
	c.ok("", "Listscripts completed.")
	return nil
}

// cmdSetActive is SETACTIVE (RFC 5804 section 2.8); "" deactivates.
func cmdSetActive(_ context.Context, c *conn, cmd *command) error {
	a, ok := c.stringArgs(cmd, 1)
	if !ok {
		return nil
	}
	if cur, err := c.store.Active(); err == nil && cur != "" && cur == a[0] {
		c.ok("", "Script is already active.")
		return nil
	}
	if err := c.store.SetActive(a[0]); err != nil {
		c.storeError(err)
		return nil
	}
	if a[0] == "" {
		c.ok("", "Active script is now deactivated.")
		return nil
	}
	c.ok("", "Setactive completed.")
	return nil
}

// cmdGetScript is GETSCRIPT (RFC 5804 section 2.9).
func cmdGetScript(_ context.Context, c *conn, cmd *command) error {
	a, ok := c.stringArgs(cmd, 1)
	if !ok {
		return nil
	}
	b, err := c.store.Get(a[0])
	if err != nil {
		c.storeError(err)
		return nil
	}
	c.line(literal(string(b)))
	c.ok("", "Getscript completed.")
	return nil
}

// cmdDeleteScript is DELETESCRIPT (RFC 5804 section 2.10).
func cmdDeleteScript(_ context.Context, c *conn, cmd *command) error {
	a, ok := c.stringArgs(cmd, 1)
	if !ok {
		return nil
	}
	if err := c.store.Delete(a[0]); err != nil {
		c.storeError(err)
		return nil
	}
	c.ok("", "Deletescript completed.")
	return nil
}

// cmdRenameScript is RENAMESCRIPT (RFC 5804 section 2.11.1).
func cmdRenameScript(_ context.Context, c *conn, cmd *command) error {
	a, ok := c.stringArgs(cmd, 2)
	if !ok {
		return nil
	}
	if err := c.store.Rename(a[0], a[1]); err != nil {
		c.storeError(err)
		return nil
	}
	c.ok("", "Renamescript completed.")
	return nil
}
