package memstore

import (
	"context"
	"slices"
	"strings"

	"roost/internal/storage"
)

// Store changes flags of messages of the view that still exist, in UID
// order, and updates the view with their new state.
func (v *view) Store(ctx context.Context, uids []uint32, op storage.FlagOp, flags []string, opts storage.StoreOptions) (storage.StoreResult, error) {
	var res storage.StoreResult
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if err := v.checkWritable(); err != nil {
		return res, err
	}
	flags, err := normalizeFlags(flags)
	if err != nil {
		return res, err
	}
	v.u.mu.Lock()
	defer v.u.mu.Unlock()
	flags = v.mb.canonKeywordsLocked(flags)
	changed := false
	for _, uid := range sortedUnique(uids) {
		i := v.index(uid)
		if i < 0 || v.mb.find(uid) < 0 {
			continue
		}
		m := v.data[i]
		if opts.UnchangedSince != 0 && m.modSeq > opts.UnchangedSince {
			res.Modified = append(res.Modified, uid)
			continue
		}
		next := applyFlags(m.flags, op, flags)
		did := !slices.Equal(next, m.flags)
		if did {
			v.mb.modSeq++
			m.flags, m.modSeq = next, v.mb.modSeq
			v.mb.defineLocked(next)
			changed = true
		}
		v.msgs[i] = m.export(v.msgs[i].Recent)
		if did {
			res.Updated = append(res.Updated, v.msgs[i])
		}
	}
	v.keywords = slices.Clone(v.mb.keywords)
	if changed {
		v.mb.notifyLocked(v)
	}
	return res, nil
}

// applyFlags returns the sorted result of op on cur.
func applyFlags(cur []string, op storage.FlagOp, flags []string) []string {
	var out []string
	switch op {
	case storage.FlagsSet:
		out = slices.Clone(flags)
	case storage.FlagsAdd:
		out = slices.Clone(cur)
		for _, f := range flags {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	case storage.FlagsRemove:
		for _, f := range cur {
			if !slices.Contains(flags, f) {
				out = append(out, f)
			}
		}
	}
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// canonKeywordsLocked spells keywords as the mailbox first defined them
// (keywords match case-insensitively).
func (mb *mailbox) canonKeywordsLocked(flags []string) []string {
	out := slices.Clone(flags)
	for i, f := range out {
		if strings.HasPrefix(f, `\`) {
			continue
		}
		for _, k := range mb.keywords {
			if strings.EqualFold(k, f) {
				out[i] = k
				break
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Expunge removes uids (nil: the view's messages flagged \Deleted). The
// view keeps them until its next Sync.
func (v *view) Expunge(ctx context.Context, uids []uint32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := v.checkWritable(); err != nil {
		return err
	}
	v.u.mu.Lock()
	defer v.u.mu.Unlock()
	if uids == nil {
		for _, m := range v.data {
			if slices.Contains(m.flags, storage.FlagDeleted) && v.mb.find(m.uid) >= 0 {
				uids = append(uids, m.uid)
			}
		}
	}
	if v.mb.expungeLocked(uids) {
		v.mb.notifyLocked(nil)
	}
	return nil
}

// Copy copies (or moves) the view's messages that still exist to dest.
func (v *view) Copy(ctx context.Context, uids []uint32, dest string, move bool) (storage.CopyResult, error) {
	var res storage.CopyResult
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if move {
		if err := v.checkWritable(); err != nil {
			return res, err
		}
	}
	v.u.mu.Lock()
	defer v.u.mu.Unlock()
	dst, err := v.u.lookupLocked(dest)
	if err != nil {
		return res, err
	}
	var src []*message
	for _, uid := range sortedUnique(uids) {
		if v.index(uid) < 0 {
			continue
		}
		if j := v.mb.find(uid); j >= 0 {
			src = append(src, v.mb.msgs[j])
		}
	}
	res.UIDValidity = dst.uidValidity
	now := v.u.now()
	for _, m := range src {
		c := m.clone(0)
		dst.appendLocked(c, now)
		res.SrcUIDs = append(res.SrcUIDs, m.uid)
		res.DstUIDs = append(res.DstUIDs, c.uid)
	}
	if len(src) > 0 {
		dst.notifyLocked(nil)
	}
	if move && v.mb.expungeLocked(res.SrcUIDs) {
		v.mb.notifyLocked(nil)
	}
	return res, nil
}
