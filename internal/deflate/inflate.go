package deflate

import (
	"errors"
	"fmt"
	"io"
)

const (
	windowSize  = 32 << 10 // RFC 1951 section 2: distances reach back 32 KiB
	maxPending  = 16 << 10 // decoded bytes held for the caller before decoding pauses
	histCap     = windowSize + 2*maxPending + 1024
	inputChunk  = 16 << 10 // bytes asked of the underlying reader at a time
	maxCodeLen  = 15
	fastBits    = 9
	maxLitCodes = 288
	maxDstCodes = 32
	maxEmptyRds = 100 // consecutive (0, nil) reads before giving up, as bufio
)

// ErrCorrupt reports input that is not valid DEFLATE data.
var ErrCorrupt = errors.New("deflate: corrupt input")

// errNeedInput means the buffered input ends inside the unit being
// decoded; the decoder has rolled back to the unit's start.
var errNeedInput = errors.New("deflate: need more input")

type state uint8

const (
	stateHeader  state = iota // at a block header
	stateStored               // inside a stored block
	stateHuffman              // inside a compressed block
	stateDone                 // after the final block
)

// Reader decompresses a raw DEFLATE stream. Unlike compress/flate it
// returns every byte it can decode from the input it has before it reads
// again, so it never blocks on a peer that flushed and is waiting.
type Reader struct {
	r   io.Reader
	in  []byte // input read but not yet consumed, from inPos
	pos int
	err error // sticky: ErrCorrupt, io.EOF after the final block, or a read error

	bits  uint64 // bit buffer, LSB first
	nbits uint

	state      state
	final      bool
	storedLeft int
	lit, dist  huffman
	fixed      *[2]huffman // built on first use

	hist    []byte // window followed by decoded bytes not yet read
	rpos    int    // first unread byte in hist
	written int64  // bytes decoded in total (limits match distances)
}

// NewReader returns a Reader decompressing from r. pending, if any, is
// compressed data already read from r's stream (a buffered reader's
// leftovers at the switch to compression).
func NewReader(r io.Reader, pending []byte) *Reader {
	d := &Reader{r: r, in: make([]byte, 0, inputChunk)}
	d.in = append(d.in, pending...)
	d.hist = make([]byte, 0, histCap)
	return d
}

// Read returns decompressed data. It reads from the underlying reader
// only when no decoded byte is waiting, and then returns as soon as some
// plaintext can be decoded.
func (d *Reader) Read(p []byte) (int, error) {
	empty := 0
	for {
		if d.rpos < len(d.hist) {
			n := copy(p, d.hist[d.rpos:])
			d.rpos += n
			return n, nil
		}
		if d.err != nil {
			return 0, d.err
		}
		if len(p) == 0 {
			return 0, nil
		}
		before := d.written
		if err := d.decode(); err != nil && err != errNeedInput {
			d.err = err
			continue
		}
		if d.written > before || d.state == stateDone {
			continue
		}
		n, err := d.fill()
		if n == 0 && err == nil {
			if empty++; empty > maxEmptyRds {
				d.err = io.ErrNoProgress
			}
		} else {
			empty = 0
		}
	}
}

// fill reads more input; an end of input inside a block or a symbol
// becomes io.ErrUnexpectedEOF.
func (d *Reader) fill() (int, error) {
	if d.pos > 0 {
		d.in = append(d.in[:0], d.in[d.pos:]...)
		d.pos = 0
	}
	if cap(d.in)-len(d.in) < inputChunk/2 {
		d.in = append(d.in, make([]byte, inputChunk)...)[:len(d.in)]
	}
	n, err := d.r.Read(d.in[len(d.in):cap(d.in)])
	d.in = d.in[:len(d.in)+n]
	if err != nil && n == 0 {
		if err == io.EOF && !d.atBoundary() {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
	}
	return n, nil
}

// atBoundary reports whether the stream may end here: between blocks,
// with only padding bits left.
func (d *Reader) atBoundary() bool {
	return d.state == stateDone || d.state == stateHeader && d.pos == len(d.in) && d.nbits < 8 && d.bits == 0
}

// mark is a position in the input to roll back to.
type mark struct {
	pos   int
	bits  uint64
	nbits uint
}

func (d *Reader) mark() mark      { return mark{d.pos, d.bits, d.nbits} }
func (d *Reader) rollback(m mark) { d.pos, d.bits, d.nbits = m.pos, m.bits, m.nbits }

// pull moves input bytes into the bit buffer.
func (d *Reader) pull() {
	for d.nbits <= 56 && d.pos < len(d.in) {
		d.bits |= uint64(d.in[d.pos]) << d.nbits
		d.nbits += 8
		d.pos++
	}
}

// getBits takes n (at most 32) bits; false when the input ends first.
func (d *Reader) getBits(n uint) (uint32, bool) {
	if d.nbits < n {
		d.pull()
		if d.nbits < n {
			return 0, false
		}
	}
	v := uint32(d.bits & (1<<n - 1))
	d.bits >>= n
	d.nbits -= n
	return v, true
}

// decode decodes from the buffered input until it runs out (errNeedInput),
// the pending output is full (nil), or the stream ends or is corrupt.
func (d *Reader) decode() error {
	d.compact()
	for len(d.hist)-d.rpos < maxPending {
		var err error
		switch d.state {
		case stateHeader:
			err = d.blockHeader()
		case stateStored:
			err = d.storedData()
		case stateHuffman:
			err = d.huffmanData()
		case stateDone:
			return io.EOF
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// compact drops read bytes older than the window when the history
// buffer could otherwise overflow while decoding up to maxPending more.
func (d *Reader) compact() {
	if len(d.hist)+maxPending+258 <= cap(d.hist) {
		return
	}
	start := min(d.rpos, len(d.hist)-windowSize)
	if start <= 0 {
		return
	}
	n := copy(d.hist, d.hist[start:])
	d.hist = d.hist[:n]
	d.rpos -= start
}

// room is how many bytes may still be decoded before the caller reads.
func (d *Reader) room() int { return maxPending - (len(d.hist) - d.rpos) }

func (d *Reader) emit(b byte) {
	d.hist = append(d.hist, b)
	d.written++
}

// blockHeader reads a block header, for dynamic blocks with its code
// tables, as one unit (RFC 1951 section 3.2.3).
func (d *Reader) blockHeader() error {
	m := d.mark()
	h, ok := d.getBits(3)
	if !ok {
		return errNeedInput
	}
	final := h&1 == 1
	var err error
	switch h >> 1 {
	case 0:
		err = d.storedHeader()
	case 1:
		d.useFixed()
		d.state = stateHuffman
	case 2:
		err = d.dynamicHeader()
	default:
		err = fmt.Errorf("%w: reserved block type", ErrCorrupt)
	}
	if err == errNeedInput {
		d.rollback(m)
		return err
	}
	d.final = final
	return err
}

// storedHeader skips to a byte boundary and reads LEN and NLEN (RFC 1951
// section 3.2.4).
func (d *Reader) storedHeader() error {
	d.bits >>= d.nbits % 8
	d.nbits -= d.nbits % 8
	v, ok := d.getBits(32)
	if !ok {
		return errNeedInput
	}
	n, nn := v&0xffff, v>>16
	if n != ^nn&0xffff {
		return fmt.Errorf("%w: stored block length check", ErrCorrupt)
	}
	d.storedLeft = int(n)
	d.state = stateStored
	return nil
}

func (d *Reader) storedData() error {
	for d.storedLeft > 0 && d.nbits >= 8 && d.room() > 0 {
		d.emit(byte(d.bits))
		d.bits >>= 8
		d.nbits -= 8
		d.storedLeft--
	}
	if d.storedLeft > 0 && d.nbits == 0 {
		n := min(d.storedLeft, len(d.in)-d.pos, d.room())
		d.hist = append(d.hist, d.in[d.pos:d.pos+n]...)
		d.written += int64(n)
		d.pos += n
		d.storedLeft -= n
	}
	if d.storedLeft == 0 {
		d.endBlock()
		return nil
	}
	if d.room() == 0 {
		return nil
	}
	return errNeedInput
}

func (d *Reader) endBlock() {
	d.state = stateHeader
	if d.final {
		d.state = stateDone
	}
}

// Length and distance bases and extra bits (RFC 1951 section 3.2.5).
var (
	lengthBase  = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// huffmanData decodes symbols until the block ends, the output is full or
// the input ends inside a symbol.
func (d *Reader) huffmanData() error {
	for d.room() > 0 {
		m := d.mark()
		sym, err := d.decodeSym(&d.lit)
		if err != nil {
			d.rollback(m)
			return err
		}
		switch {
		case sym < 256:
			d.emit(byte(sym))
			continue
		case sym == 256:
			d.endBlock()
			return nil
		}
		if err := d.match(sym); err != nil {
			d.rollback(m)
			return err
		}
	}
	return nil
}

// match decodes the rest of a length/distance pair and copies it.
func (d *Reader) match(sym int) error {
	sym -= 257
	if sym >= len(lengthBase) {
		return fmt.Errorf("%w: bad length code", ErrCorrupt)
	}
	extra, ok := d.getBits(uint(lengthExtra[sym]))
	if !ok {
		return errNeedInput
	}
	length := int(lengthBase[sym]) + int(extra)
	dsym, err := d.decodeSym(&d.dist)
	if err != nil {
		return err
	}
	if dsym >= len(distBase) {
		return fmt.Errorf("%w: bad distance code", ErrCorrupt)
	}
	if extra, ok = d.getBits(uint(distExtra[dsym])); !ok {
		return errNeedInput
	}
	dist := int(distBase[dsym]) + int(extra)
	if int64(dist) > d.written || dist > len(d.hist) {
		return fmt.Errorf("%w: distance too far back", ErrCorrupt)
	}
	from := len(d.hist) - dist
	for i := range length {
		d.hist = append(d.hist, d.hist[from+i])
	}
	d.written += int64(length)
	return nil
}

// dynamicHeader reads the code length codes and the literal/length and
// distance code lengths (RFC 1951 section 3.2.7).
func (d *Reader) dynamicHeader() error {
	v, ok := d.getBits(14)
	if !ok {
		return errNeedInput
	}
	nlit, ndist, nclen := int(v&31)+257, int(v>>5&31)+1, int(v>>10)+4
	if nlit > 286 || ndist > 30 {
		return fmt.Errorf("%w: too many length codes", ErrCorrupt)
	}
	var clen [19]uint8
	for i := range nclen {
		b, ok := d.getBits(3)
		if !ok {
			return errNeedInput
		}
		clen[clenOrder[i]] = uint8(b)
	}
	var cl huffman
	if err := cl.init(clen[:]); err != nil {
		return err
	}
	var lengths [maxLitCodes + maxDstCodes]uint8
	if err := d.readLengths(&cl, lengths[:nlit+ndist]); err != nil {
		return err
	}
	if lengths[256] == 0 {
		return fmt.Errorf("%w: no end-of-block code", ErrCorrupt)
	}
	if err := d.lit.init(lengths[:nlit]); err != nil {
		return err
	}
	if err := d.dist.init(lengths[nlit : nlit+ndist]); err != nil {
		return err
	}
	d.state = stateHuffman
	return nil
}

var clenOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// readLengths decodes run-length coded code lengths into lengths.
func (d *Reader) readLengths(cl *huffman, lengths []uint8) error {
	for i := 0; i < len(lengths); {
		sym, err := d.decodeSym(cl)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = uint8(sym)
			i++
			continue
		}
		var rep int
		var val uint8
		switch sym {
		case 16:
			if i == 0 {
				return fmt.Errorf("%w: repeat with no previous length", ErrCorrupt)
			}
			b, ok := d.getBits(2)
			rep, val = 3+int(b), lengths[i-1]
			if !ok {
				return errNeedInput
			}
		case 17:
			b, ok := d.getBits(3)
			if !ok {
				return errNeedInput
			}
			rep = 3 + int(b)
		default:
			b, ok := d.getBits(7)
			if !ok {
				return errNeedInput
			}
			rep = 11 + int(b)
		}
		if i+rep > len(lengths) {
			return fmt.Errorf("%w: code lengths overflow", ErrCorrupt)
		}
		for range rep {
			lengths[i] = val
			i++
		}
	}
	return nil
}

// useFixed selects the fixed Huffman codes (RFC 1951 section 3.2.6).
func (d *Reader) useFixed() {
	if d.fixed == nil {
		var l [maxLitCodes + maxDstCodes]uint8
		for i := range maxLitCodes {
			switch {
			case i < 144:
				l[i] = 8
			case i < 256:
				l[i] = 9
			case i < 280:
				l[i] = 7
			default:
				l[i] = 8
			}
		}
		for i := range maxDstCodes {
			l[maxLitCodes+i] = 5
		}
		d.fixed = new([2]huffman)
		d.fixed[0].init(l[:maxLitCodes])
		d.fixed[1].init(l[maxLitCodes:])
	}
	d.lit, d.dist = d.fixed[0], d.fixed[1]
}

// huffman is a canonical Huffman code: a fast table for codes up to
// fastBits long and counts/symbols for the rest.
type huffman struct {
	count  [maxCodeLen + 1]uint16
	symbol [maxLitCodes]uint16
	fast   [1 << fastBits]uint16 // symbol<<4 | length; 0 means use the slow path
}

// init builds the code from code lengths; over-subscribed codes are
// corrupt, incomplete ones are allowed (a missing code is corrupt when
// met), as zlib does for single-code distance trees.
func (h *huffman) init(lengths []uint8) error {
	*h = huffman{}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	left := 1
	for l := 1; l <= maxCodeLen; l++ {
		left = left<<1 - int(h.count[l])
		if left < 0 {
			return fmt.Errorf("%w: over-subscribed code", ErrCorrupt)
		}
	}
	var offs, next [maxCodeLen + 2]int
	code := 0
	for l := 1; l <= maxCodeLen; l++ {
		offs[l+1] = offs[l] + int(h.count[l])
		code = (code + int(h.count[l-1])) << 1
		next[l] = code
	}
	next[1] = 0
	for sym, l := range lengths {
		if l == 0 {
			continue
		}
		h.symbol[offs[l]] = uint16(sym)
		offs[l]++
		c := next[l]
		next[l]++
		if l <= fastBits {
			for i := reverse(c, uint(l)); i < 1<<fastBits; i += 1 << l {
				h.fast[i] = uint16(sym)<<4 | uint16(l)
			}
		}
	}
	return nil
}

func reverse(code int, n uint) int {
	r := 0
	for range n {
		r = r<<1 | code&1
		code >>= 1
	}
	return r
}

// decodeSym decodes one symbol of h.
func (d *Reader) decodeSym(h *huffman) (int, error) {
	if d.nbits < fastBits {
		d.pull()
	}
	if d.nbits >= fastBits {
		if e := h.fast[d.bits&(1<<fastBits-1)]; e != 0 {
			n := uint(e & 15)
			d.bits >>= n
			d.nbits -= n
			return int(e >> 4), nil
		}
	}
	code, first, index := 0, 0, 0
	for l := 1; l <= maxCodeLen; l++ {
		b, ok := d.getBits(1)
		if !ok {
			return 0, errNeedInput
		}
		code |= int(b)
		count := int(h.count[l])
		if code-first < count {
			return int(h.symbol[index+code-first]), nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, fmt.Errorf("%w: invalid code", ErrCorrupt)
}
