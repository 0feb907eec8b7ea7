// Package logging writes log lines in Dovecot's shape: a timestamp (per
// log_timestamp), a prefix naming the process or session
// ("imap-login: ", "imap(alice)<1234><sess>: "), a level ("Info: ",
// "Warning: ", "Error: ", "Fatal: ", "Debug: ") and the message. Lines go to
// a file (log_path, info_log_path, debug_log_path), to stderr
// ("/dev/stderr"), or to syslog ("syslog", with syslog_facility).
//
// A Logger is safe for concurrent use. Callers must never pass passwords,
// hashes or queries in a message.
package logging

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"os"
	"strings"
	"sync"
	"time"
)

// Level is a log level.
type Level int

// Levels, in Dovecot's order.
const (
	LevelDebug Level = iota
	LevelInfo
	LevelWarning
	LevelError
	LevelFatal
)

var levelNames = [...]string{"Debug: ", "Info: ", "Warning: ", "Error: ", "Fatal: "}

// Options configures a Logger.
type Options struct {
	Path           string // log_path: a file, "syslog", "/dev/stderr"; "" means stderr
	InfoPath       string // info_log_path; "" = Path
	DebugPath      string // debug_log_path; "" = InfoPath
	SyslogFacility string // syslog_facility, default "mail"
	SyslogIdent    string // syslog tag, default "dovecot" (what log filters already match)
	Timestamp      string // log_timestamp, strftime subset; default "%b %d %H:%M:%S "
	Debug          bool   // emit Debug lines (mail_debug / auth_debug)
	Now            func() time.Time
}

// sink is one destination. Several levels may share it.
type sink struct {
	mu     sync.Mutex // guards w
	w      io.Writer
	syslog *syslog.Writer
	closer io.Closer
}

// Logger writes Dovecot-shaped lines. The zero value is not usable; use New.
type Logger struct {
	prefix string
	core   *core
}

type core struct {
	sinks  [LevelFatal + 1]*sink
	all    []*sink
	stamp  string
	debug  bool
	now    func() time.Time
	layout string
}

// New opens the configured destinations.
func New(o Options) (*Logger, error) {
	c := &core{debug: o.Debug, now: o.Now, stamp: o.Timestamp}
	if c.now == nil {
		c.now = time.Now
	}
	if o.Timestamp == "" {
		c.stamp = "%b %d %H:%M:%S "
	}
	c.layout = strftimeLayout(c.stamp)
	opened := map[string]*sink{}
	open := func(path string) (*sink, error) {
		if s, ok := opened[path]; ok {
			return s, nil
		}
		s, err := openSink(path, o)
		if err != nil {
			return nil, err
		}
		opened[path] = s
		c.all = append(c.all, s)
		return s, nil
	}
	main, err := open(o.Path)
	if err != nil {
		return nil, err
	}
	info := main
	if o.InfoPath != "" {
		if info, err = open(o.InfoPath); err != nil {
			return nil, err
		}
	}
	dbg := info
	if o.DebugPath != "" {
		if dbg, err = open(o.DebugPath); err != nil {
			return nil, err
		}
	}
	c.sinks = [...]*sink{LevelDebug: dbg, LevelInfo: info, LevelWarning: main, LevelError: main, LevelFatal: main}
	return &Logger{core: c}, nil
}

// NewWriter returns a Logger writing every level to w, without timestamps
// unless stamp is given. For tests and tools.
func NewWriter(w io.Writer, debug bool) *Logger {
	s := &sink{w: w}
	c := &core{debug: debug, now: time.Now, all: []*sink{s}}
	c.sinks = [...]*sink{s, s, s, s, s}
	return &Logger{core: c}
}

func openSink(path string, o Options) (*sink, error) {
	switch path {
	case "", "/dev/stderr":
		return &sink{w: os.Stderr}, nil
	case "/dev/stdout":
		return &sink{w: os.Stdout}, nil
	case "syslog":
		fac, err := facility(o.SyslogFacility)
		if err != nil {
			return nil, err
		}
		ident := o.SyslogIdent
		if ident == "" {
			ident = "dovecot"
		}
		w, err := syslog.New(fac|syslog.LOG_INFO, ident)
		if err != nil {
			return nil, fmt.Errorf("open syslog: %w", err)
		}
		return &sink{syslog: w, closer: w}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open log file: %w", err)
	}
	return &sink{w: f, closer: f}, nil
}

var facilities = map[string]syslog.Priority{
	"kern": syslog.LOG_KERN, "user": syslog.LOG_USER, "mail": syslog.LOG_MAIL,
	"daemon": syslog.LOG_DAEMON, "auth": syslog.LOG_AUTH, "syslog": syslog.LOG_SYSLOG,
	"lpr": syslog.LOG_LPR, "news": syslog.LOG_NEWS, "uucp": syslog.LOG_UUCP,
	"cron": syslog.LOG_CRON, "authpriv": syslog.LOG_AUTHPRIV, "ftp": syslog.LOG_FTP,
	"local0": syslog.LOG_LOCAL0, "local1": syslog.LOG_LOCAL1, "local2": syslog.LOG_LOCAL2,
	"local3": syslog.LOG_LOCAL3, "local4": syslog.LOG_LOCAL4, "local5": syslog.LOG_LOCAL5,
	"local6": syslog.LOG_LOCAL6, "local7": syslog.LOG_LOCAL7,
}

func facility(name string) (syslog.Priority, error) {
	if name == "" {
		return syslog.LOG_MAIL, nil
	}
	p, ok := facilities[strings.ToLower(name)]
	if !ok {
		return 0, fmt.Errorf("unknown syslog_facility %q", name)
	}
	return p, nil
}

// With returns a Logger whose lines carry prefix (e.g. "imap-login" gives
// "imap-login: Info: ..."). Prefixes nest: With("imap").With("x") is "imap: x: ".
func (l *Logger) With(prefix string) *Logger {
	p := prefix + ": "
	if l.prefix != "" {
		p = l.prefix + p
	}
	return &Logger{prefix: p, core: l.core}
}

// Prefix returns the logger's prefix without the trailing ": ".
func (l *Logger) Prefix() string { return strings.TrimSuffix(l.prefix, ": ") }

// Debugf logs at debug level when debugging is enabled.
func (l *Logger) Debugf(format string, args ...any) {
	if l.core.debug {
		l.log(LevelDebug, format, args...)
	}
}

// Infof logs at info level.
func (l *Logger) Infof(format string, args ...any) { l.log(LevelInfo, format, args...) }

// Warnf logs at warning level.
func (l *Logger) Warnf(format string, args ...any) { l.log(LevelWarning, format, args...) }

// Errorf logs at error level.
func (l *Logger) Errorf(format string, args ...any) { l.log(LevelError, format, args...) }

// Fatalf logs at fatal level. It does not exit.
func (l *Logger) Fatalf(format string, args ...any) { l.log(LevelFatal, format, args...) }

// DebugEnabled reports whether Debugf writes anything.
func (l *Logger) DebugEnabled() bool { return l.core.debug }

func (l *Logger) log(lv Level, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	msg = strings.ReplaceAll(msg, "\n", "\\n")
	s := l.core.sinks[lv]
	if s.syslog != nil {
		line := l.prefix + msg
		switch lv {
		case LevelDebug:
			_ = s.syslog.Debug(line)
		case LevelInfo:
			_ = s.syslog.Info(line)
		case LevelWarning:
			_ = s.syslog.Warning(line)
		case LevelError:
			_ = s.syslog.Err(line)
		default:
			_ = s.syslog.Crit(line)
		}
		return
	}
	var b bytes.Buffer
	if l.core.layout != "" {
		b.WriteString(l.core.now().Format(l.core.layout))
	}
	b.WriteString(l.prefix)
	b.WriteString(levelNames[lv])
	b.WriteString(msg)
	b.WriteByte('\n')
	s.mu.Lock()
	_, _ = s.w.Write(b.Bytes())
	s.mu.Unlock()
}

// Close closes files and syslog connections.
func (l *Logger) Close() error {
	var first error
	for _, s := range l.core.all {
		if s.closer != nil {
			if err := s.closer.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// strftimeLayout converts the strftime subset Dovecot users put in
// log_timestamp into a Go time layout. Unknown conversions are kept
// literally.
func strftimeLayout(f string) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'b':
			b.WriteString("Jan")
		case 'd':
			b.WriteString("02")
		case 'e':
			b.WriteString("_2")
		case 'H':
			b.WriteString("15")
		case 'M':
			b.WriteString("04")
		case 'S':
			b.WriteString("05")
		case 'Y':
			b.WriteString("2006")
		case 'y':
			b.WriteString("06")
		case 'm':
			b.WriteString("01")
		case 'a':
			b.WriteString("Mon")
		case 'z':
			b.WriteString("-0700")
		case 'Z':
			b.WriteString("MST")
		case 'T':
			b.WriteString("15:04:05")
		case 'F':
			b.WriteString("2006-01-02")
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String()
}

// Slog returns a *slog.Logger writing through l, for packages that take
// one. Attributes are appended as ", key=value".
func (l *Logger) Slog() *slog.Logger { return slog.New(&slogHandler{l: l}) }

type slogHandler struct {
	l     *Logger
	attrs []slog.Attr
}

func (h *slogHandler) Enabled(_ context.Context, lv slog.Level) bool {
	return lv > slog.LevelDebug || h.l.core.debug
}

func (h *slogHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, ", %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	lv := LevelInfo
	switch {
	case r.Level >= slog.LevelError:
		lv = LevelError
	case r.Level >= slog.LevelWarn:
		lv = LevelWarning
	case r.Level < slog.LevelInfo:
		lv = LevelDebug
	}
	h.l.log(lv, "%s", b.String())
	return nil
}

func (h *slogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &slogHandler{l: h.l, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h *slogHandler) WithGroup(name string) slog.Handler {
	return &slogHandler{l: h.l.With(name), attrs: h.attrs}
}
