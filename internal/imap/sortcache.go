package imap

import (
	"encoding/binary"
	"time"
)

// FieldsHeader are the SortData fields that come from the header block:
// everything but Arrival and Size.
const FieldsHeader = FieldDate | FieldSubject | FieldFrom | FieldTo | FieldCc | FieldDisplayFrom | FieldDisplayTo | FieldThreadIDs

// sortKeysVersion is the first byte of an encoded key record; a record of
// another version is not read (the caller falls back to the header).
const sortKeysVersion = 1

// Flags of an encoded key record.
const (
	keyHasDate        = 1 << 0
	keyReplyOrForward = 1 << 1
)

// AppendSortKeys appends the encoded header-derived sort data of a
// message, computed from its header block once when it is saved and kept
// in the field cache, so that SORT and THREAD read them without parsing
// headers: version, flags, the Date field's time, then Subject, From, To,
// Cc, DisplayFrom, DisplayTo, MessageID and Parents as length-prefixed
// strings.
func AppendSortKeys(dst, header []byte) []byte {
	const noDate = -1 << 62 // an arrival no date parses to
	d := NewSortData(header, time.Unix(noDate, 0), 0, FieldsHeader)
	flags := byte(0)
	if d.Date != noDate {
		flags |= keyHasDate
	}
	if d.ReplyOrForward {
		flags |= keyReplyOrForward
	}
	dst = append(dst, sortKeysVersion, flags)
	dst = binary.AppendVarint(dst, d.Date)
	for _, s := range []string{d.Subject, d.From, d.To, d.Cc, d.DisplayFrom, d.DisplayTo, d.MessageID} {
		dst = appendKeyString(dst, s)
	}
	dst = binary.AppendUvarint(dst, uint64(len(d.Parents)))
	for _, p := range d.Parents {
		dst = appendKeyString(dst, p)
	}
	return dst
}

func appendKeyString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// DecodeSortKeys returns the sort data of a message from its encoded keys
// (AppendSortKeys), its INTERNALDATE and RFC822.SIZE, setting only the
// fields asked for as NewSortData does. ok is false for a record it
// cannot read; the caller then computes the data from the header.
func DecodeSortKeys(keys []byte, arrival time.Time, size int64, fields SortFields) (SortData, bool) {
	d := SortData{Arrival: arrival.Unix(), Size: size, Date: arrival.Unix()}
	if fields == 0 {
		return d, true
	}
	r := keyReader{b: keys}
	if r.byte() != sortKeysVersion {
		return d, false
	}
	flags := r.byte()
	date := r.varint()
	if fields&FieldDate != 0 && flags&keyHasDate != 0 {
		d.Date = date
	}
	if fields&FieldSubject != 0 {
		d.ReplyOrForward = flags&keyReplyOrForward != 0
	}
	left := fields & FieldsHeader &^ FieldDate // fields still to read
	for _, f := range []struct {
		bits SortFields
		dst  *string
	}{
		{FieldSubject, &d.Subject}, {FieldFrom, &d.From}, {FieldTo, &d.To}, {FieldCc, &d.Cc},
		{FieldDisplayFrom, &d.DisplayFrom}, {FieldDisplayTo, &d.DisplayTo}, {FieldThreadIDs, &d.MessageID},
	} {
		if left == 0 {
			return d, !r.bad // the rest of the record is not needed
		}
		s := r.bytes()
		if fields&f.bits != 0 && len(s) > 0 {
			*f.dst = string(s)
		}
		left &^= f.bits
	}
	n := r.uvarint()
	if fields&FieldThreadIDs != 0 && n > 0 && n <= uint64(len(r.b)) {
		d.Parents = make([]string, n)
		for i := range d.Parents {
			d.Parents[i] = string(r.bytes())
		}
	}
	return d, !r.bad
}

// keyReader reads an encoded key record with a sticky error.
type keyReader struct {
	b   []byte
	bad bool
}

func (r *keyReader) byte() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *keyReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *keyReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *keyReader) bytes() []byte {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}
