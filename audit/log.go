// Package audit keeps the access log, a legal record: every request to the
// archive and every refusal. A record is written first to a local
// append-only spool, before the request's answer is complete, and shipped
// from there to the state store, in order and exactly once, across outages
// of the store and restarts of the process, kill -9 included: the spool
// survives them, and each record's key lets the store skip a record it
// already holds when a batch whose outcome was unknown is shipped again.
//
// Recording never waits for the store. The spool is bounded; when it is
// full, or cannot be written, Accepting reports false and the gateway
// refuses requests rather than serve them unrecorded.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// Store is where the log is shipped to.
type Store interface {
	AppendAudit(ctx context.Context, recs []state.AuditRecord) error
}

var (
	// ErrFull: the spool holds Options.MaxBytes not yet shipped.
	ErrFull = errors.New("audit spool full")
	// ErrClosed: the log is closed.
	ErrClosed = errors.New("audit log closed")
)

// Options configure a Log. Zero values take the defaults.
type Options struct {
	// Dir is the spool's folder, created 0700 when missing.
	Dir string
	// Lines receives every record as a JSON line, in the spool's order, as
	// it is recorded (audit.jsonl, or standard output). May be nil.
	Lines io.Writer
	// MaxBytes bounds what the spool holds unshipped: a store down for
	// long fills it, and then requests are refused (default 1 GiB, some
	// three million records).
	MaxBytes int64
	// ShipTimeout bounds each write to the store (default 5 s).
	ShipTimeout time.Duration
	// Batch is the most records shipped in one write (default 500).
	Batch int
	// Linger is how long the shipper lets records gather before a write
	// that would not be a whole batch (default 20 ms): under load one
	// write, and one commit on the store's disk, carries the records of
	// many requests rather than one or two.
	Linger time.Duration
	// Log receives the log's own troubles.
	Log *slog.Logger
}

// Log is the access log. Record is safe for concurrent use; Start ships.
type Log struct {
	opt   Options
	store Store
	lock  *os.File

	mu      sync.Mutex
	seg     *os.File // the segment being written
	segSeq  uint64
	segSize int64
	closed  bool
	running bool
	failed  time.Time // when the last spool write failed, zero once one succeeds
	full    int64     // the backlog when a record was refused for want of room, 0 once one is taken

	pending atomic.Int64 // bytes in the spool not yet shipped
	dirty   atomic.Bool  // written since the last sync
	shipped atomic.Int64 // records shipped, for metrics
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	drain   time.Duration
}

// Open opens the spool in opt.Dir, taking it for this process, and starts
// a new segment; what earlier runs left unshipped is shipped first once Start is called.
func Open(opt Options, store Store) (*Log, error) {
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = 1 << 30
	}
	if opt.ShipTimeout <= 0 {
		opt.ShipTimeout = 5 * time.Second
	}
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	if opt.Linger <= 0 {
		opt.Linger = 20 * time.Millisecond
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(opt.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit spool: %w", err)
	}
	lock, err := lockDir(opt.Dir)
	if err != nil {
		return nil, fmt.Errorf("audit spool: %w", err)
	}
	l := &Log{opt: opt, store: store, lock: lock, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if err := l.recover(); err != nil {
		lock.Close()
		return nil, fmt.Errorf("audit spool %s: %w", opt.Dir, err)
	}
	return l, nil
}

// recover removes the segments already shipped, counts what is left and
// opens the next segment.
func (l *Log) recover() error {
	c, err := readCursor(l.opt.Dir)
	if err != nil {
		return err
	}
	seqs, err := segments(l.opt.Dir)
	if err != nil {
		return err
	}
	var left int64
	for _, seq := range seqs {
		name := filepath.Join(l.opt.Dir, segmentName(seq))
		if seq < c.seq {
			if err := os.Remove(name); err != nil {
				return err
			}
			continue
		}
		fi, err := os.Stat(name)
		if err != nil {
			return err
		}
		left += fi.Size()
		if seq == c.seq {
			left -= min(c.off, fi.Size())
		}
	}
	l.pending.Store(left)
	if left > 0 {
		l.opt.Log.Info("audit: records left in the spool by an earlier run will be shipped", "bytes", left)
	}
	next := c.seq
	if len(seqs) > 0 {
		next = max(next, seqs[len(seqs)-1]+1)
	}
	return l.openSegment(next)
}

// openSegment makes seq the segment being written. l.mu is held, or l is
// not yet shared.
func (l *Log) openSegment(seq uint64) error {
	f, err := os.OpenFile(filepath.Join(l.opt.Dir, segmentName(seq)), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if l.seg != nil {
		// The old segment is complete: make it durable before it is left.
		l.seg.Sync()
		l.seg.Close()
	}
	l.seg, l.segSeq, l.segSize = f, seq, 0
	return nil
}

// prepare gives r the one form every sink has: its text made valid, a key
// when it has none; and its JSON line.
func prepare(r state.AuditRecord) (state.AuditRecord, []byte, error) {
	r = r.Valid()
	if r.Key == "" {
		r.Key = NewKey()
	}
	b, err := encode(r)
	if err != nil {
		return r, nil, fmt.Errorf("audit: encode record: %w", err)
	}
	return r, b, nil
}

// NewKey returns a key no other record has: 128 random bits.
func NewKey() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Record writes r to the spool, and to Lines, with its text made valid and
// a key when it has none. It returns when the record is in the spool
// file, which a kill of the process does not lose; a power failure may
// lose the last second (the spool is synced every second). It never waits
// for the store.
func (l *Log) Record(r state.AuditRecord) error {
	r, b, err := prepare(r)
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	if p := l.pending.Load(); p+int64(len(b)) > l.opt.MaxBytes {
		l.full = max(p, 1)
		return ErrFull
	}
	if l.segSize >= segmentBytes {
		if err := l.openSegment(l.segSeq + 1); err != nil {
			l.failed = time.Now()
			return fmt.Errorf("audit: spool: %w", err)
		}
	}
	n, err := l.seg.Write(b)
	l.segSize += int64(n)
	if err != nil {
		// A short line (a full disk) cannot be told from a torn one: the
		// reader skips it, and the next record starts a segment of its own.
		l.failed = time.Now()
		if n > 0 {
			l.segSize = segmentBytes
		}
		return fmt.Errorf("audit: spool: %w", err)
	}
	l.failed, l.full = time.Time{}, 0
	l.pending.Add(int64(n))
	l.dirty.Store(true)
	if l.opt.Lines != nil {
		if _, err := l.opt.Lines.Write(b); err != nil {
			l.opt.Log.Error("audit: JSON lines write failed", "err", err)
		}
	}
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return nil
}

// Accepting reports whether a record would be taken now: the spool has
// room (none was refused for want of it since shipping last made some),
// and its last write succeeded or failed over a second ago (so that a
// request now and then tries the disk again).
func (l *Log) Accepting() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := l.pending.Load()
	return !l.closed && time.Since(l.failed) > time.Second && p < l.opt.MaxBytes && (l.full == 0 || p < l.full)
}

// Backlog is how many bytes of records wait in the spool.
func (l *Log) Backlog() int64 { return l.pending.Load() }

// Shipped is how many records this process has shipped.
func (l *Log) Shipped() int64 { return l.shipped.Load() }

// Start ships the spool to the store, in the background, until Close:
// records as they come, in order, a batch at a time, retrying a failed
// write after a pause of at most a second, so that the log catches up soon
// after the store is back.
func (l *Log) Start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.running || l.closed {
		return
	}
	l.running = true
	go l.run()
}

func (l *Log) run() {
	defer close(l.done)
	s := &shipper{l: l}
	defer s.close()
	if err := s.start(); err != nil {
		l.opt.Log.Error("audit: cannot read the spool; records stay in it for the next start", "err", err)
		<-l.stop
		return
	}
	sync := time.NewTicker(time.Second)
	defer sync.Stop()
	pause := time.Duration(0)
	var failingSince, synced time.Time
	for {
		if time.Since(synced) >= time.Second {
			l.sync()
			synced = time.Now()
		}
		n, err := s.ship()
		switch {
		case err != nil:
			if failingSince.IsZero() {
				failingSince = time.Now()
				l.opt.Log.Error("audit: shipping to the state store failed; records wait in the spool", "err", err, "backlog_bytes", l.Backlog())
			}
			pause = min(max(2*pause, 100*time.Millisecond), time.Second)
		case !failingSince.IsZero():
			l.opt.Log.Info("audit: shipping again", "after", time.Since(failingSince).Round(time.Millisecond), "backlog_bytes", l.Backlog())
			failingSince, pause = time.Time{}, 0
		}
		if err == nil && n > 0 {
			// More may be waiting; a batch that was not full has left
			// the spool's end, where records are still coming.
			if n < l.opt.Batch && !l.linger() {
				s.drain(l.drain)
				return
			}
			continue
		}
		var wait <-chan time.Time
		if pause > 0 {
			wait = time.After(pause)
		}
		select {
		case <-l.stop:
			s.drain(l.drain)
			return
		case <-sync.C:
		case <-l.wake:
			if pause > 0 {
				<-time.After(pause) // a failing store is not asked at every record
			} else if !l.linger() {
				s.drain(l.drain)
				return
			}
		case <-wait:
		}
	}
}

// linger waits Linger, and reports false if the log was closed meanwhile.
func (l *Log) linger() bool {
	t := time.NewTimer(l.opt.Linger)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-l.stop:
		return false
	}
}

// sync makes what was written durable, outside the lock: Record does not
// wait for the disk.
func (l *Log) sync() {
	if !l.dirty.Swap(false) {
		return
	}
	l.mu.Lock()
	f := l.seg
	l.mu.Unlock()
	f.Sync() // a segment closed meanwhile was synced when it was left
}

// Close stops taking records, ships what it can within drain, and closes
// the spool; what is left is shipped at the next start.
func (l *Log) Close(drain time.Duration) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	running := l.running
	l.drain = drain
	l.mu.Unlock()
	close(l.stop)
	if running {
		<-l.done
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.seg.Sync()
	l.seg.Close()
	if left := l.Backlog(); left > 0 {
		l.opt.Log.Warn("audit: records left in the spool, shipped at the next start", "bytes", left)
	}
	l.lock.Close()
	return err
}

// shipper is Run's position in the spool.
type shipper struct {
	l   *Log
	cur cursor
	rd  *reader
}

func (s *shipper) start() error {
	c, err := readCursor(s.l.opt.Dir)
	if err != nil {
		return err
	}
	s.cur = c
	return nil
}

func (s *shipper) close() {
	if s.rd != nil {
		s.rd.f.Close()
	}
}

// ship ships the next batch and returns how many records it held; 0 when
// the spool has nothing more.
func (s *shipper) ship() (int, error) {
	for {
		if s.rd == nil || s.rd.seq != s.cur.seq {
			if err := s.open(); err != nil {
				return 0, err
			}
		}
		recs, next, bad, err := s.rd.batch(s.cur.off, s.l.opt.Batch, 1<<20)
		if err != nil {
			return 0, fmt.Errorf("read spool: %w", err)
		}
		for _, off := range bad {
			s.l.opt.Log.Error("audit: a spool line that does not decode (torn by a power failure?) is skipped",
				"segment", segmentName(s.cur.seq), "offset", off)
		}
		if next == s.cur.off {
			// Nothing whole left in this segment: go on to the next, if
			// this one is no longer written.
			s.l.mu.Lock()
			writing := s.l.segSeq
			s.l.mu.Unlock()
			if s.cur.seq >= writing {
				return 0, nil
			}
			if err := s.finish(); err != nil {
				return 0, err
			}
			continue
		}
		if len(recs) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), s.l.opt.ShipTimeout)
			err := s.l.store.AppendAudit(ctx, recs)
			cancel()
			if err != nil {
				return 0, err
			}
		}
		s.l.pending.Add(-(next - s.cur.off))
		s.l.shipped.Add(int64(len(recs)))
		s.cur.off = next
		if err := writeCursor(s.l.opt.Dir, s.cur); err != nil {
			return len(recs), fmt.Errorf("write spool cursor: %w", err)
		}
		return max(len(recs), 1), nil
	}
}

// open opens the cursor's segment, or the first one after it when it is
// gone.
func (s *shipper) open() error {
	s.close()
	s.rd = nil
	f, err := os.Open(filepath.Join(s.l.opt.Dir, segmentName(s.cur.seq)))
	if errors.Is(err, os.ErrNotExist) {
		seqs, err := segments(s.l.opt.Dir)
		if err != nil {
			return err
		}
		for _, seq := range seqs {
			if seq > s.cur.seq {
				s.cur = cursor{seq: seq}
				return s.open()
			}
		}
		return fmt.Errorf("no spool segment from %d on", s.cur.seq)
	}
	if err != nil {
		return err
	}
	s.rd = &reader{f: f, seq: s.cur.seq}
	return nil
}

// finish leaves a segment read to its end: the cursor moves to the next
// one, then the file goes. What is past the last whole line (a torn tail)
// is counted as shipped.
func (s *shipper) finish() error {
	name := filepath.Join(s.l.opt.Dir, segmentName(s.cur.seq))
	if fi, err := s.rd.f.Stat(); err == nil && fi.Size() > s.cur.off {
		s.l.opt.Log.Error("audit: a torn line at the end of a spool segment is skipped", "segment", segmentName(s.cur.seq), "bytes", fi.Size()-s.cur.off)
		s.l.pending.Add(-(fi.Size() - s.cur.off))
	}
	s.cur = cursor{seq: s.cur.seq + 1}
	if err := writeCursor(s.l.opt.Dir, s.cur); err != nil {
		return fmt.Errorf("write spool cursor: %w", err)
	}
	s.close()
	s.rd = nil
	return os.Remove(name)
}

// drain ships what is left, for at most d.
func (s *shipper) drain(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		n, err := s.ship()
		if err != nil {
			time.Sleep(min(100*time.Millisecond, time.Until(deadline)))
			continue
		}
		if n == 0 {
			return
		}
	}
}

// requestIDKey is the context key of the request id.
type requestIDKey struct{}

// WithRequestID returns ctx carrying the id the access log gave the
// request, for whoever records in its name (the pages' actions).
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the id WithRequestID put in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Client is the client address the access log records for r: the host of
// its RemoteAddr, which the forwarding handler has set from a trusted
// proxy's headers where there is one.
func Client(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
