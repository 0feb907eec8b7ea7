package sieve

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is the Pigeonhole configuration the interpreter consults: the
// sieve_* values of Dovecot's plugin {} section. Delivery fills it once
// from its settings (ParseConfig does it from the raw name/value pairs);
// DefaultConfig has Pigeonhole's defaults. A Config is read-only once a
// run has started.
type Config struct {
	// MaxScriptSize is sieve_max_script_size: the largest script compiled.
	MaxScriptSize int
	// MaxActions is sieve_max_actions: actions one run may collect (0 = no limit).
	MaxActions int
	// MaxRedirects is sieve_max_redirects: redirect actions one run may collect.
	MaxRedirects int
	// Extensions is sieve_extensions applied to the defaults: what a
	// personal script may require.
	Extensions []string
	// GlobalExtensions is sieve_global_extensions: extensions only global
	// (administrator) scripts may require, on top of Extensions.
	GlobalExtensions []string
	// VacationMinPeriod, VacationMaxPeriod and VacationDefaultPeriod are
	// sieve_vacation_min_period, _max_period and _default_period.
	VacationMinPeriod, VacationMaxPeriod, VacationDefaultPeriod time.Duration
	// VacationDefaultSubject is sieve_vacation_default_subject (used when
	// :subject is absent; empty means "Auto: " and the original subject).
	VacationDefaultSubject string
	// VacationDefaultSubjectTemplate is sieve_vacation_default_subject_template:
	// %{subject} (or %$) is replaced by the original subject.
	VacationDefaultSubjectTemplate string
	// VacationUseOriginalRecipient is sieve_vacation_use_original_recipient.
	VacationUseOriginalRecipient bool
	// VacationDontCheckRecipient is sieve_vacation_dont_check_recipient.
	VacationDontCheckRecipient bool
	// VacationSendFromRecipient is sieve_vacation_send_from_recipient: the
	// reply's envelope sender is the recipient instead of <>.
	VacationSendFromRecipient bool
	// VacationToHeaderIgnoreEnvelope is sieve_vacation_to_header_ignore_envelope.
	VacationToHeaderIgnoreEnvelope bool
	// RedirectEnvelopeFrom is sieve_redirect_envelope_from: "sender",
	// "recipient", "orig_recipient", "user_email" or "<address>".
	RedirectEnvelopeFrom string
	// UserEmail is sieve_user_email: the user's primary address.
	UserEmail string
	// RecipientDelimiter is recipient_delimiter (subaddress).
	RecipientDelimiter string
	// IncludeMaxIncludes and IncludeMaxNestingDepth are
	// sieve_include_max_includes and sieve_include_max_nesting_depth.
	IncludeMaxIncludes, IncludeMaxNestingDepth int
	// VariablesMaxScopeSize and VariablesMaxVariableSize are
	// sieve_variables_max_scope_size and sieve_variables_max_variable_size.
	VariablesMaxScopeSize, VariablesMaxVariableSize int
	// EditheaderMaxHeaderSize is sieve_editheader_max_header_size.
	EditheaderMaxHeaderSize int
	// EditheaderProtected, EditheaderForbidAdd and EditheaderForbidDelete
	// are sieve_editheader_protected, _forbid_add and _forbid_delete
	// (lower-case header names).
	EditheaderProtected, EditheaderForbidAdd, EditheaderForbidDelete []string
	// NotifyMaxNotifications is sieve_notify_max_notifications.
	NotifyMaxNotifications int
	// DuplicateDefaultPeriod and DuplicateMaxPeriod are
	// sieve_duplicate_default_period and sieve_duplicate_max_period.
	DuplicateDefaultPeriod, DuplicateMaxPeriod time.Duration
	// MaxCPUTime is sieve_max_cpu_time (0 = no limit).
	MaxCPUTime time.Duration
	// Spamtest and Virustest are the sieve_spamtest_* and sieve_virustest_*
	// settings.
	Spamtest, Virustest ScoreConfig
	// Imapsieve holds the imapsieve_mailboxN_* rules in order.
	Imapsieve []ImapsieveRule
	// Raw keeps every value by name, for settings without a field.
	Raw map[string]string
}

// ScoreConfig is how spamtest or virustest reads a score from a header
// (Pigeonhole's sieve_spamtest_status_header and friends).
type ScoreConfig struct {
	// Header is the header name; Regex, when set, extracts the score as
	// its first group.
	Header, Regex string
	// Type is "score", "strlen" or "text".
	Type string
	// MaxValue is the score that means "certainly spam" (score, strlen):
	// _score_max_value.
	MaxValue float64
	// MaxHeader and MaxRegex read the maximum from the message instead
	// (_score_max_header, "Header:regex").
	MaxHeader, MaxRegex string
	// TextValues maps the header text to a value 0..10 (text).
	TextValues map[string]int
}

func (s ScoreConfig) configured() bool { return s.Header != "" }

// DefaultConfig returns Pigeonhole's defaults.
func DefaultConfig() *Config {
	return &Config{
		MaxScriptSize: MaxScriptSize, MaxActions: MaxActions, MaxRedirects: MaxRedirects,
		VacationMinPeriod: 24 * time.Hour, VacationDefaultPeriod: 7 * 24 * time.Hour,
		RedirectEnvelopeFrom: "sender", RecipientDelimiter: "+",
		IncludeMaxIncludes: MaxIncludes, IncludeMaxNestingDepth: MaxIncludeNesting,
		VariablesMaxScopeSize: MaxVariables, VariablesMaxVariableSize: MaxVariableSize,
		EditheaderMaxHeaderSize: MaxHeaderValueSize, NotifyMaxNotifications: MaxNotifications,
		DuplicateDefaultPeriod: 14 * 24 * time.Hour, DuplicateMaxPeriod: 7 * 24 * time.Hour,
		Raw: map[string]string{},
	}
}

// ParseConfig builds a Config from plugin {} name/value pairs. Unknown
// names are kept in Raw; a malformed value is an error naming the setting.
func ParseConfig(kv map[string]string) (*Config, error) {
	c := DefaultConfig()
	names := make([]string, 0, len(kv))
	for k := range kv {
		names = append(names, k)
	}
	sort.Strings(names)
	var first error
	for _, k := range names {
		c.Raw[k] = kv[k]
		if err := c.set(k, kv[k]); err != nil && first == nil {
			first = fmt.Errorf("setting %s: %w", k, err)
		}
	}
	if err := c.parseScores(kv); err != nil && first == nil {
		first = err
	}
	rules, err := parseImapsieve(kv)
	c.Imapsieve = rules
	if err != nil && first == nil {
		first = err
	}
	return c, first
}

// set applies one setting.
func (c *Config) set(name, v string) error {
	ints := map[string]*int{
		"sieve_max_script_size": &c.MaxScriptSize, "sieve_max_actions": &c.MaxActions,
		"sieve_max_redirects": &c.MaxRedirects, "sieve_include_max_includes": &c.IncludeMaxIncludes,
		"sieve_include_max_nesting_depth": &c.IncludeMaxNestingDepth, "sieve_variables_max_scope_size": &c.VariablesMaxScopeSize,
		"sieve_variables_max_variable_size": &c.VariablesMaxVariableSize, "sieve_variables_max_value_size": &c.VariablesMaxVariableSize, "sieve_editheader_max_header_size": &c.EditheaderMaxHeaderSize,
		"sieve_notify_max_notifications": &c.NotifyMaxNotifications,
	}
	durs := map[string]*time.Duration{
		"sieve_vacation_min_period": &c.VacationMinPeriod, "sieve_vacation_max_period": &c.VacationMaxPeriod,
		"sieve_vacation_default_period": &c.VacationDefaultPeriod, "sieve_duplicate_default_period": &c.DuplicateDefaultPeriod,
		"sieve_duplicate_max_period": &c.DuplicateMaxPeriod, "sieve_max_cpu_time": &c.MaxCPUTime,
	}
	bools := map[string]*bool{
		"sieve_vacation_use_original_recipient":    &c.VacationUseOriginalRecipient,
		"sieve_vacation_dont_check_recipient":      &c.VacationDontCheckRecipient,
		"sieve_vacation_send_from_recipient":       &c.VacationSendFromRecipient,
		"sieve_vacation_to_header_ignore_envelope": &c.VacationToHeaderIgnoreEnvelope,
	}
	strs := map[string]*string{
		"sieve_vacation_default_subject": &c.VacationDefaultSubject, "sieve_vacation_default_subject_template": &c.VacationDefaultSubjectTemplate,
		"sieve_user_email": &c.UserEmail, "recipient_delimiter": &c.RecipientDelimiter,
	}
	lists := map[string]*[]string{
		"sieve_editheader_protected": &c.EditheaderProtected, "sieve_editheader_forbid_add": &c.EditheaderForbidAdd,
		"sieve_editheader_forbid_delete": &c.EditheaderForbidDelete,
	}
	switch {
	case ints[name] != nil:
		n, err := parseSize(v)
		if err != nil {
			return err
		}
		*ints[name] = n
	case durs[name] != nil:
		d, err := parseDuration(v)
		if err != nil {
			return err
		}
		*durs[name] = time.Duration(d) * time.Second
	case bools[name] != nil:
		b, err := parseBool(v)
		if err != nil {
			return err
		}
		*bools[name] = b
	case strs[name] != nil:
		*strs[name] = v
	case lists[name] != nil:
		*lists[name] = strings.Fields(strings.ToLower(v))
	case name == "sieve_extensions":
		c.Extensions = ExtensionList(v)
	case name == "sieve_global_extensions":
		c.GlobalExtensions = strings.Fields(strings.ReplaceAll(strings.ReplaceAll(v, "+", ""), "-", ""))
	case name == "sieve_redirect_envelope_from":
		return c.setRedirectFrom(v)
	}
	return nil
}

func (c *Config) setRedirectFrom(v string) error {
	v = strings.TrimSpace(v)
	switch strings.ToLower(v) {
	case "", "sender":
		c.RedirectEnvelopeFrom = "sender"
	case "recipient", "orig_recipient", "user_email":
		c.RedirectEnvelopeFrom = strings.ToLower(v)
	default:
		if !strings.HasPrefix(v, "<") || !strings.HasSuffix(v, ">") {
			return fmt.Errorf("invalid value %q", v)
		}
		c.RedirectEnvelopeFrom = v
	}
	return nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "yes", "y", "true", "1":
		return true, nil
	case "no", "n", "false", "0", "":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", v)
}

// parseSize reads Dovecot size and count values ("1M", "32", "10k").
func parseSize(v string) (int, error) {
	v = strings.TrimSpace(strings.ToLower(v))
	mult := 1
	for suffix, m := range map[string]int{"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30} {
		if strings.HasSuffix(v, suffix) && len(v) > len(suffix) && v[len(v)-len(suffix)-1] >= '0' && v[len(v)-len(suffix)-1] <= '9' {
			v, mult = strings.TrimSpace(v[:len(v)-len(suffix)]), m
			break
		}
	}
	v = strings.TrimSuffix(strings.TrimSuffix(v, "b"), " ")
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid number %q", v)
	}
	return n * mult, nil
}

func (c *Config) parseScores(kv map[string]string) error {
	for _, p := range []struct {
		prefix string
		dst    *ScoreConfig
	}{{"sieve_spamtest", &c.Spamtest}, {"sieve_virustest", &c.Virustest}} {
		h := strings.TrimSpace(kv[p.prefix+"_status_header"])
		if h == "" {
			continue
		}
		name, re, _ := strings.Cut(h, ":")
		s := ScoreConfig{Header: strings.TrimSpace(name), Regex: strings.TrimSpace(re), Type: "score", TextValues: map[string]int{}}
		if t := strings.TrimSpace(kv[p.prefix+"_status_type"]); t != "" {
			s.Type = strings.ToLower(t)
		}
		for _, name := range []string{p.prefix + "_score_max_value", p.prefix + "_max_value"} {
			if m := strings.TrimSpace(kv[name]); m != "" {
				f, err := strconv.ParseFloat(m, 64)
				if err != nil {
					return fmt.Errorf("setting %s: invalid number %q", name, m)
				}
				s.MaxValue = f
				break
			}
		}
		if h := strings.TrimSpace(kv[p.prefix+"_score_max_header"]); h != "" {
			name, re, _ := strings.Cut(h, ":")
			s.MaxHeader, s.MaxRegex = strings.TrimSpace(name), strings.TrimSpace(re)
		}
		for i := 0; i <= 10; i++ {
			for _, sep := range []string{"", "/"} {
				if t, ok := kv[p.prefix+"_text_value"+sep+strconv.Itoa(i)]; ok {
					s.TextValues[strings.ToLower(t)] = i
				}
			}
		}
		*p.dst = s
	}
	return nil
}

// EditheaderForbidden reports whether editheader may not add (add=true)
// or delete the header field name. Received and Auto-Submitted can never
// be deleted and Subject is never protected, as in Pigeonhole. Both the
// Dovecot 2.3 lists (sieve_editheader_protected, _forbid_add,
// _forbid_delete) and the 2.4 filter form (sieve_editheader_header with
// sieve_editheader_header/KEY/name, /forbid_add, /forbid_delete) apply.
func (c *Config) EditheaderForbidden(name string, add bool) bool {
	lname := strings.ToLower(name)
	switch {
	case !add && (lname == "received" || lname == "auto-submitted"):
		return true
	case lname == "subject" || c == nil:
		return false
	case slices.Contains(c.EditheaderProtected, lname):
		return true
	case add && slices.Contains(c.EditheaderForbidAdd, lname), !add && slices.Contains(c.EditheaderForbidDelete, lname):
		return true
	}
	setting := "forbid_delete"
	if add {
		setting = "forbid_add"
	}
	for _, key := range strings.Fields(c.Raw["sieve_editheader_header"]) {
		prefix := "sieve_editheader_header/" + key + "/"
		hname, ok := c.Raw[prefix+"name"]
		if !ok {
			hname = key
		}
		if strings.EqualFold(hname, name) {
			b, err := parseBool(c.Raw[prefix+setting])
			return err == nil && b
		}
	}
	return false
}

// notifyProhibited reports sieve_notify_max_notifications set to 0: no
// notify action at all (an unset limit is the default, not zero).
func (c *Config) notifyProhibited() bool {
	if c == nil {
		return false
	}
	v, ok := c.Raw["sieve_notify_max_notifications"]
	n, err := parseSize(v)
	return ok && err == nil && n == 0
}
