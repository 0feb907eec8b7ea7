package sieve

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"roost/internal/message"
)

func moreExtSpecs() []*spec {
	return []*spec{
		{name: "vacation", ext: "vacation", tags: map[string]tagDef{
			"days": {param: aNumber, group: "period"}, "seconds": {param: aNumber, group: "period", ext: "vacation-seconds"},
			"subject": {param: aString}, "from": {param: aString}, "addresses": {param: aStringList},
			"mime": {}, "handle": {param: aString},
		}, pos: []posDef{{aString, "reason"}}, check: checkVacation, run: runVacation},
		{name: "include", ext: "include", tags: map[string]tagDef{
			"personal": {group: "location"}, "global": {group: "location"}, "once": {}, "optional": {},
		}, pos: []posDef{{aString, "script-name"}}, check: checkInclude, run: runInclude},
		{name: "return", ext: "include", run: func(*runner, *node) error { return flowReturn{} }},
		{name: "global", ext: "include", pos: []posDef{{aStringList, "value"}}, check: checkGlobal, run: runGlobal},
		{name: "date", ext: "date", test: true, tags: addTags(map[string]tagDef{
			"zone": {param: aString, group: "zone"}, "originalzone": {group: "zone"},
		}, "comparator", "match", "index"), pos: []posDef{{aString, "header name"}, {aString, "date part"}, {aStringList, "key list"}},
			check: checkDate, eval: evalDate},
		{name: "currentdate", ext: "date", test: true, tags: addTags(map[string]tagDef{"zone": {param: aString}}, "comparator", "match"),
			pos: []posDef{{aString, "date part"}, {aStringList, "key list"}}, check: checkDate, eval: evalDate},
		{name: "addheader", ext: "editheader", tags: map[string]tagDef{"last": {}},
			pos: []posDef{{aString, "field name"}, {aString, "value"}}, check: checkAddheader, run: runAddheader},
		{name: "deleteheader", ext: "editheader", tags: addTags(map[string]tagDef{
			"index": {param: aNumber}, "last": {},
		}, "comparator", "match"), pos: []posDef{{aString, "field name"}, {aStringList, "value patterns"}}, optional: 1,
			check: checkDeleteheader, run: runDeleteheader},
		{name: "mailboxexists", ext: "mailbox", test: true, pos: []posDef{{aStringList, "mailbox-names"}}, eval: evalMailboxExists},
		{name: "specialuse_exists", ext: "special-use", test: true, pos: []posDef{{aStringList, "mailbox"}, {aStringList, "special-use-flags"}},
			optional: 1, check: checkSpecialUseExists, eval: evalSpecialUseExists},
		{name: "environment", ext: "environment", test: true, tags: addTags(nil, "comparator", "match"),
			pos: []posDef{{aString, "name"}, {aStringList, "key-list"}}, eval: evalEnvironment},
		{name: "duplicate", ext: "duplicate", test: true, tags: map[string]tagDef{
			"handle": {param: aString}, "header": {param: aString, group: "id"}, "uniqueid": {param: aString, group: "id"},
			"seconds": {param: aNumber}, "last": {},
		}, eval: evalDuplicate},
		{name: "ihave", ext: "ihave", test: true, pos: []posDef{{aStringList, "capabilities"}}, check: checkIhave, eval: evalIhave},
		{name: "error", ext: "ihave", pos: []posDef{{aString, "message"}}, run: func(r *runner, n *node) error {
			return r.errorf(n, "%s", r.pstr(n, 0))
		}},
		{name: "foreverypart", ext: "foreverypart", tags: map[string]tagDef{"name": {param: aString}}, block: true, run: runForeverypart},
		{name: "break", ext: "foreverypart", tags: map[string]tagDef{"name": {param: aString}}, check: checkBreak, run: runBreak},
		{name: "extracttext", ext: "extracttext", tags: map[string]tagDef{
			"lower": {group: "case"}, "upper": {group: "case"}, "lowerfirst": {group: "first"}, "upperfirst": {group: "first"},
			"quotewildcard": {}, "quoteregex": {ext: "regex"}, "length": {}, "encodeurl": {ext: "enotify"}, "first": {param: aNumber},
		}, pos: []posDef{{aString, "varname"}}, check: checkExtracttext, run: runExtracttext},
		{name: "notify", ext: "enotify", tags: map[string]tagDef{
			"from": {param: aString}, "importance": {param: aString}, "options": {param: aStringList}, "message": {param: aString},
		}, pos: []posDef{{aString, "method"}}, check: checkNotify, run: runNotify},
		{name: "debug_log", ext: "vnd.dovecot.debug", pos: []posDef{{aString, "message"}}, run: func(r *runner, n *node) error {
			r.res.Debug = append(r.res.Debug, r.pstr(n, 0))
			return nil
		}},
		{name: "valid_notify_method", ext: "enotify", test: true, pos: []posDef{{aStringList, "notification-uris"}}, eval: evalValidNotify},
		{name: "notify_method_capability", ext: "enotify", test: true, tags: addTags(nil, "comparator", "match"),
			pos: []posDef{{aString, "notification-uri"}, {aString, "notification-capability"}, {aStringList, "key-list"}}, eval: evalNotifyCap},
		{name: "spamtest", ext: "spamtest", test: true, tags: addTags(map[string]tagDef{"percent": {ext: "spamtestplus"}}, "comparator", "match"),
			pos: []posDef{{aString, "value"}}, eval: evalSpamtest},
		{name: "virustest", ext: "virustest", test: true, tags: addTags(nil, "comparator", "match"),
			pos: []posDef{{aString, "value"}}, eval: evalSpamtest},
	}
}

func checkVacation(v *validator, n *node) {
	if a, ok := n.tags["from"]; ok && !strings.Contains(a.Strings[0], "${") {
		if r := addressReason(a.Strings[0]); r != "" {
			v.errorf(a.Pos, "specified :from address '%s' is invalid for vacation action: %s", a.Strings[0], r)
		} else if _, ok := normalizeAddress(a.Strings[0]); !ok {
			v.errorf(a.Pos, "specified :from address '%s' is invalid for vacation action", a.Strings[0])
		}
	}
	if a, ok := n.tags["addresses"]; ok {
		for _, s := range a.Strings {
			if strings.Contains(s, "${") {
				continue
			}
			if _, ok := normalizeAddress(s); !ok {
				v.errorf(a.Pos, "specified :addresses item '%s' is invalid for vacation action", s)
			}
		}
	}
}

func runVacation(r *runner, n *node) error {
	v := &VacationReply{Reason: r.pstr(n, 0), MIME: n.has("mime")}
	v.Seconds = uint64(r.cfg.VacationDefaultPeriod / time.Second)
	if a, ok := n.tags["days"]; ok {
		v.Seconds = a.Number * 86400
	}
	if a, ok := n.tags["seconds"]; ok {
		v.Seconds = a.Number
	}
	minP, maxP := uint64(r.cfg.VacationMinPeriod/time.Second), uint64(r.cfg.VacationMaxPeriod/time.Second)
	if v.Seconds < minP && (v.Seconds != 0 || !n.has("seconds")) {
		v.Seconds = minP
	}
	if maxP > 0 && v.Seconds > maxP {
		v.Seconds = maxP
	}
	v.Subject, _ = r.tstr(n, "subject")
	v.From, _ = r.tstr(n, "from")
	if a, ok := n.tags["addresses"]; ok {
		v.Addresses = r.strs(a)
	}
	if h, ok := r.tstr(n, "handle"); ok {
		v.Handle = h
	} else {
		sub, from := v.Subject, v.From
		if !n.has("subject") {
			sub = "<default-subject>"
		}
		if !n.has("from") {
			from = "<default-from>"
		}
		mime := "<NO-MIME>"
		if v.MIME {
			mime = "<MIME>"
		}
		v.Handle = v.Reason + sub + from + mime
	}
	return r.add(n, &Action{Kind: ActVacation, Vacation: v})
}

// parseDuration reads Dovecot time settings ("1d", "30s", "2 weeks").
func parseDuration(s string) (uint64, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse duration %q: %w", s, err)
	}
	unit := strings.TrimSpace(s[i:])
	mult := map[string]uint64{"": 1, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "mins": 60,
		"minute": 60, "minutes": 60, "h": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400, "days": 86400,
		"w": 604800, "week": 604800, "weeks": 604800}
	m, ok := mult[unit]
	if !ok {
		return 0, fmt.Errorf("parse duration %q: unknown unit", s)
	}
	return n * m, nil
}

func (r *runner) enabledExts() []string {
	return r.cfg.Extensions
}

// ExtensionList applies a sieve_extensions value ("+editheader -regex"
// or a plain list) to the defaults.
func ExtensionList(v string) []string {
	fields := strings.Fields(v)
	out := append([]string(nil), DefaultExtensions...)
	plain := true
	for _, f := range fields {
		if strings.HasPrefix(f, "+") || strings.HasPrefix(f, "-") {
			plain = false
		}
	}
	if plain && len(fields) > 0 {
		return fields
	}
	for _, f := range fields {
		name := strings.TrimLeft(f, "+-")
		if f[0] == '-' {
			var keep []string
			for _, e := range out {
				if e != name {
					keep = append(keep, e)
				}
			}
			out = keep
		} else {
			out = append(out, name)
		}
	}
	return out
}

func checkGlobal(v *validator, n *node) {
	for _, s := range n.pos[0].Strings {
		if !validIdentifier(s) {
			v.errorf(n.pos[0].Pos, "invalid variable name '%s'", s)
			continue
		}
		ls := strings.ToLower(s)
		if v.vars.local[ls] && !v.vars.global[ls] {
			v.errorf(n.pos[0].Pos, "declaration of new global variable '%s' conflicts with earlier local use", s)
			continue
		}
		if v.vars.global == nil {
			v.vars.global = map[string]bool{}
		}
		v.vars.global[ls] = true
	}
	if !v.prog.required["variables"] {
		v.errorf(n.Pos, "global command requires that variables extension is active")
	}
}

func runGlobal(r *runner, n *node) error {
	for _, s := range n.pos[0].Strings {
		r.vars["\x00global:"+strings.ToLower(s)] = ""
	}
	return nil
}

var dateParts = map[string]bool{"year": true, "month": true, "day": true, "date": true, "julian": true, "hour": true,
	"minute": true, "second": true, "time": true, "iso8601": true, "std11": true, "zone": true, "weekday": true}

func checkDate(v *validator, n *node) {
	checkIndexTags(v, n)
	idx := 0
	if n.spec.name == "date" {
		idx = 1
	}
	p := n.pos[idx].Strings[0]
	if !strings.Contains(p, "${") && !dateParts[strings.ToLower(p)] {
		v.errorf(n.pos[idx].Pos, "specified date part '%s' is not known", p)
	}
	if z, ok := n.tagStr("zone"); ok && !strings.Contains(z, "${") {
		if _, ok := parseZone(z); !ok {
			v.errorf(n.tags["zone"].Pos, "specified :zone argument '%s' is not a valid timezone", z)
		}
	}
}

func parseZone(z string) (*time.Location, bool) {
	if len(z) != 5 || (z[0] != '+' && z[0] != '-') {
		return nil, false
	}
	h, err1 := strconv.Atoi(z[1:3])
	m, err2 := strconv.Atoi(z[3:5])
	if err1 != nil || err2 != nil || h > 23 || m > 59 {
		return nil, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return time.FixedZone(z, off), true
}

func evalDate(r *runner, n *node) (bool, error) {
	var dates []time.Time
	partIdx, keys := 0, n.pos[1]
	if n.spec.name == "date" {
		partIdx, keys = 1, n.pos[2]
		vals := r.indexed(n, r.headerValues(r.hdr, []string{r.pstr(n, 0)}))
		if len(vals) > 0 && !n.has("index") {
			vals = vals[:1]
		}
		for _, v := range vals {
			if strings.EqualFold(r.pstr(n, 0), "received") {
				if i := strings.LastIndexByte(v, ';'); i >= 0 {
					v = v[i+1:]
				}
			}
			if t, ok := message.ParseDate([]byte(v)); ok {
				dates = append(dates, t)
			}
		}
	} else {
		dates = []time.Time{r.env.now()}
	}
	part := strings.ToLower(r.pstr(n, partIdx))
	var values []string
	for _, t := range dates {
		if z, ok := r.tstr(n, "zone"); ok {
			if loc, ok := parseZone(z); ok {
				t = t.In(loc)
			}
		} else if !n.has("originalzone") && n.spec.name == "date" {
			t = t.In(r.localZone())
		} else if n.spec.name == "currentdate" {
			t = t.In(r.localZone())
		}
		values = append(values, datePart(t, part))
	}
	return r.matchKeys(n, values, keys)
}

func (r *runner) localZone() *time.Location {
	if v, ok := r.config("sieve_test_timezone"); ok {
		if loc, ok := parseZone(v); ok {
			return loc
		}
	}
	return time.Local
}

func datePart(t time.Time, part string) string {
	switch part {
	case "year":
		return fmt.Sprintf("%04d", t.Year())
	case "month":
		return fmt.Sprintf("%02d", int(t.Month()))
	case "day":
		return fmt.Sprintf("%02d", t.Day())
	case "date":
		return t.Format("2006-01-02")
	case "julian":
		y, m, d := t.Date()
		mjd := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(time.Date(1858, 11, 17, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour)
		return strconv.Itoa(int(mjd))
	case "hour":
		return fmt.Sprintf("%02d", t.Hour())
	case "minute":
		return fmt.Sprintf("%02d", t.Minute())
	case "second":
		return fmt.Sprintf("%02d", t.Second())
	case "time":
		return t.Format("15:04:05")
	case "iso8601":
		return t.Format("2006-01-02T15:04:05-07:00")
	case "std11":
		return t.Format("Mon, 02 Jan 2006 15:04:05 -0700")
	case "zone":
		return t.Format("-0700")
	case "weekday":
		return strconv.Itoa(int(t.Weekday()))
	}
	return ""
}

func evalMailboxExists(r *runner, n *node) (bool, error) {
	for _, name := range r.strs(n.pos[0]) {
		if r.env.Mailboxes == nil {
			return false, nil
		}
		ok, err := r.env.Mailboxes.MailboxExists(r.ctx, name)
		if err != nil {
			return false, r.errorf(n, "mailboxexists: %v", err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

func evalSpecialUseExists(r *runner, n *node) (bool, error) {
	box, uses := "", r.strs(n.pos[0])
	if len(n.pos) == 2 {
		boxes := r.strs(n.pos[0])
		box, uses = boxes[0], r.strs(n.pos[1])
	}
	if r.env.Mailboxes == nil {
		return false, nil
	}
	ok, err := r.env.Mailboxes.SpecialUseExists(r.ctx, box, uses)
	if err != nil {
		return false, r.errorf(n, "specialuse_exists: %v", err)
	}
	return ok, nil
}

// environment returns an environment item (RFC 5183 section 4.1).
func (r *runner) environment(name string) (string, bool) {
	if v, ok := r.env.Environment[name]; ok {
		return v, true
	}
	switch name {
	case "domain":
		if i := strings.LastIndexByte(r.user(), '@'); i >= 0 {
			return r.user()[i+1:], true
		}
		return "", true
	case "host":
		return "localhost", true
	case "location":
		return "MDA", true
	case "name":
		return "Pigeonhole Sieve", true
	case "phase":
		return "during", true
	case "version":
		return "0.5", true
	}
	if r.prog != nil && r.prog.required["vnd.dovecot.environment"] {
		return r.vndEnvironment(name)
	}
	return "", false
}

func (r *runner) user() string {
	if r.env.User != "" {
		return r.env.User
	}
	return r.env.Envelope.To
}

func evalEnvironment(r *runner, n *node) (bool, error) {
	v, ok := r.environment(strings.ToLower(r.pstr(n, 0)))
	if !ok {
		return false, nil
	}
	return r.matchKeys(n, []string{v}, n.pos[1])
}

func evalDuplicate(r *runner, n *node) (bool, error) {
	var id string
	switch {
	case n.has("uniqueid"):
		id, _ = r.tstr(n, "uniqueid")
	case n.has("header"):
		h, _ := r.tstr(n, "header")
		vals := r.headerValues(r.hdr, []string{h})
		if len(vals) == 0 {
			return false, nil
		}
		id = vals[0]
	default:
		vals := r.headerValues(r.hdr, []string{"message-id"})
		if len(vals) == 0 {
			return false, nil
		}
		id = vals[0]
	}
	handle, _ := r.tstr(n, "handle")
	sum := sha256.Sum256([]byte("duplicate\x00" + handle + "\x00" + id))
	key := hex.EncodeToString(sum[:])
	secs := uint64(r.cfg.DuplicateDefaultPeriod / time.Second)
	if a, ok := n.tags["seconds"]; ok {
		secs = a.Number
	}
	if max := uint64(r.cfg.DuplicateMaxPeriod / time.Second); secs > max {
		secs = max
	}
	for _, d := range r.dupIDs {
		if d.id == key {
			return true, nil
		}
	}
	seen := false
	if r.env.Tracker != nil {
		var err error
		if seen, err = r.env.Tracker.Seen(r.ctx, key, r.env.now()); err != nil {
			return false, r.errorf(n, "duplicate: %v", err)
		}
	}
	if !seen || n.has("last") {
		r.dupIDs = append(r.dupIDs, dupMark{id: key, seconds: secs})
	}
	return seen, nil
}

// checkIhave implements RFC 5463 at compile time as Pigeonhole does: when
// every capability is known and none changes how scripts are read
// (variables, encoded-character), the extensions are loaded for the rest
// of the script; otherwise the test is constant false and the block it
// guards is not validated.
func checkIhave(v *validator, n *node) {
	n.ihave = -1
	caps := n.pos[0].Strings
	for _, c := range caps {
		if !v.known(c) || !v.enabled[c] {
			return
		}
	}
	for _, c := range caps {
		if c == "variables" || c == "encoded-character" {
			return
		}
	}
	for _, c := range caps {
		if v.enabled[c] {
			v.prog.required[c] = true
		}
	}
	v.impliedExtensions()
	n.ihave = 1
}

func evalIhave(r *runner, n *node) (bool, error) {
	if n.ihave < 0 {
		return false, nil
	}
	for _, c := range n.pos[0].Strings {
		if !n.prog.enabled[c] {
			return false, nil
		}
	}
	return true, nil
}
