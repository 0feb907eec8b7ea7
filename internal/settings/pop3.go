package settings

import (
	"fmt"
	"strings"
)

// POP3 holds the pop3_* settings, typed. Settings.POP3 keeps the raw
// values; POP3Settings reads them.
type POP3 struct {
	// UIDLFormat is the UIDL template: %v UIDVALIDITY, %u UID, %m header
	// MD5, %f file name, %g GUID (pop3_uidl_format).
	UIDLFormat string
	// ReuseXUIDL uses a message's X-UIDL header as its UIDL (pop3_reuse_xuidl).
	ReuseXUIDL bool
	// SaveUIDL stores the UIDLs sent to clients (pop3_save_uidl).
	SaveUIDL bool
	// UIDLDuplicates is "allow" or "rename" (pop3_uidl_duplicates).
	UIDLDuplicates string
	// LockSession allows one POP3 session per user at a time (pop3_lock_session).
	LockSession bool
	// NoFlagUpdates keeps \Seen and \Recent unchanged (pop3_no_flag_updates).
	NoFlagUpdates bool
	// DeletedFlag is the keyword that hides messages from POP3 (pop3_deleted_flag).
	DeletedFlag string
	// DeleteType is "expunge" or "flag"; "default" resolved (pop3_delete_type).
	DeleteType string
	// LogoutFormat is the disconnect log statistics template (pop3_logout_format).
	LogoutFormat string
	// EnableLast enables the obsolete LAST command (pop3_enable_last).
	EnableLast bool
	// FastSizeLookups allows physical sizes in LIST (pop3_fast_size_lookups).
	FastSizeLookups bool
	// ClientWorkarounds lists pop3_client_workarounds.
	ClientWorkarounds []string
}

// POP3Settings returns the typed pop3_* settings, validated as Dovecot's
// pop3 process does at start.
func (s *Settings) POP3Settings() (POP3, error) {
	raw := s.POP3
	p := POP3{
		UIDLFormat:        raw["pop3_uidl_format"],
		UIDLDuplicates:    raw["pop3_uidl_duplicates"],
		DeletedFlag:       raw["pop3_deleted_flag"],
		DeleteType:        raw["pop3_delete_type"],
		LogoutFormat:      raw["pop3_logout_format"],
		ClientWorkarounds: strings.Fields(raw["pop3_client_workarounds"]),
	}
	bools := []struct {
		key string
		dst *bool
	}{
		{"pop3_reuse_xuidl", &p.ReuseXUIDL}, {"pop3_save_uidl", &p.SaveUIDL},
		{"pop3_lock_session", &p.LockSession}, {"pop3_no_flag_updates", &p.NoFlagUpdates},
		{"pop3_enable_last", &p.EnableLast}, {"pop3_fast_size_lookups", &p.FastSizeLookups},
	}
	for _, b := range bools {
		v, ok := raw[b.key]
		if !ok || v == "" {
			continue
		}
		x, err := parseBool(v)
		if err != nil {
			return p, fmt.Errorf("%s: %w", b.key, err)
		}
		*b.dst = x
	}
	if p.UIDLFormat == "" {
		p.UIDLFormat = "%08Xu%08Xv"
	}
	if p.UIDLDuplicates == "" {
		p.UIDLDuplicates = "allow"
	}
	if p.UIDLDuplicates != "allow" && p.UIDLDuplicates != "rename" {
		return p, fmt.Errorf("pop3_uidl_duplicates: unknown value %q", p.UIDLDuplicates)
	}
	return p, p.resolveDeleteType()
}

// resolveDeleteType turns pop3_delete_type = default into expunge or flag.
func (p *POP3) resolveDeleteType() error {
	switch p.DeleteType {
	case "", "default":
		p.DeleteType = "expunge"
		if p.DeletedFlag != "" {
			p.DeleteType = "flag"
		}
	case "expunge":
	case "flag":
		if p.DeletedFlag == "" {
			return fmt.Errorf("pop3_delete_type=flag, but pop3_deleted_flag not set")
		}
	default:
		return fmt.Errorf("pop3_delete_type: unknown value %q", p.DeleteType)
	}
	return nil
}
