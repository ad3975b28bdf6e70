package scrub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/archive/verify"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends/local"
	"github.com/bassareggiana/faldone/state/sqlite"
)

type allowAll struct{}

func (allowAll) Decide(access.Action, string) access.Verdict { return access.Allow }

// clock is the leases' time, which the tests move on.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fixture is an archive on a local disk, whose root folders are the
// Comuni, with its files written through the archive (which records their
// digests), and a SQLite store that every scrubber of a test shares, as
// replicas share theirs.
type fixture struct {
	disk  string
	fs    *local.Backend
	st    *sqlite.Store
	clock *clock
	files []string // namespace paths
}

// newFixture writes perComune files of size bytes into each Comune.
func newFixture(t *testing.T, comuni []string, perComune, size int) *fixture {
	t.Helper()
	f := &fixture{disk: t.TempDir(), clock: &clock{t: time.Now().Truncate(time.Microsecond)}}
	var err error
	if f.fs, err = local.New(f.disk); err != nil {
		t.Fatal(err)
	}
	if f.st, err = sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.st.Close() })
	op := archive.New(f.fs, f.st, archive.Options{}).Begin(t.Context(), archive.Caller{Policy: allowAll{}})
	for _, c := range comuni {
		if err := os.MkdirAll(filepath.Join(f.disk, c, "pratica"), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range perComune {
			p := fmt.Sprintf("/%s/pratica/file-%d.pdf", c, i)
			body := strings.Repeat(fmt.Sprintf("%s %d ", c, i), size)[:size]
			if _, _, err := op.Put(p, strings.NewReader(body), int64(size)); err != nil {
				t.Fatalf("Put %s: %v", p, err)
			}
			f.files = append(f.files, p)
		}
	}
	return f
}

// scrubber returns a Scrubber of the fixture's archive on its clock.
func (f *fixture) scrubber(t *testing.T, comuni []string, opts Options) *Scrubber {
	t.Helper()
	if opts.Interval == 0 {
		opts.Interval = time.Hour
	}
	s, err := New(f.fs, f.st, comuni, opts)
	if err != nil {
		t.Fatal(err)
	}
	s.now = f.clock.now
	return s
}

// logLines is a JSON log, read back a record at a time.
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logLines) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(l, nil)) }

// records returns the records whose message is msg.
func (l *logLines) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r["msg"] == msg {
			out = append(out, r)
		}
	}
	return out
}

// TestTwoScrubbers: two scrubbers on one store, as two replicas, scrub at
// once: each file is read once, by one of them, and each of them scrubs a
// part; at once again nothing is due; an interval later everything is,
// once again.
func TestTwoScrubbers(t *testing.T) {
	comuni := []string{"boretto", "brescello", "gualtieri", "guastalla"}
	// 300 kB a Comune at 1.5 MB/s: 200 ms each, so that both are at work
	// at the same time.
	f := newFixture(t, comuni, 3, 100_000)
	var (
		mu   sync.Mutex
		read = map[string][]int{} // path: the scrubbers that read it
	)
	scrubbers := make([]*Scrubber, 2)
	for i := range scrubbers {
		scrubbers[i] = f.scrubber(t, comuni, Options{Rate: 1_500_000, Checked: func(_, p string, _ int64) {
			mu.Lock()
			read[p] = append(read[p], i)
			mu.Unlock()
		}})
	}
	pass := func() [2]int {
		var (
			wg   sync.WaitGroup
			done [2]int
		)
		start := make(chan struct{})
		for i, s := range scrubbers {
			wg.Go(func() {
				<-start
				done[i] = s.Pass(t.Context())
			})
		}
		close(start)
		wg.Wait()
		return done
	}
	check := func(round string) {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		for _, p := range f.files {
			if len(read[p]) != 1 {
				t.Errorf("%s: %s read by the scrubbers %v, want by one", round, p, read[p])
			}
		}
		if len(read) != len(f.files) {
			t.Errorf("%s: %d files read, want %d", round, len(read), len(f.files))
		}
		clear(read)
	}

	done := pass()
	if done[0] < 1 || done[1] < 1 || done[0]+done[1] != len(comuni) {
		t.Errorf("the scrubbers scrubbed %v Comuni, want each some and %d in all", done, len(comuni))
	}
	check("first pass")

	if again := pass(); again != [2]int{} {
		t.Errorf("at once again, the scrubbers scrubbed %v Comuni, want none", again)
	}
	mu.Lock()
	if len(read) != 0 {
		t.Errorf("at once again, files were read: %v", read)
	}
	mu.Unlock()

	f.clock.advance(time.Hour)
	if done := pass(); done[0]+done[1] != len(comuni) {
		t.Errorf("an interval later, the scrubbers scrubbed %v Comuni, want %d in all", done, len(comuni))
	}
	check("an interval later")
}

// TestProblems: each problem is one log line, at Error for a file changed
// or gone and at Warn for one without a digest, and is told to Problem;
// the scrub records no digest.
func TestProblems(t *testing.T) {
	f := newFixture(t, []string{"luzzara"}, 3, 100)
	changed, gone, unknown := f.files[0], f.files[1], "/luzzara/pratica/nuovo.pdf"
	if err := os.WriteFile(filepath.Join(f.disk, changed), []byte("cambiato da un altro programma"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(f.disk, gone)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(f.disk, unknown), []byte("nuovo"), 0o644); err != nil {
		t.Fatal(err)
	}
	var (
		log  logLines
		told []string
	)
	s := f.scrubber(t, []string{"luzzara"}, Options{Log: log.logger(), Problem: func(c string, p verify.Problem) {
		told = append(told, c+" "+string(p.Kind)+" "+p.Path)
	}})
	if n := s.Pass(t.Context()); n != 1 {
		t.Fatalf("Pass scrubbed %d Comuni, want 1", n)
	}
	want := map[string]struct{ kind, level string }{
		changed: {"changed", "ERROR"}, gone: {"missing", "ERROR"}, unknown: {"unknown", "WARN"},
	}
	lines := log.records(t, "scrub: file not proved intact")
	if len(lines) != len(want) {
		t.Errorf("%d problem lines, want %d: %v", len(lines), len(want), lines)
	}
	for _, r := range lines {
		p, _ := r["path"].(string)
		w, ok := want[p]
		if !ok || r["kind"] != w.kind || r["level"] != w.level || r["comune"] != "luzzara" || r["detail"] == "" {
			t.Errorf("problem line %v; want kind %q at %s for %q", r, w.kind, w.level, p)
		}
		delete(want, p)
	}
	if len(want) > 0 {
		t.Errorf("no line for %v", want)
	}
	if len(told) != 3 {
		t.Errorf("Problem told %q, want 3", told)
	}
	if sums := log.records(t, "scrub: Comune verified"); len(sums) != 1 || sums[0]["changed"] != 1.0 || sums[0]["missing"] != 1.0 || sums[0]["unknown"] != 1.0 {
		t.Errorf("summary lines %v", sums)
	}
	ds, err := f.st.DigestsOf(t.Context(), []string{changed, unknown})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ds[unknown]; ok || len(ds) != 1 {
		t.Errorf("after the scrub the store holds %v; want the changed file's old digest only", ds)
	}
}

// TestLeaseOfAnother: a Comune whose lease another replica holds (and then
// leaves to expire, as a crashed one would) is not scrubbed until the lease
// expires.
func TestLeaseOfAnother(t *testing.T) {
	comuni := []string{"novellara", "poviglio"}
	f := newFixture(t, comuni, 2, 100)
	if ok, err := f.st.TakeLease(t.Context(), "scrub:novellara", "crashed", time.Minute, f.clock.now()); err != nil || !ok {
		t.Fatalf("TakeLease: %v, %v", ok, err)
	}
	var read []string
	s := f.scrubber(t, comuni, Options{Checked: func(_, p string, _ int64) { read = append(read, p) }})
	if n := s.Pass(t.Context()); n != 1 || len(read) != 2 || !strings.HasPrefix(read[0], "/poviglio/") {
		t.Errorf("with novellara's lease held: %d Comuni scrubbed, files %q; want poviglio's", n, read)
	}
	read = nil
	f.clock.advance(time.Minute)
	if n := s.Pass(t.Context()); n != 1 || len(read) != 2 || !strings.HasPrefix(read[0], "/novellara/") {
		t.Errorf("once the lease expired: %d Comuni scrubbed, files %q; want novellara's", n, read)
	}
}

// TestStopReleases: a scrub stopped half-way releases its lease, so that
// another replica takes the Comune at once, and Run returns.
func TestStopReleases(t *testing.T) {
	f := newFixture(t, []string{"reggiolo"}, 3, 100_000)
	ctx, cancel := context.WithCancel(t.Context())
	var log logLines
	// 100 kB/s: 3 s for the Comune, stopped after its first file.
	s := f.scrubber(t, []string{"reggiolo"}, Options{Rate: 100_000, Log: log.logger(),
		Checked: func(string, string, int64) { cancel() }})
	returned := make(chan struct{})
	go func() {
		s.Run(ctx)
		close(returned)
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return once its context ended")
	}
	if ok, err := f.st.TakeLease(t.Context(), "scrub:reggiolo", "another", time.Minute, f.clock.now()); err != nil || !ok {
		t.Errorf("another replica's TakeLease after the stop: %v, %v; want the lease free", ok, err)
	}
	if len(log.records(t, "scrub: stopped")) != 1 || len(log.records(t, "scrub: Comune verified")) != 0 {
		t.Errorf("log:\n%s", log.buf.String())
	}
}

// TestLeaseLost: a scrub whose lease another replica took (its renewals
// late, the store out) stops at the next renewal and leaves the lease to
// that replica.
func TestLeaseLost(t *testing.T) {
	f := newFixture(t, []string{"gualtieri"}, 3, 100_000)
	var log logLines
	var s *Scrubber
	once := sync.OnceFunc(func() {
		// As if the lease had expired and another replica had taken it: at
		// a time past any lease the scrub holds, whatever its renewals
		// (late on a loaded machine) made of it.
		ctx := context.Background()
		if ok, err := f.st.TakeLease(ctx, "scrub:gualtieri", "thief", time.Hour, f.clock.now().Add(time.Hour)); err != nil || !ok {
			t.Errorf("TakeLease by the other replica: %v, %v", ok, err)
		}
	})
	// 100 kB/s: 3 s for the Comune; renewals every 30 ms.
	s = f.scrubber(t, []string{"gualtieri"}, Options{Rate: 100_000, Lease: 90 * time.Millisecond, Log: log.logger(),
		Checked: func(string, string, int64) { once() }})
	began := time.Now()
	if n := s.Pass(t.Context()); n != 0 {
		t.Errorf("Pass scrubbed %d Comuni to their end, want 0", n)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("the scrub went on for %v after losing its lease", took)
	}
	if len(log.records(t, "scrub: stopped, another replica took the lease")) != 1 {
		t.Errorf("log:\n%s", log.buf.String())
	}
	if ok, err := f.st.TakeLease(t.Context(), "scrub:gualtieri", "third", time.Minute, f.clock.now()); err != nil || ok {
		t.Errorf("a third replica's TakeLease: %v, %v; want the lease still the other's", ok, err)
	}
}

// TestFailedPassRetried: a Comune that cannot be scrubbed (its storage
// gone) is logged, and tried again after Retry, not at every Poll.
func TestFailedPassRetried(t *testing.T) {
	f := newFixture(t, []string{"boretto"}, 1, 100)
	var log logLines
	s := f.scrubber(t, []string{"boretto", "assente"}, Options{Retry: 10 * time.Minute, Log: log.logger()})
	if n := s.Pass(t.Context()); n != 1 {
		t.Errorf("Pass scrubbed %d Comuni, want 1", n)
	}
	failed := func() int { return len(log.records(t, "scrub: Comune not verified")) }
	if failed() != 1 {
		t.Fatalf("log:\n%s", log.buf.String())
	}
	f.clock.advance(9 * time.Minute)
	s.Pass(t.Context())
	if failed() != 1 {
		t.Errorf("tried again before Retry: %d failures logged", failed())
	}
	f.clock.advance(time.Minute)
	s.Pass(t.Context())
	if failed() != 2 {
		t.Errorf("not tried again after Retry: %d failures logged", failed())
	}
}
