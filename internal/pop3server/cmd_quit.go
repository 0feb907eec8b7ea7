package pop3server

import (
	"context"
)

// cmdQuitLogin is QUIT before login.
func cmdQuitLogin(_ context.Context, c *conn, _ string) error {
	c.ok("Logging out")
	c.state = stateDone
	c.logout = "Aborted login by logging out"
	return nil
}

// cmdQuit is QUIT in the TRANSACTION state: the UPDATE state (RFC 1939
// section 6) expunges the messages marked by DELE and writes \Seen flags.
func cmdQuit(ctx context.Context, c *conn, _ string) error {
	c.state = stateDone
	c.quit = true
	deleted, err := c.box.commit(ctx)
	if err != nil {
		c.log.Errorf("QUIT: %v", err)
		c.storageError(err)
		c.logout = "Storage error during logout."
		return nil
	}
	if deleted {
		c.ok("Logging out, messages deleted.")
	} else {
		c.ok("Logging out.")
	}
	c.logout = "Logged out"
	return nil
}
