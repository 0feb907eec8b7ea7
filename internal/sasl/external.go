package sasl

import (
	"bytes"
	"context"
	"fmt"
	"unicode/utf8"
)

// maxTrace bounds ANONYMOUS trace information (RFC 4505 section 2).
const maxTrace = 255

// AuthzidFunc completes an exchange whose identity the connection already
// proved (EXTERNAL: the client certificate). authzid is what the client
// asked to act as, empty for "myself".
type AuthzidFunc func(ctx context.Context, authzid string) error

// external is EXTERNAL (RFC 4422 appendix A).
type external struct {
	fn   AuthzidFunc
	step int
}

// NewExternal returns an EXTERNAL exchange; fn decides with the identity
// the caller took from the connection.
func NewExternal(fn AuthzidFunc) Mechanism { return &external{fn: fn} }

func (m *external) Name() string { return External }

func (m *external) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	if m.step == 0 && resp == nil {
		m.step = 1
		return []byte{}, false, nil
	}
	if m.step > 1 {
		return nil, false, ErrUnexpected
	}
	m.step = 2
	if len(resp) > MaxResponse || !utf8.Valid(resp) || bytes.IndexByte(resp, 0) >= 0 {
		return nil, false, fmt.Errorf("external: bad authzid: %w", ErrMalformed)
	}
	if err := m.fn(ctx, string(resp)); err != nil {
		return nil, false, err
	}
	return nil, true, nil
}

// TraceFunc completes an ANONYMOUS exchange with the client's trace
// information (usually an email address; never trusted).
type TraceFunc func(ctx context.Context, trace string) error

// anonymous is ANONYMOUS (RFC 4505).
type anonymous struct {
	fn   TraceFunc
	step int
}

// NewAnonymous returns an ANONYMOUS exchange.
func NewAnonymous(fn TraceFunc) Mechanism { return &anonymous{fn: fn} }

func (m *anonymous) Name() string { return Anonymous }

func (m *anonymous) Next(ctx context.Context, resp []byte) ([]byte, bool, error) {
	if m.step == 0 && resp == nil {
		m.step = 1
		return []byte{}, false, nil
	}
	if m.step > 1 {
		return nil, false, ErrUnexpected
	}
	m.step = 2
	if len(resp) > 4*maxTrace || !utf8.Valid(resp) || bytes.IndexByte(resp, 0) >= 0 {
		return nil, false, fmt.Errorf("anonymous: bad trace: %w", ErrMalformed)
	}
	if err := m.fn(ctx, string(resp)); err != nil {
		return nil, false, err
	}
	return nil, true, nil
}
