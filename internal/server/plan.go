package server

import (
	"fmt"
	"os"
	"slices"
	"strconv"

	"roost/internal/auth"
	"roost/internal/logging"
	"roost/internal/service"
	"roost/internal/settings"
)

// plan is what a snapshot asks for, checked before anything is bound.
type plan struct {
	snap   *settings.Snapshot
	global *settings.Settings
	imap   *settings.Settings // protocol imap { } applied
	// byProto holds the settings with protocol NAME { } applied, per
	// protocol roost serves.
	byProto map[string]*settings.Settings
	inet    []*service.InetListener
	unix    []*service.UnixListener
	tls     *service.TLSOptions // nil when ssl = no
	tlsReq  bool                // ssl = required
	runUID  int                 // -1: keep the current uid
	runGID  int
}

func newPlan(snap *settings.Snapshot) (*plan, error) {
	p := &plan{snap: snap, global: snap.Global(), runUID: -1, runGID: -1, byProto: map[string]*settings.Settings{}}
	for _, pr := range append(protocols(), protocol{name: "lda"}) {
		p.byProto[pr.name] = snap.For(settings.Filter{Protocol: pr.name})
	}
	p.imap = p.byProto["imap"]
	if err := p.checkMail(); err != nil {
		return nil, err
	}
	if err := p.planTLS(); err != nil {
		return nil, err
	}
	if err := p.planListeners(); err != nil {
		return nil, err
	}
	if err := p.planIDs(); err != nil {
		return nil, err
	}
	return p, nil
}

// serves reports whether the configuration asks for pr and roost has it.
func (p *plan) serves(pr protocol) bool {
	return pr.always || slices.Contains(p.global.Protocols, pr.name)
}

// settingsFor returns the settings with `protocol NAME { }` applied.
// Settings with a protocol filter applied are computed once per plan for
// every protocol roost serves (delivery and logins would otherwise rebuild
// them each time).
func (p *plan) settingsFor(proto string) *settings.Settings {
	if s, ok := p.byProto[proto]; ok {
		return s
	}
	return p.snap.For(settings.Filter{Protocol: proto})
}

func (p *plan) checkMail() error {
	if _, err := service.ParseTLSMode(p.imap.SSL.Mode); err != nil {
		return &ConfigError{Err: err}
	}
	if _, err := authOptions(p.imap, nil); err != nil {
		return err
	}
	return nil
}

func (p *plan) planTLS() error {
	mode, _ := service.ParseTLSMode(p.imap.SSL.Mode)
	if mode == service.TLSNo {
		return nil
	}
	s := p.imap.SSL
	if s.Cert == "" {
		return &ConfigError{Err: fmt.Errorf("ssl enabled, but ssl_cert not set")}
	}
	if s.Key == "" {
		return &ConfigError{Err: fmt.Errorf("ssl enabled, but ssl_key not set")}
	}
	snap := p.snap
	p.tls = &service.TLSOptions{
		Default:     service.CertKey{CertPEM: s.Cert, KeyPEM: s.Key},
		CAPEM:       s.CA,
		MinProtocol: s.MinProtocol,
		CipherList:  s.CipherList,
		Select:      certSelector(snap, s),
		// ssl_verify_client_cert asks for client certificates (EXTERNAL).
		VerifyClientCert: s.VerifyClientCert,
	}
	p.tlsReq = mode == service.TLSRequired
	if _, err := service.NewTLSConfig(*p.tls); err != nil {
		return &ConfigError{Err: err}
	}
	return nil
}

func (p *plan) planListeners() error {
	for _, pr := range protocols() {
		if !p.serves(pr) {
			continue
		}
		for _, svc := range p.global.Services {
			if svc.Name != pr.service {
				continue
			}
			for _, l := range svc.InetListeners {
				il := &service.InetListener{Service: svc.Name, Name: l.Name, Address: l.Address, Port: int(l.Port), SSL: l.SSL}
				if il.SSL && p.tls == nil {
					continue // ssl = no: Dovecot does not bind ssl listeners either
				}
				p.inet = append(p.inet, il)
			}
			for _, l := range svc.UnixListeners {
				if ul := p.unixListener(svc.Name, l); ul != nil {
					p.unix = append(p.unix, ul)
				}
			}
		}
	}
	return nil
}

func (p *plan) listen() ([]service.Bound, error) {
	listen := ""
	for i, a := range p.global.Listen {
		if i > 0 {
			listen += ","
		}
		listen += a
	}
	var out []service.Bound
	for _, il := range p.inet {
		bs, err := service.ListenInet(il, listen)
		if err != nil {
			closeBound(out)
			return nil, err
		}
		out = append(out, bs...)
	}
	if len(p.unix) > 0 {
		if err := os.MkdirAll(p.global.BaseDir, 0o755); err != nil {
			closeBound(out)
			return nil, &ConfigError{Err: fmt.Errorf("base_dir: %w", err)}
		}
	}
	for _, ul := range p.unix {
		b, err := service.ListenUnix(ul)
		if err != nil {
			closeBound(out)
			return nil, err
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, &ConfigError{Err: fmt.Errorf("nothing to listen on: protocols = %v has no served protocol with a listener", p.global.Protocols)}
	}
	return out, nil
}

func (p *plan) sameListeners(o *plan) bool {
	if len(p.inet) != len(o.inet) || len(p.unix) != len(o.unix) {
		return false
	}
	for i := range p.inet {
		if *p.inet[i] != *o.inet[i] {
			return false
		}
	}
	for i := range p.unix {
		if *p.unix[i] != *o.unix[i] {
			return false
		}
	}
	return true
}

// planIDs decides the uid/gid the process runs as after binding. Every
// user's mail must be accessible to that one uid (DESIGN.md section 2):
// mail_uid/mail_gid, else the uid of a static userdb. Userdbs that return
// per-user uids are checked at login (see openUser).
func (p *plan) planIDs() error {
	uidName, gidName := p.global.Mail.UID, p.global.Mail.GID
	if uidName == "" || gidName == "" {
		for _, db := range p.global.Userdbs {
			if db.Driver != "static" {
				continue
			}
			f := auth.ParseFields(db.Args)
			if uidName == "" {
				uidName = f["uid"]
			}
			if gidName == "" {
				gidName = f["gid"]
			}
		}
	}
	var err error
	if uidName != "" {
		if p.runUID, err = auth.ParseUID(uidName); err != nil {
			return &ConfigError{Err: fmt.Errorf("mail_uid: %w", err)}
		}
	}
	if gidName != "" {
		if p.runGID, err = auth.ParseGID(gidName); err != nil {
			return &ConfigError{Err: fmt.Errorf("mail_gid: %w", err)}
		}
	}
	euid := os.Geteuid()
	switch {
	case euid == 0 && p.runUID < 0:
		return &ConfigError{Err: fmt.Errorf("running as root needs a uid to serve mail as: set mail_uid and mail_gid (e.g. vmail), or uid=/gid= in a static userdb")}
	case p.runUID == 0 && p.global.Mail.FirstValidUID > 0:
		return &ConfigError{Err: fmt.Errorf("mail_uid is root (uid 0), which first_valid_uid = %d forbids", p.global.Mail.FirstValidUID)}
	case euid != 0 && p.runUID >= 0 && p.runUID != euid:
		return &ConfigError{Err: fmt.Errorf("mail is to be accessed as uid %d, but roost runs as uid %d and cannot switch (start it as root)", p.runUID, euid)}
	}
	if p.runUID >= 0 && p.runGID < 0 {
		return &ConfigError{Err: fmt.Errorf("mail_uid is set (%d) but mail_gid is not", p.runUID)}
	}
	return nil
}

// dropPrivileges switches to the planned uid/gid, for good.
func (p *plan) dropPrivileges(log *logging.Logger) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if p.runUID == 0 {
		log.With("master").Warnf("serving mail as root (mail_uid = 0 and first_valid_uid = 0)")
		return nil
	}
	if err := service.DropPrivileges(p.runUID, p.runGID, nil); err != nil {
		return fmt.Errorf("drop privileges to uid %s: %w", strconv.Itoa(p.runUID), err)
	}
	return nil
}
