package imapserver

import (
	"context"

	"roost/internal/storage"
)

// cmdNamespace is NAMESPACE (RFC 2342): personal (private), other users'
// (shared) and shared (public) namespaces; hidden ones are left out.
func cmdNamespace(ctx context.Context, c *conn, cmd *command) error {
	if !cmd.end() {
		return cmd.dec.Err()
	}
	groups := map[string][]storage.Namespace{}
	for _, ns := range c.user.Namespaces() {
		if !ns.Hidden {
			groups[ns.Type] = append(groups[ns.Type], ns)
		}
	}
	enc := c.untagged().Atom("NAMESPACE")
	for _, typ := range [...]string{"private", "shared", "public"} {
		enc.SP()
		list := groups[typ]
		if len(list) == 0 {
			enc.NIL()
			continue
		}
		enc.List(len(list), func(i int) {
			// Dovecot quotes the prefix even when it is an atom.
			enc.Special('(').String(c.wireName(list[i].Prefix)).SP().String(list[i].Separator).Special(')')
		})
	}
	enc.CRLF()
	return nil
}
