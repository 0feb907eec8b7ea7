package server

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"roost/internal/auth"
	"roost/internal/settings"
	"roost/internal/storage"
	"roost/internal/varexpand"
)

// userConfig turns a userdb result into what the storage driver needs:
// the home directory, the mail location (userdb `mail` overrides
// mail_location) and the namespaces, with %-variables expanded as Dovecot
// expands them for mail processes.
func userConfig(s *settings.Settings, proto, user string, fields auth.Fields, cache storage.FieldFunc, now func() time.Time) (storage.UserConfig, error) {
	uc := storage.UserConfig{Username: user, UID: -1, GID: -1, Fields: cache, Now: now}
	if err := checkUID(s, user, fields, &uc); err != nil {
		return uc, err
	}
	vars := userVars(proto, user, fields)
	home := fields["home"]
	if home == "" && s.Mail.Home != "" {
		h, err := varexpand.Expand(s.Mail.Home, vars)
		if err != nil {
			return uc, fmt.Errorf("mail_home: %w", err)
		}
		home = h
	}
	uc.Home = home
	vars["home"] = home
	md, err := metadataConfig(s, vars)
	if err != nil {
		return uc, err
	}
	uc.Metadata = md
	location := s.Mail.Location
	if m, ok := fields["mail"]; ok && m != "" {
		location = m
	}
	uc.DotlockLink = !s.Mail.DotlockUseExcl
	switch s.Mail.Fsync {
	case "always":
		uc.Fsync = storage.FsyncAlways
	case "never":
		uc.Fsync = storage.FsyncNever
	}
	nss := s.Namespaces
	if len(nss) == 0 {
		// Dovecot's implicit namespace: the INBOX namespace with no prefix.
		nss = []settings.Namespace{{Name: "inbox", Type: "private", Inbox: true, List: "yes", Subscriptions: true}}
	}
	for _, ns := range nss {
		if ns.Disabled {
			continue
		}
		loc := ns.Location
		if loc == "" {
			loc = location
		}
		if loc == "" {
			return uc, fmt.Errorf("mail_location not set and userdb returned no mail field for user %s", user)
		}
		exp, err := varexpand.Expand(loc, vars)
		if err != nil {
			return uc, fmt.Errorf("mail location %q: %w", loc, err)
		}
		uc.Namespaces = append(uc.Namespaces, namespaceConfig(ns, exp))
	}
	return uc, nil
}

// checkUID enforces the one-uid process model (DESIGN.md section 2): a
// userdb uid other than the one the process runs as is refused, never
// silently served as the wrong uid.
func checkUID(s *settings.Settings, user string, fields auth.Fields, uc *storage.UserConfig) error {
	uidStr := fields["uid"]
	if uidStr == "" {
		return nil
	}
	uid, err := auth.ParseUID(uidStr)
	if err != nil {
		return fmt.Errorf("user %s: invalid uid %q: %w", user, uidStr, err)
	}
	if uint64(uid) < s.Mail.FirstValidUID || (s.Mail.LastValidUID != 0 && uint64(uid) > s.Mail.LastValidUID) {
		return fmt.Errorf("Mail access for users with UID %d not permitted (see first_valid_uid in config file, uid from userdb lookup)", uid)
	}
	cur := os.Geteuid()
	if uid != cur {
		return fmt.Errorf("user %s has uid %d but roost serves mail as uid %d; per-user system uids are not supported yet (use one mail_uid for all virtual users)", user, uid, cur)
	}
	uc.UID = uid
	if g := fields["gid"]; g != "" {
		if gid, err := auth.ParseGID(g); err == nil {
			uc.GID = gid
		}
	}
	return nil
}

func userVars(proto, user string, fields auth.Fields) varexpand.Map {
	n, d, _ := strings.Cut(user, "@")
	m := varexpand.Map{"user": user, "username": n, "domain": d, "service": proto}
	if uid := fields["uid"]; uid != "" {
		m["uid"] = uid
	} else {
		m["uid"] = strconv.Itoa(os.Geteuid())
	}
	if gid := fields["gid"]; gid != "" {
		m["gid"] = gid
	}
	return m
}

func namespaceConfig(ns settings.Namespace, location string) storage.NamespaceConfig {
	nc := storage.NamespaceConfig{
		Name: ns.Name, Type: ns.Type, Prefix: ns.Prefix, Separator: ns.Separator, Location: location,
		Inbox: ns.Inbox, Hidden: ns.Hidden, List: ns.List, Subscriptions: ns.Subscriptions,
	}
	if nc.Type == "" {
		nc.Type = "private"
	}
	for _, mb := range ns.Mailboxes {
		mc := storage.MailboxConfig{Name: mb.Name, Auto: mb.Auto, Autoexpunge: mb.Autoexpunge, Comment: mb.Comment}
		mc.SpecialUse = strings.Fields(mb.SpecialUse)
		nc.Mailboxes = append(nc.Mailboxes, mc)
	}
	return nc
}
