package server

import (
	"fmt"
	"strings"

	"roost/internal/settings"
	"roost/internal/storage"
	"roost/internal/varexpand"
)

// metadataConfig is what storage needs for METADATA (RFC 5464): the
// attribute dict (mail_attribute_dict, only Dovecot's "file:" dict; any
// other is left to the driver's default file with a log-free fallback, as
// docs/compat.md says) and the server's comment and admin entries.
func metadataConfig(s *settings.Settings, vars varexpand.Map) (storage.MetadataConfig, error) {
	mc := storage.MetadataConfig{ServerComment: s.Mail.ServerComment, ServerAdmin: s.Mail.ServerAdmin}
	path, ok := strings.CutPrefix(s.Mail.AttributeDict, "file:")
	if !ok || path == "" {
		return mc, nil
	}
	exp, err := varexpand.Expand(path, vars)
	if err != nil {
		return mc, fmt.Errorf("mail_attribute_dict: %w", err)
	}
	mc.Dict = exp
	return mc, nil
}
