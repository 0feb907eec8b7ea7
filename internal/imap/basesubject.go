package imap

import (
	"strings"
	"unicode/utf8"

	"roost/internal/message"
)

// BaseSubject extracts the base subject of a Subject header value (RFC
// 5256 section 2.1) in i;unicode-casemap form, which is what SORT SUBJECT
// compares and THREAD groups by. value is the raw (possibly folded,
// possibly RFC 2047 encoded) field value. replyOrForward reports whether a
// reply or forward marker was removed ("Re:", "Fwd:", "(fwd)", "[fwd: …]"),
// which THREAD=REFERENCES step 5 needs.
//
// The steps follow Dovecot 2.3's imap_get_base_subject_cased where it is
// more exact than the RFC: the text is decoded and casemapped first (so
// the markers are matched in upper case, and compatibility spaces such as
// U+00A0 count as white space), white space is packed to single spaces,
// and a leading blob is removed whenever anything at all follows it.
func BaseSubject(value string) (base string, replyOrForward bool) {
	s := decodeSubject(value)
	start, end := 0, len(s)
	for {
		// RFC 5256 section 2.1 step 2: trailers.
		var fwd bool
		end, fwd = trimSubjectTrailers(s, start, end)
		replyOrForward = replyOrForward || fwd
		for found := true; found; { // steps 3 to 5
			var reply bool
			start, found, reply = trimSubjectLeader(s[:end], start)
			replyOrForward = replyOrForward || reply
			if p, ok := skipSubjectBlob(s[:end], start); ok && p < end {
				start, found = p, true
			}
		}
		// Step 6: "[fwd:" … "]" around the whole remaining text.
		if !strings.HasPrefix(s[start:end], "[FWD:") || end == 0 || s[end-1] != ']' {
			break
		}
		start, end = start+5, end-1
		replyOrForward = true
	}
	if start > end {
		return "", replyOrForward
	}
	return s[start:end], replyOrForward
}

// decodeSubject decodes encoded-words, casemaps, and packs every run of
// white space into one space (step 1).
func decodeSubject(value string) string {
	decoded := message.DecodedHeaderValue([]byte(perByteValidUTF8(value)))
	mapped := AppendCaseMap(nil, decoded)
	out := mapped[:0]
	lastSpace := false
	for _, c := range mapped {
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			if !lastSpace {
				out = append(out, ' ')
			}
			lastSpace = true
			continue
		}
		out = append(out, c)
		lastSpace = false
	}
	return string(out)
}

// perByteValidUTF8 replaces every byte that is not part of valid UTF-8
// with U+FFFD, one replacement per byte as Dovecot does (rather than one
// per run).
func perByteValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

// trimSubjectTrailers removes trailing "(FWD)" and spaces from s[start:end]
// and reports whether a "(FWD)" went.
func trimSubjectTrailers(s string, start, end int) (int, bool) {
	fwd := false
	for end > start {
		switch {
		case s[end-1] == ' ':
			end--
		case end >= 5 && s[end-5:end] == "(FWD)":
			end -= 5
			fwd = true
		default:
			return end, fwd
		}
	}
	return end, fwd
}

// trimSubjectLeader removes one subj-leader at s[start:]: a single space,
// or *subj-blob subj-refwd. found reports any removal, reply a removed
// subj-refwd.
func trimSubjectLeader(s string, start int) (next int, found, reply bool) {
	if start < len(s) && s[start] == ' ' {
		start++
		found = true
	}
	p := start
	for p < len(s) && s[p] == '[' {
		q, ok := skipSubjectBlob(s, p)
		if !ok {
			return start, found, false
		}
		p = q
	}
	switch rest := s[p:]; {
	case strings.HasPrefix(rest, "RE"):
		p += 2
	case strings.HasPrefix(rest, "FWD"):
		p += 3
	case strings.HasPrefix(rest, "FW"):
		p += 2
	default:
		return start, found, false
	}
	if p < len(s) && s[p] == ' ' {
		p++
	}
	if p < len(s) && s[p] == '[' {
		q, ok := skipSubjectBlob(s, p)
		if !ok {
			return start, found, false
		}
		p = q
	}
	if p >= len(s) || s[p] != ':' {
		return start, found, false
	}
	return p + 1, true, true
}

// skipSubjectBlob skips a subj-blob ("[" *BLOBCHAR "]" and one space) at
// s[p:], reporting false when there is none.
func skipSubjectBlob(s string, p int) (int, bool) {
	if p >= len(s) || s[p] != '[' {
		return p, false
	}
	i := p + 1
	for i < len(s) && s[i] != '[' && s[i] != ']' {
		i++
	}
	if i >= len(s) || s[i] != ']' {
		return p, false
	}
	i++
	if i < len(s) && s[i] == ' ' {
		i++
	}
	return i, true
}
