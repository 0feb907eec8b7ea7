package imap

import (
	"errors"
	"strconv"
	"strings"
)

// SearchReturn holds the result options of SEARCH/SORT RETURN (…) (RFC
// 4731 section 3.1, RFC 5267 section 4.4, RFC 5182). An empty RETURN ()
// means All.
type SearchReturn struct {
	Min, Max, All, Count bool
	// Save keeps the result as $ (RFC 5182); it prints nothing.
	Save bool
	// Partial, when set, returns one page of the result (RFC 5267
	// section 4.4); it cannot be combined with All.
	Partial *PartialRange
	// Update asks for ADDTO/REMOVEFROM updates as the result changes
	// (RFC 5267 section 4.3); it prints nothing itself.
	Update bool
}

// PartialRange is the 1-based First:Last of PARTIAL, First <= Last.
type PartialRange struct {
	First, Last uint32
}

// ErrBadPartial is returned by ParsePartialRange.
var ErrBadPartial = errors.New("PARTIAL range broken")

// ParsePartialRange parses the "n:m" of PARTIAL: two non-zero numbers, in
// either order (Dovecot swaps "4:2" to 2:4).
func ParsePartialRange(s string) (PartialRange, error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return PartialRange{}, ErrBadPartial
	}
	first, err1 := parseSeqNum(a)
	last, err2 := parseSeqNum(b)
	if err1 != nil || err2 != nil || first == Star || last == Star {
		return PartialRange{}, ErrBadPartial
	}
	return PartialRange{First: min(first, last), Last: max(first, last)}, nil
}

// String formats the range as "First:Last".
func (r PartialRange) String() string {
	return strconv.FormatUint(uint64(r.First), 10) + ":" + strconv.FormatUint(uint64(r.Last), 10)
}

// Page returns the part of nums (a result in its final order) that the
// range selects.
func (r PartialRange) Page(nums []uint32) []uint32 {
	if r.First == 0 || int64(r.First) > int64(len(nums)) {
		return nil
	}
	return nums[r.First-1 : min(int64(r.Last), int64(len(nums)))]
}

// AppendESearch appends the untagged ESEARCH response for a SEARCH or
// SORT result, CRLF included, as Dovecot 2.3 prints it (RFC 4731 section
// 3.1, RFC 5267 section 3.2 for ESORT):
//
//   - ESEARCH (TAG "a1") UID MIN 2 MAX 9 ALL 2:4,9 COUNT 4
//
// nums is the result in its final order: ascending for SEARCH, sort order
// for SORT, where MIN and MAX are the first and last message in that
// order. ALL and PARTIAL join runs of consecutive ascending numbers only
// ("7,6,5" stays as it is). MIN, MAX and ALL are left out for an empty
// result; COUNT is always there when asked for, and PARTIAL prints NIL.
func AppendESearch(dst []byte, tag string, uid bool, ret SearchReturn, nums []uint32) []byte {
	dst = append(dst, "* ESEARCH (TAG "...)
	dst = appendQuoted(dst, tag)
	dst = append(dst, ')')
	if uid {
		dst = append(dst, " UID"...)
	}
	if len(nums) > 0 {
		if ret.Min {
			dst = strconv.AppendUint(append(dst, " MIN "...), uint64(nums[0]), 10)
		}
		if ret.Max {
			dst = strconv.AppendUint(append(dst, " MAX "...), uint64(nums[len(nums)-1]), 10)
		}
		if ret.All {
			dst = append(append(dst, " ALL "...), FormatNums(nums)...)
		}
	}
	if ret.Partial != nil {
		dst = append(append(dst, " PARTIAL ("...), ret.Partial.String()...)
		if page := ret.Partial.Page(nums); len(page) > 0 {
			dst = append(append(dst, ' '), FormatNums(page)...)
		} else {
			dst = append(dst, " NIL"...)
		}
		dst = append(dst, ')')
	}
	if ret.Count {
		dst = strconv.AppendInt(append(dst, " COUNT "...), int64(len(nums)), 10)
	}
	return append(dst, "\r\n"...)
}

// SavedResult is what RETURN (SAVE …) keeps as $ (RFC 5182 section 2.4):
// with PARTIAL the page; with MIN and/or MAX but neither ALL nor COUNT,
// only those messages; otherwise the whole result. nums is the result in
// its final order; the caller keeps $ in ascending order, as it is a set.
func SavedResult(ret SearchReturn, nums []uint32) []uint32 {
	if ret.Partial != nil { // as Dovecot: $ is the page
		return ret.Partial.Page(nums)
	}
	if len(nums) == 0 || !(ret.Min || ret.Max) || ret.All || ret.Count {
		return nums
	}
	var out []uint32
	lo, hi := nums[0], nums[len(nums)-1]
	if ret.Min {
		out = append(out, lo)
	}
	if ret.Max && (!ret.Min || hi != lo) {
		out = append(out, hi)
	}
	return out
}
