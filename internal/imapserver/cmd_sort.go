package imapserver

import (
	"context"
	"strconv"
	"time"

	"roost/internal/imap"
	"roost/internal/imapwire"
	"roost/internal/storage"
)

// cmdSort is SORT and UID SORT (RFC 5256 section 3, SORT=DISPLAY RFC
// 5957) with ESORT's RETURN (...) (RFC 5267 section 3). Sort keys come
// from the field cache's header block, never from the message files.
func cmdSort(ctx context.Context, c *conn, cmd *command) error {
	d := cmd.dec
	if !d.ExpectSP() {
		return d.Err()
	}
	var ret imap.SearchReturn
	returned, err := parseSortReturn(d, cmd, &ret)
	if err != nil {
		return err
	}
	var atoms []string
	if !d.ExpectList(func() bool {
		var a string
		if !d.ExpectAtom(&a) {
			return false
		}
		atoms = append(atoms, a)
		return true
	}) || !d.ExpectSP() {
		return d.Err()
	}
	criteria, err := imap.ParseSortCriteria(atoms)
	if err != nil {
		return &imapwire.SyntaxError{Msg: "Invalid sort criteria"}
	}
	prog, err := parseSearchCharset(d, cmd.fullName(), c.enabled[extUTF8Accept])
	if err != nil {
		return err
	}
	if !d.ExpectCRLF() {
		return d.Err()
	}
	if err := c.checkUpdateTag(cmd, ret); err != nil {
		return err
	}
	nums, uids, err := c.sortResult(ctx, prog, criteria)
	if err != nil {
		return err
	}
	if cmd.uid {
		nums = uids
	}
	if returned {
		if ret.Save {
			c.sel.saved = savedUIDs(ret, uids)
		}
		c.writeESearch(cmd, ret, nums, false, 0)
		c.addSearchUpdate(cmd, ret, prog, uids)
		return nil
	}
	line := make([]byte, 0, 8+len(nums)*7)
	line = append(line, "* SORT"...)
	for _, n := range nums {
		line = strconv.AppendUint(append(line, ' '), uint64(n), 10)
	}
	c.enc.Raw(append(line, "\r\n"...))
	return nil
}

// parseSortReturn reads an optional "RETURN (...) SP" before the sort
// criteria (ESORT).
func parseSortReturn(d *imapwire.Decoder, cmd *command, ret *imap.SearchReturn) (bool, error) {
	var a string
	if !d.Atom(&a) {
		return false, d.Err()
	}
	if !equalFold(a, "RETURN") {
		return false, &imapwire.SyntaxError{Msg: "Invalid sort criteria"}
	}
	p := &searchParser{d: d, cmd: cmd.fullName(), ret: ret}
	return true, p.returnOptions()
}

// savedUIDs is the $ of a sorted result (uids in sorted order), in
// ascending UID order.
func savedUIDs(ret imap.SearchReturn, uids []uint32) []uint32 {
	saved := imap.SavedResult(ret, uids)
	out := append([]uint32(nil), saved...)
	sortUint32(out)
	return out
}

// sortResult searches and sorts: the sequence numbers and UIDs of the
// matching messages in the order of criteria. Criteria of numeric keys
// only (ARRIVAL, DATE, SIZE) keep 32 bytes a message (imap.SortNumbers),
// one string key 24 (imap.SortString), not all the sort data.
func (c *conn) sortResult(ctx context.Context, prog *searchKey, criteria []imap.SortCriterion) (seqs, uids []uint32, err error) {
	fields := imap.FieldsFor(criteria)
	var order []int32
	var at func(k int32) (seq, uid uint32)
	if imap.NumericOnly(criteria) {
		var nums []imap.SortNumbers
		err = c.eachSortData(ctx, prog, fields, func(n int, sd *imap.SortData) {
			if nums == nil {
				nums = make([]imap.SortNumbers, 0, n)
			}
			nums = append(nums, sd.Numbers())
		})
		order = imap.SortOrderNumbers(nums, criteria)
		at = func(k int32) (uint32, uint32) { return nums[k].Seq, nums[k].UID }
	} else if imap.StringOnly(criteria) {
		var strs []imap.SortString
		key := criteria[0].Key
		err = c.eachSortData(ctx, prog, fields, func(n int, sd *imap.SortData) {
			if strs == nil {
				strs = make([]imap.SortString, 0, n)
			}
			strs = append(strs, imap.SortString{Seq: sd.Seq, UID: sd.UID, Key: sd.KeyString(key)})
		})
		order = imap.SortOrderStrings(strs, criteria[0].Reverse)
		at = func(k int32) (uint32, uint32) { return strs[k].Seq, strs[k].UID }
	} else {
		var data []imap.SortData
		data, err = c.sortData(ctx, prog, fields)
		order = imap.SortOrder(data, criteria)
		at = func(k int32) (uint32, uint32) { return data[k].Seq, data[k].UID }
	}
	if err != nil {
		return nil, nil, err
	}
	seqs, uids = make([]uint32, len(order)), make([]uint32, len(order))
	for i, k := range order {
		seqs[i], uids[i] = at(k)
	}
	return seqs, uids, nil
}

// sortData searches and returns the sort data of the matching messages.
func (c *conn) sortData(ctx context.Context, prog *searchKey, fields imap.SortFields) ([]imap.SortData, error) {
	var data []imap.SortData
	err := c.eachSortData(ctx, prog, fields, func(n int, sd *imap.SortData) {
		if data == nil {
			data = make([]imap.SortData, 0, n)
		}
		data = append(data, *sd)
	})
	return data, err
}

// eachSortData searches and calls add with the sort data of each matching
// message in turn (n is the number of matches): from its cached sort keys
// (FieldSortKeys), or from its cached header block when it has none (a
// cache written before them).
func (c *conn) eachSortData(ctx context.Context, prog *searchKey, fields imap.SortFields, add func(n int, sd *imap.SortData)) error {
	s, hits, err := c.runSearch(ctx, prog)
	if err != nil {
		return err
	}
	uidAt := func(k int) uint32 { return s.uidAt(hits[k]) }
	var keys, hdrs *headerAhead
	if fields != 0 {
		keys = newFieldAhead(c.sel.mb, FieldSortKeys, len(hits), uidAt)
	}
	at := datesSizes(s, hits)
	for k, i := range hits {
		uid := s.uidAt(i)
		arrival, size := at(k)
		sd, ok := imap.DecodeSortKeys(keys.block(ctx, k), arrival, size, fields)
		if !ok {
			if hdrs == nil {
				hdrs = newFieldAhead(c.sel.mb, FieldHeader, len(hits), uidAt)
			}
			hdr := hdrs.block(ctx, k)
			if hdr == nil {
				md := &msgData{mb: c.sel.mb, uid: uid}
				hdr, err = md.field(ctx, FieldHeader)
				md.close()
			}
			if err != nil {
				if storage.KindOf(err) == storage.KindExpunged {
					continue
				}
				return err
			}
			sd = imap.NewSortData(hdr, arrival, size, fields)
		}
		sd.Seq, sd.UID = uint32(i+1), uid
		add(len(hits), &sd)
	}
	return nil
}

// dateSizeLister is implemented by a mailbox that gives the INTERNALDATE
// and RFC822.SIZE of many messages at once (maildir: under one lock, and
// without building a storage.Message each), for SORT.
type dateSizeLister interface {
	// DatesSizes sets dates[k] (Unix seconds) and sizes[k] to those of
	// message index idx[k].
	DatesSizes(idx []int, dates, sizes []int64)
}

// datesSizes returns the INTERNALDATE and RFC822.SIZE of hits[k] by k.
func datesSizes(s *searcher, hits []int) func(k int) (time.Time, int64) {
	l, ok := s.mb.(dateSizeLister)
	if !ok {
		return func(k int) (time.Time, int64) {
			m := s.msgAt(hits[k])
			return m.InternalDate, m.Size
		}
	}
	dates, sizes := make([]int64, len(hits)), make([]int64, len(hits))
	l.DatesSizes(hits, dates, sizes)
	return func(k int) (time.Time, int64) { return time.Unix(dates[k], 0), sizes[k] }
}

// cmdThread is THREAD and UID THREAD (RFC 5256 section 4) with
// ORDEREDSUBJECT, REFERENCES and Dovecot's REFS.
func cmdThread(ctx context.Context, c *conn, cmd *command) error {
	d := cmd.dec
	var name string
	if !d.ExpectSP() || !d.ExpectAtom(&name) || !d.ExpectSP() {
		return d.Err()
	}
	alg, ok := imap.ParseThreadAlgorithm(name)
	if !ok {
		return &imapwire.SyntaxError{Msg: "Unknown thread algorithm"}
	}
	prog, err := parseSearchCharset(d, cmd.fullName(), c.enabled[extUTF8Accept])
	if err != nil {
		return err
	}
	if !d.ExpectCRLF() {
		return d.Err()
	}
	data, err := c.sortData(ctx, prog, imap.FieldsThread)
	if err != nil {
		return err
	}
	// Dovecot writes "* THREAD " even for an empty result.
	line := imap.AppendThreads([]byte("* THREAD "), imap.Threads(data, alg), cmd.uid)
	line = append(line, "\r\n"...)
	c.enc.Raw(line)
	return nil
}
