package loadgen

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"time"
)

// pop3Worker repeats: connect, USER/PASS, STAT, RETR and DELE one random
// message, QUIT (RFC 1939).
func pop3Worker(ctx context.Context, w *workerEnv) error {
	for w.b.take(ctx) {
		t0 := time.Now()
		if err := pop3Once(ctx, w); err != nil {
			continue
		}
		w.rec.observe("session", time.Since(t0))
	}
	return nil
}

func pop3Once(ctx context.Context, w *workerEnv) error {
	user := w.nextUser()
	var tc *textConn
	err := w.rec.time("connect", func() (err error) {
		if tc, err = dialText(ctx, w.o.Target); err != nil {
			return err
		}
		_, err = tc.pop3()
		return err
	})
	if err != nil {
		if tc != nil {
			tc.Close()
		}
		return err
	}
	defer tc.Close()
	tc.c.SetDeadline(time.Now().Add(w.o.Timeout))
	if err := w.rec.time("login", func() error {
		if _, err := tc.pop3Cmd("USER " + user); err != nil {
			return err
		}
		_, err := tc.pop3Cmd("PASS " + w.o.Password)
		return err
	}); err != nil {
		return err
	}
	var n int
	if err := w.rec.time("stat", func() (err error) {
		n, err = pop3Stat(tc)
		return err
	}); err != nil {
		return err
	}
	if n == 0 {
		err := errors.New("mailbox is empty: prefill more messages")
		w.rec.fail("stat", err)
		return err
	}
	k := strconv.Itoa(w.rng.IntN(n) + 1)
	if err := w.rec.time("retr", func() error { _, err := tc.pop3Multi("RETR " + k); return err }); err != nil {
		return err
	}
	if err := w.rec.time("dele", func() error { _, err := tc.pop3Cmd("DELE " + k); return err }); err != nil {
		return err
	}
	return w.rec.time("quit", func() error { _, err := tc.pop3Cmd("QUIT"); return err })
}

// pop3Stat sends STAT and returns the message count.
func pop3Stat(tc *textConn) (int, error) {
	l, err := tc.pop3Cmd("STAT")
	if err != nil {
		return 0, err
	}
	f := bytes.Fields(l)
	if len(f) < 2 {
		return 0, &StatusError{Line: string(l)}
	}
	n, err := strconv.Atoi(string(f[1]))
	if err != nil {
		return 0, &StatusError{Line: string(l)}
	}
	return n, nil
}

// lmtpWorker holds one LMTP connection and delivers messages to random
// users over it (RFC 2033), one recipient per transaction.
func lmtpWorker(ctx context.Context, w *workerEnv) error {
	for w.b.take(ctx) {
		if err := lmtpSession(ctx, w); err != nil {
			continue
		}
		return nil
	}
	return nil
}

func lmtpSession(ctx context.Context, w *workerEnv) error {
	tc, err := dialText(ctx, w.o.Target)
	if err != nil {
		w.rec.fail("connect", err)
		return err
	}
	defer tc.Close()
	tc.c.SetDeadline(time.Now().Add(w.o.Timeout))
	if err := w.rec.time("connect", func() error {
		if err := tc.smtpExpect(200); err != nil {
			return err
		}
		if err := tc.send("LHLO loadgen.example"); err != nil {
			return err
		}
		return tc.smtpExpect(200)
	}); err != nil {
		return err
	}
	first := true
	for first || w.b.take(ctx) {
		first = false
		tc.c.SetDeadline(time.Now().Add(w.o.Timeout))
		user := w.o.Users[w.rng.IntN(len(w.o.Users))]
		if err := w.rec.time("delivery", func() error { return lmtpDeliver(tc, user, w.message()) }); err != nil {
			return err
		}
	}
	return w.rec.time("quit", func() error {
		if err := tc.send("QUIT"); err != nil {
			return err
		}
		return tc.smtpExpect(200)
	})
}

// lmtpDeliver runs one transaction, pipelining MAIL and RCPT.
func lmtpDeliver(tc *textConn, user string, msg []byte) error {
	tc.w.WriteString("MAIL FROM:<loadgen@example.org>\r\nRCPT TO:<" + user + ">\r\nDATA\r\n")
	if err := tc.w.Flush(); err != nil {
		return err
	}
	for _, lo := range []int{200, 200, 300} {
		if err := tc.smtpExpect(lo); err != nil {
			return err
		}
	}
	tc.writeDotStuffed(msg)
	if err := tc.w.Flush(); err != nil {
		return err
	}
	return tc.smtpExpect(200)
}
