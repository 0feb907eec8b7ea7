package message

// Size counts bytes and lines of a header or body. Physical is the size as
// stored; Virtual is the size with every bare LF counted as CRLF (what IMAP
// reports); Lines counts LF characters.
type Size struct {
	Physical int64
	Virtual  int64
	Lines    int64
}

func (s *Size) add(o Size) {
	s.Physical += o.Physical
	s.Virtual += o.Virtual
	s.Lines += o.Lines
}

// PartFlags describe what the parser decided a part is.
type PartFlags uint16

// Part flags, as Dovecot's message_part flags.
const (
	FlagMultipart PartFlags = 1 << iota
	FlagMultipartDigest
	FlagMessageRFC822
	FlagText
	FlagHasNULs
	FlagIsMIME
)

// Part is one node of the MIME tree. Offsets are absolute positions in the
// parsed message: the header block is [Offset, Offset+Header.Physical) and
// the body [BodyOffset(), End()). For a multipart the body holds preamble,
// children, boundaries and epilogue; for message/rfc822 it holds the single
// child message.
type Part struct {
	Offset   int64
	Header   Size
	Body     Size
	Flags    PartFlags
	Parent   *Part
	Children []*Part

	// Content-* fields, as Dovecot's message_part_data. A nil pointer is
	// an absent header.
	Content Content
	// Envelope is set for the root part and for the child of each
	// message/rfc822 part.
	Envelope *Envelope
}

// BodyOffset returns the position of the first body byte.
func (p *Part) BodyOffset() int64 { return p.Offset + p.Header.Physical }

// End returns the position just after the part's last byte.
func (p *Part) End() int64 { return p.BodyOffset() + p.Body.Physical }

// Is reports whether all of flags are set.
func (p *Part) Is(flags PartFlags) bool { return p.Flags&flags == flags }

// Content holds the parsed Content-* headers of one part (RFC 2045, RFC 2183,
// RFC 3066, RFC 2557, RFC 1864). The first occurrence of each header wins.
// Parts without MIME-Version and without Content-Type keep nothing.
type Content struct {
	// Type and Subtype are nil when there was no Content-Type header.
	// A broken Content-Type yields the parts Dovecot salvages, possibly
	// empty strings.
	Type, Subtype     *string
	Params            []Param
	TransferEncoding  *string
	ID                *string
	Description       *string
	MD5               *string
	Disposition       *string
	DispositionParams []Param
	Language          []string
	Location          *string
}

// Envelope holds the raw (unfolded only by line joins) envelope header values
// of a message (RFC 3501 section 7.4.2), as Dovecot keeps them: for Date,
// Subject, In-Reply-To and Message-ID the last occurrence wins; address
// headers that occur more than once are concatenated.
type Envelope struct {
	Date, Subject, InReplyTo, MessageID *string
	From, Sender, ReplyTo, To, Cc, Bcc  []Address
}

// Walk calls fn for p and every descendant in depth-first order.
func (p *Part) Walk(fn func(*Part)) {
	fn(p)
	for _, c := range p.Children {
		c.Walk(fn)
	}
}
