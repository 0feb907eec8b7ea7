package memstore

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"roost/internal/storage"
)

// maxMessageSize bounds Append so a test cannot exhaust memory by accident.
const maxMessageSize = 64 << 20

// message is one stored message, shared by every view that has it.
type message struct {
	uid          uint32
	flags        []string // canonical, sorted, no \Recent
	modSeq       uint64
	internalDate time.Time
	saveDate     time.Time
	body         []byte // CRLF form
	recent       bool   // not yet claimed by a read-write view
	fields       map[string][]byte
	fieldsErr    error
}

// clone returns a copy of m for another mailbox under a new UID, marked
// recent there. The body and computed fields are immutable and shared.
func (m *message) clone(uid uint32) *message {
	return &message{
		uid: uid, flags: slices.Clone(m.flags), internalDate: m.internalDate,
		body: m.body, recent: true, fields: m.fields, fieldsErr: m.fieldsErr,
	}
}

func (m *message) export(recent bool) storage.Message {
	return storage.Message{
		UID: m.uid, Flags: slices.Clone(m.flags), Recent: recent, ModSeq: m.modSeq,
		InternalDate: m.internalDate, SaveDate: m.saveDate, Size: int64(len(m.body)),
	}
}

// mailbox is the shared state of one mailbox. Every field is guarded by
// the owning user's mu.
type mailbox struct {
	name        string
	uidValidity uint32
	uidNext     uint32
	modSeq      uint64 // HIGHESTMODSEQ
	msgs        []*message
	keywords    []string // defined keywords, in creation order
	specialUse  []string
	deleted     bool
	views       map[*view]struct{}
	feed        *storage.ChangeHub // the user's (feed.go)
	// expunged records each expunged UID with the MODSEQ of its expunge
	// (storage.ExpungeHistory), oldest first. memstore keeps all of it.
	expunged []expungeRecord
}

type expungeRecord struct {
	uid    uint32
	modSeq uint64
}

func (mb *mailbox) appendLocked(m *message, now time.Time) {
	m.uid = mb.uidNext
	mb.uidNext++
	mb.modSeq++
	m.modSeq = mb.modSeq
	m.saveDate = now
	mb.defineLocked(m.flags)
	mb.msgs = append(mb.msgs, m)
}

// defineLocked adds keywords among flags to the mailbox's defined set.
func (mb *mailbox) defineLocked(flags []string) {
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) && !slices.Contains(mb.keywords, f) {
			mb.keywords = append(mb.keywords, f)
		}
	}
}

func (mb *mailbox) uids() []uint32 {
	out := make([]uint32, len(mb.msgs))
	for i, m := range mb.msgs {
		out[i] = m.uid
	}
	return out
}

// find returns the index of uid in msgs, or -1.
func (mb *mailbox) find(uid uint32) int {
	i := sort.Search(len(mb.msgs), func(i int) bool { return mb.msgs[i].uid >= uid })
	if i < len(mb.msgs) && mb.msgs[i].uid == uid {
		return i
	}
	return -1
}

// expungeLocked removes the given UIDs (those that exist) and reports
// whether any was removed.
func (mb *mailbox) expungeLocked(uids []uint32) bool {
	drop := make(map[uint32]bool, len(uids))
	for _, uid := range uids {
		drop[uid] = true
	}
	kept := mb.msgs[:0:0]
	for _, m := range mb.msgs {
		if !drop[m.uid] {
			kept = append(kept, m)
		}
	}
	if len(kept) == len(mb.msgs) {
		return false
	}
	mb.modSeq++
	for _, m := range mb.msgs {
		if drop[m.uid] {
			mb.expunged = append(mb.expunged, expungeRecord{m.uid, mb.modSeq})
		}
	}
	mb.msgs = kept
	return true
}

// notifyLocked wakes every view except skip.
func (mb *mailbox) notifyLocked(skip *view) {
	mb.feed.Publish(storage.Change{Kind: storage.ChangeMessages, Mailbox: mb.name})
	for v := range mb.views {
		if v == skip {
			continue
		}
		select {
		case v.notify <- struct{}{}:
		default:
		}
	}
}

func (mb *mailbox) statusLocked() storage.Status {
	st := storage.Status{
		UIDValidity: mb.uidValidity, UIDNext: mb.uidNext, Messages: len(mb.msgs),
		HighestModSeq: mb.modSeq, Keywords: slices.Clone(mb.keywords),
	}
	for i, m := range mb.msgs {
		if m.recent {
			st.Recent++
		}
		if !slices.Contains(m.flags, storage.FlagSeen) {
			st.Unseen++
			if st.FirstUnseen == 0 {
				st.FirstUnseen = i + 1
			}
		}
		st.Size += int64(len(m.body))
	}
	return st
}

// computeFields runs the user's FieldFunc on a message body.
func (u *user) computeFields(body []byte) (map[string][]byte, error) {
	if u.fields == nil {
		return nil, nil
	}
	f, err := u.fields(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, fmt.Errorf("compute fields: %w", err)
	}
	return f, nil
}

// readCRLF reads a message and converts bare LF and bare CR line ends to
// CRLF, as Dovecot stores what it is given for RFC822.SIZE purposes.
func readCRLF(r io.Reader) ([]byte, error) {
	if r == nil {
		return nil, storage.Errorf(storage.KindParams, "No message body")
	}
	br := bufio.NewReader(io.LimitReader(r, maxMessageSize+1))
	var out bytes.Buffer
	prevCR := false
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read message: %w", err)
		}
		switch {
		case b == '\n' && !prevCR:
			out.WriteString("\r\n")
		case prevCR && b != '\n':
			out.WriteString("\n")
			out.WriteByte(b)
		default:
			out.WriteByte(b)
		}
		prevCR = b == '\r'
	}
	if prevCR {
		out.WriteByte('\n')
	}
	if out.Len() > maxMessageSize {
		return nil, storage.Errorf(storage.KindTooBig, "Message too large")
	}
	return out.Bytes(), nil
}

// systemFlags maps the lower-case spelling of each storable system flag
// to its canonical form.
var systemFlags = map[string]string{
	`\seen`: storage.FlagSeen, `\answered`: storage.FlagAnswered,
	`\flagged`: storage.FlagFlagged, `\deleted`: storage.FlagDeleted,
	`\draft`: storage.FlagDraft,
}

// normalizeFlags canonicalises system flags, drops \Recent and
// duplicates, rejects unknown system flags and sorts the result.
func normalizeFlags(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, f := range in {
		if strings.HasPrefix(f, `\`) {
			lf := strings.ToLower(f)
			if lf == `\recent` {
				continue
			}
			c, ok := systemFlags[lf]
			if !ok {
				return nil, storage.Errorf(storage.KindParams, "Invalid system flag %s", f)
			}
			f = c
		} else if f == "" || strings.ContainsAny(f, " ()[]{}%*\"\x00\r\n") {
			return nil, storage.Errorf(storage.KindParams, "Invalid keyword %q", f)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out, nil
}
