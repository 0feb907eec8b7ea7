package message

import (
	"bytes"
	"sort"
	"strconv"
	"strings"
)

// Param is one MIME parameter (RFC 2045 section 5.1). RFC 2231 continuations
// (key*0, key*1*, …) are merged as Dovecot merges them: the key keeps a
// trailing "*" when any section was extended, and the value keeps its
// charset'language' prefix undecoded.
type Param struct {
	Name, Value string
}

type rfc2231Section struct {
	key      string
	value    string
	idx      int
	extended bool
}

// parseParams reads "; key=value" pairs until the end of input. broken reports
// whether anything had to be skipped.
func (p *rfcParser) parseParams() (params []Param, broken bool) {
	var sections []rfc2231Section
	for {
		key, value, ret := p.parseContentParam()
		if ret == 0 {
			break
		}
		if ret < 0 {
			broken = true
			if p.pos >= len(p.data) {
				break
			}
			p.pos++
			continue
		}
		if sec, ok := splitRFC2231Key(key, value); ok {
			sections = append(sections, sec)
			continue
		}
		params = append(params, Param{Name: cString(key), Value: cString(value)})
	}
	if len(sections) == 0 {
		return params, broken
	}
	return append(params, mergeRFC2231(sections)...), broken
}

// splitRFC2231Key recognises key*, key*N and key*N*.
func splitRFC2231Key(key, value []byte) (rfc2231Section, bool) {
	star := bytes.IndexByte(key, '*')
	if star < 0 {
		return rfc2231Section{}, false
	}
	sec := rfc2231Section{key: cString(key[:star]), value: cString(value)}
	i := star
	if i+1 < len(key) {
		i++
		for ; i < len(key) && key[i] >= '0' && key[i] <= '9'; i++ {
			sec.idx = sec.idx*10 + int(key[i]-'0')
			if sec.idx > 1<<20 {
				sec.idx = 1 << 20
			}
		}
	}
	if i < len(key) && key[i] == '*' {
		sec.extended = true
		i++
	}
	if i != len(key) {
		return rfc2231Section{}, false
	}
	return sec, true
}

func mergeRFC2231(secs []rfc2231Section) []Param {
	sort.SliceStable(secs, func(a, b int) bool {
		if secs[a].key != secs[b].key {
			return secs[a].key < secs[b].key
		}
		return secs[a].idx < secs[b].idx
	})
	var out []Param
	for i := 0; i < len(secs); {
		ok, haveExtended := true, false
		j, next := i, 0
		for ; j < len(secs) && strings.EqualFold(secs[i].key, secs[j].key); j++ {
			if secs[j].idx != next {
				ok = false
			}
			if secs[j].extended {
				haveExtended = true
			}
			next++
		}
		if !ok {
			for k := i; k < j; k++ {
				name := secs[k].key + "*" + strconv.Itoa(secs[k].idx)
				if secs[k].extended {
					name += "*"
				}
				out = append(out, Param{Name: name, Value: secs[k].value})
			}
			i = j
			continue
		}
		var sb strings.Builder
		if !secs[i].extended && haveExtended {
			sb.WriteString("''")
		}
		for k := i; k < j; k++ {
			if !secs[k].extended && haveExtended {
				sb.WriteString(strings.ReplaceAll(secs[k].value, "%", "%25"))
			} else {
				sb.WriteString(secs[k].value)
			}
		}
		name := secs[i].key
		if haveExtended {
			name += "*"
		}
		out = append(out, Param{Name: name, Value: sb.String()})
		i = j
	}
	return out
}

// cString returns b up to its first NUL, as a C string would be read.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
