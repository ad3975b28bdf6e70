package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// memStore is a store that keeps records in memory, skips keys it holds,
// as the real stores do, and fails while told to.
type memStore struct {
	mu      sync.Mutex
	recs    []state.AuditRecord
	keys    map[string]bool
	failing bool
	calls   int
	sent    int // records received, duplicates included
}

func (m *memStore) AppendAudit(ctx context.Context, recs []state.AuditRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.failing {
		return errors.New("store down")
	}
	if m.keys == nil {
		m.keys = map[string]bool{}
	}
	m.sent += len(recs)
	for _, r := range recs {
		if r.Key != "" && m.keys[r.Key] {
			continue
		}
		m.keys[r.Key] = true
		m.recs = append(m.recs, r)
	}
	return nil
}

func (m *memStore) fail(b bool) {
	m.mu.Lock()
	m.failing = b
	m.mu.Unlock()
}

func (m *memStore) paths() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var p []string
	for _, r := range m.recs {
		p = append(p, r.Path)
	}
	return p
}

func record(i int) state.AuditRecord {
	return state.AuditRecord{Time: time.Unix(1_700_000_000+int64(i), 0).UTC(), RequestID: fmt.Sprint("r", i),
		Method: "GET", Path: fmt.Sprintf("/guastalla/%06d", i), Comune: "guastalla", Status: 200, Client: "192.0.2.1"}
}

func paths(from, to int) []string {
	var p []string
	for i := from; i < to; i++ {
		p = append(p, record(i).Path)
	}
	return p
}

func open(t *testing.T, dir string, st Store, opt Options) *Log {
	t.Helper()
	opt.Dir = dir
	l, err := Open(opt, st)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func recordAll(t *testing.T, l *Log, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := l.Record(record(i)); err != nil {
			t.Fatalf("Record %d: %v", i, err)
		}
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	seqs, err := segments(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range seqs {
		names = append(names, segmentName(s))
	}
	return names
}

// TestShipsInOrderOnce: records reach the store in the order recorded, each
// once, and the JSON lines in the same order; the spool empties.
func TestShipsInOrderOnce(t *testing.T) {
	st := &memStore{}
	var lines bytes.Buffer
	var linesMu sync.Mutex
	l := open(t, t.TempDir(), st, Options{Lines: lockedWriter{&linesMu, &lines}})
	l.Start()
	var wg sync.WaitGroup
	for g := range 4 { // concurrent writers: the spool's order is the store's
		wg.Add(1)
		go func() {
			defer wg.Done()
			recordAll(t, l, g*250, (g+1)*250)
		}()
	}
	wg.Wait()
	waitFor(t, "1000 records shipped", func() bool { return len(st.paths()) == 1000 })
	if err := l.Close(time.Second); err != nil {
		t.Fatal(err)
	}
	var fromLines []string
	for _, ln := range strings.Split(strings.TrimSpace(lines.String()), "\n") {
		var v struct{ Path, Key string }
		if err := json.Unmarshal([]byte(ln), &v); err != nil || v.Key == "" {
			t.Fatalf("JSON line %q: %v, key %q", ln, err, v.Key)
		}
		fromLines = append(fromLines, v.Path)
	}
	if got := st.paths(); !slices.Equal(got, fromLines) {
		t.Error("the store's order is not the JSON lines' order")
	}
	got := slices.Clone(st.paths())
	slices.Sort(got)
	if !slices.Equal(got, paths(0, 1000)) {
		t.Error("the store does not hold each record once")
	}
	if l.Backlog() != 0 || st.sent != 1000 {
		t.Errorf("backlog %d, %d records sent; want 0 and 1000", l.Backlog(), st.sent)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
}

// TestOutageAndRestart: with the store down, recording goes on and nothing
// is shipped; records left at Close are shipped by the next process, in
// order, after those of the outage; a cursor that fell behind (a kill
// between the store's write and the cursor's) ships records again, which
// the store's keys skip.
func TestOutageAndRestart(t *testing.T) {
	dir := t.TempDir()
	st := &memStore{}
	st.fail(true)
	l := open(t, dir, st, Options{})
	l.Start()
	recordAll(t, l, 0, 100)
	waitFor(t, "the store was tried", func() bool { st.mu.Lock(); defer st.mu.Unlock(); return st.calls > 0 })
	if l.Backlog() == 0 {
		t.Fatal("no backlog while the store is down")
	}
	st.fail(false)
	waitFor(t, "the outage's records shipped after the store came back", func() bool { return len(st.paths()) == 100 })
	st.fail(true)
	recordAll(t, l, 100, 150)
	l.Close(100 * time.Millisecond)

	st.fail(false)
	l = open(t, dir, st, Options{})
	l.Start()
	waitFor(t, "the records of the earlier run shipped", func() bool { return len(st.paths()) == 150 })
	recordAll(t, l, 150, 160)
	waitFor(t, "new records shipped after them", func() bool { return len(st.paths()) == 160 })
	l.Close(time.Second)
	if got := st.paths(); !slices.Equal(got, paths(0, 160)) {
		t.Errorf("the store holds %d records, not in order or not once", len(got))
	}

	// The cursor back at the start of the last segment: its records go
	// again, and the store keeps one of each.
	segs := spoolFiles(t, dir)
	if len(segs) != 1 {
		t.Fatalf("spool holds %v, want only the last run's segment", segs)
	}
	var seq uint64
	fmt.Sscanf(segs[0], "%d", &seq)
	if err := writeCursor(dir, cursor{seq: seq}); err != nil {
		t.Fatal(err)
	}
	sent := st.sent
	l = open(t, dir, st, Options{})
	l.Start()
	waitFor(t, "the segment shipped again", func() bool { st.mu.Lock(); defer st.mu.Unlock(); return st.sent == sent+10 })
	l.Close(time.Second)
	if got := st.paths(); !slices.Equal(got, paths(0, 160)) {
		t.Errorf("after shipping again the store holds %d records", len(got))
	}
}

// TestTornLine: a line cut short by a power failure is skipped, with a log
// line; the records after it are shipped.
func TestTornLine(t *testing.T) {
	dir := t.TempDir()
	st := &memStore{}
	st.fail(true)
	l := open(t, dir, st, Options{})
	recordAll(t, l, 0, 3)
	l.Close(0)
	segs := spoolFiles(t, dir)
	f, err := os.OpenFile(filepath.Join(dir, segs[len(segs)-1]), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"key":"x","time":"2026-`)
	f.Close()
	st.fail(false)
	var logs bytes.Buffer
	l = open(t, dir, st, Options{Log: slogTo(&logs)})
	l.Start()
	recordAll(t, l, 3, 5)
	waitFor(t, "the records around the torn line shipped", func() bool { return len(st.paths()) == 5 })
	l.Close(time.Second)
	if !slices.Equal(st.paths(), paths(0, 5)) {
		t.Errorf("store holds %v", st.paths())
	}
	if !strings.Contains(logs.String(), "torn") {
		t.Errorf("no log line about the torn line:\n%s", logs.String())
	}
	if l.Backlog() != 0 {
		t.Errorf("backlog %d after everything shipped", l.Backlog())
	}
}

// TestFullSpool: past MaxBytes unshipped, Record refuses and Accepting
// says so, without waiting; once shipped, both take records again.
func TestFullSpool(t *testing.T) {
	st := &memStore{}
	st.fail(true)
	l := open(t, t.TempDir(), st, Options{MaxBytes: 2000})
	l.Start()
	defer l.Close(time.Second)
	var err error
	i := 0
	for ; err == nil && i < 100; i++ {
		err = l.Record(record(i))
	}
	if !errors.Is(err, ErrFull) || l.Accepting() {
		t.Fatalf("after %d records: %v, accepting %v; want ErrFull and not accepting", i, err, l.Accepting())
	}
	st.fail(false)
	waitFor(t, "the spool emptied", func() bool { return l.Backlog() == 0 })
	if !l.Accepting() || l.Record(record(i)) != nil {
		t.Error("not taking records after the spool emptied")
	}
}

// TestSegments: the spool moves to a new segment past segmentBytes, and
// removes the segments shipped.
func TestSegments(t *testing.T) {
	dir := t.TempDir()
	st := &memStore{}
	l := open(t, dir, st, Options{})
	l.Start()
	big := record(0)
	big.Destination = strings.Repeat("d", 2000)
	n := 3 * segmentBytes / 2000
	for i := range n {
		big.Path = record(i).Path
		if err := l.Record(big); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "all shipped", func() bool { return len(st.paths()) == n })
	waitFor(t, "the shipped segments removed", func() bool { return len(spoolFiles(t, dir)) == 1 })
	l.Close(time.Second)
	if !slices.Equal(st.paths(), paths(0, n)) {
		t.Error("records across segments not in order, or not once")
	}
}

// TestOneProcess: a second Log on the same spool is refused while the
// first holds it.
func TestOneProcess(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, &memStore{}, Options{})
	if _, err := Open(Options{Dir: dir}, &memStore{}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second Open: %v, want in use", err)
	}
	l.Close(0)
	l2 := open(t, dir, &memStore{}, Options{})
	l2.Close(0)
}

// TestValidText: the spool, the JSON lines and the store get one form of a
// path with invalid UTF-8.
func TestValidText(t *testing.T) {
	st := &memStore{}
	var lines bytes.Buffer
	l := open(t, t.TempDir(), st, Options{Lines: &lines})
	l.Start()
	r := record(0)
	r.Path, r.Target = "/guastalla/\xc0\xae", "/guastalla/%c0%ae"
	l.Record(r)
	waitFor(t, "shipped", func() bool { return len(st.paths()) == 1 })
	l.Close(time.Second)
	want := "/guastalla/\ufffd\ufffd"
	if st.paths()[0] != want {
		t.Errorf("store path %+q, want %+q", st.paths()[0], want)
	}
	var v struct{ Path, Target string }
	json.Unmarshal(lines.Bytes(), &v)
	if v.Path != want || v.Target != r.Target {
		t.Errorf("JSON line path %+q target %q", v.Path, v.Target)
	}
}

func slogTo(b *bytes.Buffer) *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }
