// Package scrub is the scheduled scrub of `faldone serve`: every Interval,
// the files of each Comune are read again and compared with their recorded
// SHA-256 by archive/verify, and each problem is a log line and a count in
// the metrics. A scrub only reports (verify's ReportOnly): digests are
// recorded by writes and by `faldone verify --fill`, never here.
//
// Replicas divide the work by Comune, with a lease in the state store
// ("scrub:<id>", state.LeaseStore). A replica reads a Comune only while it
// holds its lease, which it renews every third of Lease, so two replicas
// never read one Comune at once: each takes those the others do not hold.
// Once a Comune is done, its holder keeps the lease, no longer renewed,
// until Interval after that pass began: held, the lease is the mark that
// the Comune was scrubbed, and no replica takes it before its next pass is
// due — neither another one, nor this one after a restart, since each pass
// holds the lease under a holder name of its own. Every Poll, a replica
// looks for the Comuni due and scrubs those it can take, one after another.
// So each file is read once an interval, whatever the number of replicas.
//
// The unit is the Comune, not a cursor within it: a pass that stops before
// its end leaves its Comune to be scrubbed again from the start, which is
// the cost of keeping the store's part to a few rows. That happens when a
// replica stops (a shutdown releases the lease at once, a crash lets it
// expire after Lease), and when a replica's renewals fail for longer than
// Lease (the state store out) and another takes the lease: the next
// renewal finds it lost, and the pass ends. A pass that fails (the
// Comune's storage out) holds its lease for Retry, and is tried again then.
package scrub

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bassareggiana/faldone/archive/verify"
	"github.com/bassareggiana/faldone/state"
)

// Store is what the scrub needs of the state store: the digests, and the
// leases that divide the Comuni among replicas.
type Store interface {
	verify.Store
	state.LeaseStore
}

// Options configure a Scrubber. Interval is required; zero values of the
// others take the defaults.
type Options struct {
	// Interval is how often each Comune is scrubbed.
	Interval time.Duration
	// Rate bounds the bytes this replica reads per second (0: no bound).
	Rate int64
	// Lease is how long the lease of a Comune being scrubbed lasts without
	// a renewal (default 2 minutes): how soon another replica takes over
	// from one that crashed.
	Lease time.Duration
	// Poll is how often the Comuni due are looked for (default the
	// smaller of Interval and a minute).
	Poll time.Duration
	// Retry is how long a Comune whose pass failed waits for the next one
	// (default the smaller of Interval and 10 minutes).
	Retry time.Duration
	Log   *slog.Logger
	// Checked is told of each file checked, Problem of each problem (once
	// it is logged), Passed of each Comune scrubbed to its end. Any may be
	// nil. For the metrics.
	Checked func(comune, path string, size int64)
	Problem func(comune string, p verify.Problem)
	Passed  func(comune string, end time.Time, took time.Duration)
}

// Scrubber scrubs the Comuni of one archive, in one replica.
type Scrubber struct {
	fs     verify.Storage
	st     Store
	comuni []string
	opts   Options
	log    *slog.Logger
	now    func() time.Time // of the leases; verify paces by the wall clock
	id     string           // this Scrubber's, in its holder names
	passes atomic.Int64     // numbers each pass's holder name
}

// New returns the Scrubber of the Comuni (their ids) of the namespace fs,
// with their digests and leases in st.
func New(fs verify.Storage, st Store, comuni []string, opts Options) (*Scrubber, error) {
	if opts.Interval <= 0 {
		return nil, errors.New("scrub: the interval must be positive")
	}
	if opts.Lease <= 0 {
		opts.Lease = 2 * time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = min(opts.Interval, time.Minute)
	}
	if opts.Retry <= 0 {
		opts.Retry = min(opts.Interval, 10*time.Minute)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	id := fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8])
	return &Scrubber{fs: fs, st: st, comuni: comuni, opts: opts, log: log, now: time.Now, id: id}, nil
}

// Run scrubs the Comuni due, at once and then every Poll, until ctx ends.
func (s *Scrubber) Run(ctx context.Context) {
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	for {
		s.Pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass scrubs, one after another, each Comune that is due and that it can
// take, and returns how many it scrubbed to their end.
func (s *Scrubber) Pass(ctx context.Context) int {
	n := 0
	for _, c := range s.comuni {
		if ctx.Err() != nil {
			break
		}
		if s.scrub(ctx, c) {
			n++
		}
	}
	return n
}

// errLost ends a pass whose lease another replica took.
var errLost = errors.New("the lease was taken by another replica")

// leaseName is the lease of the Comune's scrub.
func leaseName(comune string) string { return "scrub:" + comune }

// scrub scrubs the Comune if its lease is free, and reports whether it
// read it to its end.
func (s *Scrubber) scrub(ctx context.Context, comune string) bool {
	name := leaseName(comune)
	holder := fmt.Sprintf("%s#%d", s.id, s.passes.Add(1))
	start := s.now()
	ok, err := s.st.TakeLease(ctx, name, holder, s.opts.Lease, start)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("scrub: lease not taken", "comune", comune, "err", err)
		}
		return false
	}
	if !ok {
		return false // being scrubbed by another replica, or done lately
	}
	s.log.Info("scrub: started", "comune", comune)
	began := time.Now()
	pctx, cancel := context.WithCancelCause(ctx)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() { s.renew(ctx, comune, name, holder, stop, cancel) })
	sum, err := verify.Run(pctx, s.fs, s.st, "/"+comune, verify.Options{
		ReportOnly: true,
		Rate:       s.opts.Rate,
		Problem:    func(p verify.Problem) { s.problem(comune, p) },
		Progress: func(p string, size int64) {
			if s.opts.Checked != nil {
				s.opts.Checked(comune, p, size)
			}
		},
	})
	// No renewal may come after the lease's last word below: a late one
	// would shorten the mark of a finished pass to Lease.
	close(stop)
	wg.Wait()
	lost := errors.Is(context.Cause(pctx), errLost)
	cancel(nil)
	took := time.Since(began)
	// The lease's last word is said also when ctx has ended: a shutdown
	// must still release it.
	lctx, lcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer lcancel()
	switch {
	case err != nil && ctx.Err() != nil:
		// Stopping: another replica may take the Comune at once.
		if err := s.st.ReleaseLease(lctx, name, holder); err != nil {
			s.log.Error("scrub: lease not released; another replica takes the Comune once it expires", "comune", comune, "expires_in", s.opts.Lease, "err", err)
		}
		s.log.Info("scrub: stopped", "comune", comune, "files", sum.Files)
		return false
	case lost:
		s.log.Warn("scrub: stopped, another replica took the lease", "comune", comune, "files", sum.Files)
		return false
	case err != nil:
		s.log.Error("scrub: Comune not verified", "comune", comune, "files", sum.Files, "retry_in", s.opts.Retry, "err", err)
		s.hold(lctx, comune, name, holder, s.opts.Retry)
		return false
	}
	end := s.now()
	s.log.Info("scrub: Comune verified", "comune", comune, "files", sum.Files, "bytes", sum.Bytes,
		"intact", sum.Intact, "rebound", sum.Rebound, "changed", sum.Problems[verify.Changed],
		"missing", sum.Problems[verify.Missing], "unknown", sum.Problems[verify.Unknown],
		"unreadable", sum.Problems[verify.Unreadable], "duration_ms", took.Milliseconds())
	if s.opts.Passed != nil {
		s.opts.Passed(comune, end, took)
	}
	if due := start.Add(s.opts.Interval); due.After(end) {
		s.hold(lctx, comune, name, holder, due.Sub(end))
	} else if err := s.st.ReleaseLease(lctx, name, holder); err != nil {
		s.log.Error("scrub: lease not released", "comune", comune, "err", err)
	}
	return true
}

// hold keeps the lease, no longer renewed, for ttl from now: until the
// Comune is due again.
func (s *Scrubber) hold(ctx context.Context, comune, name, holder string, ttl time.Duration) {
	ok, err := s.st.TakeLease(ctx, name, holder, ttl, s.now())
	switch {
	case err != nil:
		// Expiring after Lease, it lets the Comune be scrubbed again early.
		s.log.Error("scrub: lease not kept until the next pass", "comune", comune, "err", err)
	case !ok:
		s.log.Warn("scrub: another replica took the lease of a Comune just scrubbed", "comune", comune)
	}
}

// renew renews the lease every third of Lease until stop is closed, and
// ends the pass, with errLost, once another replica has taken it. A
// renewal that fails is tried again at the next: the lease may still be
// held then.
func (s *Scrubber) renew(ctx context.Context, comune, name, holder string, stop <-chan struct{}, end context.CancelCauseFunc) {
	t := time.NewTicker(s.opts.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, err := s.st.TakeLease(ctx, name, holder, s.opts.Lease, s.now())
		switch {
		case err != nil:
			if ctx.Err() == nil {
				s.log.Warn("scrub: lease not renewed", "comune", comune, "err", err)
			}
		case !ok:
			end(errLost)
			return
		}
	}
}

// problem logs p, one line each: at Error for what a file's loss or damage
// may be, at Warn for a file without a digest, which `faldone verify
// --fill` gives one.
func (s *Scrubber) problem(comune string, p verify.Problem) {
	level := slog.LevelError
	if p.Kind == verify.Unknown {
		level = slog.LevelWarn
	}
	s.log.Log(context.Background(), level, "scrub: file not proved intact",
		"comune", comune, "path", p.Path, "kind", string(p.Kind), "detail", p.Detail)
	if s.opts.Problem != nil {
		s.opts.Problem(comune, p)
	}
}
