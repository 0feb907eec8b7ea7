package imap

import (
	"errors"
	"sort"
	"strconv"
	"strings"
)

// Star is the value of `*` in a sequence set: the largest number in use.
const Star uint32 = 0

// SeqRange is one element of a sequence set: Start:Stop, or a single
// number when Start == Stop. Either end may be Star.
type SeqRange struct {
	Start, Stop uint32
}

// SeqSet is a sequence set (RFC 3501 section 9, sequence-set): message
// sequence numbers or UIDs, depending on the command.
type SeqSet []SeqRange

// ErrBadSeqSet is returned by ParseSeqSet for malformed input.
var ErrBadSeqSet = errors.New("invalid sequence set")

// ParseSeqSet parses a sequence set such as "1,3:5,7:*".
func ParseSeqSet(s string) (SeqSet, error) {
	if s == "" {
		return nil, ErrBadSeqSet
	}
	var set SeqSet
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		a, err := parseSeqNum(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = parseSeqNum(hi); err != nil {
				return nil, err
			}
		}
		set = append(set, SeqRange{Start: a, Stop: b})
	}
	return set, nil
}

// parseSeqNum parses seq-number: nz-number / "*".
func parseSeqNum(s string) (uint32, error) {
	if s == "*" {
		return Star, nil
	}
	if s == "" || s[0] == '0' {
		return 0, ErrBadSeqSet
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, ErrBadSeqSet
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, ErrBadSeqSet
	}
	return uint32(n), nil
}

// String formats the set in wire form.
func (s SeqSet) String() string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(seqNumString(r.Start))
		if r.Stop != r.Start {
			b.WriteByte(':')
			b.WriteString(seqNumString(r.Stop))
		}
	}
	return b.String()
}

func seqNumString(n uint32) string {
	if n == Star {
		return "*"
	}
	return strconv.FormatUint(uint64(n), 10)
}

// Bounds returns r with Star replaced by max and ends ordered (RFC 3501:
// "2:4" and "4:2" are the same range).
func (r SeqRange) Bounds(max uint32) (lo, hi uint32) {
	lo, hi = r.Start, r.Stop
	if lo == Star {
		lo = max
	}
	if hi == Star {
		hi = max
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return lo, hi
}

// Contains reports whether n is in the set, with Star standing for max.
func (s SeqSet) Contains(n, max uint32) bool {
	for _, r := range s {
		lo, hi := r.Bounds(max)
		if n >= lo && n <= hi {
			return true
		}
	}
	return false
}

// Dynamic reports whether the set uses Star.
func (s SeqSet) Dynamic() bool {
	for _, r := range s {
		if r.Start == Star || r.Stop == Star {
			return true
		}
	}
	return false
}

// SetFromNums returns the shortest set holding exactly nums (in any order,
// duplicates allowed), with consecutive numbers joined into ranges.
func SetFromNums(nums []uint32) SeqSet {
	if len(nums) == 0 {
		return nil
	}
	sorted := append([]uint32(nil), nums...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	var set SeqSet
	for _, n := range sorted {
		if k := len(set); k > 0 && (set[k-1].Stop == n || set[k-1].Stop+1 == n) {
			set[k-1].Stop = n
			continue
		}
		set = append(set, SeqRange{Start: n, Stop: n})
	}
	return set
}

// FormatNums formats nums in order, joining runs of consecutive ascending
// numbers ("1:3,7"); used for COPYUID, where order matters.
func FormatNums(nums []uint32) string {
	var b strings.Builder
	for i := 0; i < len(nums); {
		j := i
		for j+1 < len(nums) && nums[j+1] == nums[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(nums[i]), 10))
		if j > i {
			b.WriteByte(':')
			b.WriteString(strconv.FormatUint(uint64(nums[j]), 10))
		}
		i = j + 1
	}
	return b.String()
}
