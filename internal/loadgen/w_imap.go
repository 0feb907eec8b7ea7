package loadgen

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// cycleWorker repeats a whole session: connect, LOGIN, SELECT, the
// command mix, LOGOUT (the shape of a webmail or phone client that
// reconnects for everything).
func cycleWorker(ctx context.Context, w *workerEnv) error {
	for w.b.take(ctx) {
		t0 := time.Now()
		if err := cycleOnce(ctx, w); err != nil {
			continue // recorded by the failing op
		}
		w.rec.observe("session", time.Since(t0))
	}
	return nil
}

func cycleOnce(ctx context.Context, w *workerEnv) error {
	user := w.nextUser()
	var ic *imapConn
	err := w.rec.time("connect", func() (err error) {
		ic, err = dialIMAP(ctx, w.o.Target)
		return err
	})
	if err != nil {
		return err
	}
	defer ic.Close()
	ic.c.SetDeadline(time.Now().Add(w.o.Timeout))
	if err := w.rec.time("login", func() error { return ic.login(user, w.o.Password) }); err != nil {
		return err
	}
	if err := w.rec.time("select", func() error { return ic.cmd("SELECT INBOX") }); err != nil {
		return err
	}
	if err := mix(w, ic, w.rec.time); err != nil {
		return err
	}
	return w.rec.time("logout", ic.logout)
}

// persistentWorker logs in once and repeats the command mix; every
// command is also recorded as "command".
func persistentWorker(ctx context.Context, w *workerEnv) error {
	for w.b.take(ctx) {
		if err := persistentSession(ctx, w); err != nil {
			// The session failed (recorded); start a new one.
			continue
		}
		return nil
	}
	return nil
}

func persistentSession(ctx context.Context, w *workerEnv) error {
	timed := func(op string, f func() error) error {
		t0 := time.Now()
		if err := w.rec.time(op, f); err != nil {
			return err
		}
		w.rec.observe("command", time.Since(t0))
		return nil
	}
	ic, err := dialIMAP(ctx, w.o.Target)
	if err != nil {
		w.rec.fail("connect", err)
		return err
	}
	defer ic.Close()
	ic.c.SetDeadline(time.Now().Add(w.o.Timeout))
	if err := w.rec.time("login", func() error { return ic.login(w.user, w.o.Password) }); err != nil {
		return err
	}
	if err := w.rec.time("select", func() error { return ic.cmd("SELECT INBOX") }); err != nil {
		return err
	}
	first := true
	for first || w.b.take(ctx) {
		first = false
		ic.c.SetDeadline(time.Now().Add(w.o.Timeout))
		t0 := time.Now()
		if err := mix(w, ic, timed); err != nil {
			return err
		}
		w.rec.observe("iteration", time.Since(t0))
	}
	return w.rec.time("logout", ic.logout)
}

// mix is the command mix of one iteration: FETCH flags and envelopes of
// three messages, FETCH one whole body, STORE a flag, APPEND a message,
// then mark it \Deleted and EXPUNGE it (the mailbox keeps its size).
func mix(w *workerEnv, ic *imapConn, timed func(string, func() error) error) error {
	if ic.exists > 0 {
		a, b, c := w.rng.IntN(ic.exists)+1, w.rng.IntN(ic.exists)+1, w.rng.IntN(ic.exists)+1
		set := strconv.Itoa(a) + "," + strconv.Itoa(b) + "," + strconv.Itoa(c)
		if err := timed("fetch_envelope", func() error { return ic.cmd("FETCH " + set + " (FLAGS ENVELOPE)") }); err != nil {
			return err
		}
		if err := timed("fetch_body", func() error { return ic.cmd("FETCH " + strconv.Itoa(a) + " (BODY.PEEK[])") }); err != nil {
			return err
		}
		sign := "+"
		if w.rng.IntN(2) == 0 {
			sign = "-"
		}
		if err := timed("store", func() error { return ic.cmd("STORE " + strconv.Itoa(b) + " " + sign + "FLAGS (\\Flagged)") }); err != nil {
			return err
		}
	}
	msg := w.message()
	if err := timed("append", func() error { return ic.appendMsg("INBOX", "\\Seen", msg) }); err != nil {
		return err
	}
	uid := ic.appendUID()
	if uid == 0 {
		err := errors.New("APPEND without APPENDUID")
		w.rec.fail("append", err)
		return err
	}
	if err := timed("store_deleted", func() error {
		return ic.cmd(fmt.Sprintf("UID STORE %d +FLAGS.SILENT (\\Deleted)", uid))
	}); err != nil {
		return err
	}
	return timed("expunge", func() error { return ic.cmd("EXPUNGE") })
}
