package statetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// Leases.

// take is TakeLease, failing the test on an error.
func take(t *testing.T, s state.LeaseStore, name, holder string, ttl time.Duration, at time.Time) bool {
	t.Helper()
	ok, err := s.TakeLease(t.Context(), name, holder, ttl, at)
	if err != nil {
		t.Fatalf("TakeLease(%q, %q, %v, %v): %v", name, holder, ttl, at, err)
	}
	return ok
}

func release(t *testing.T, s state.LeaseStore, name, holder string) {
	t.Helper()
	if err := s.ReleaseLease(t.Context(), name, holder); err != nil {
		t.Fatalf("ReleaseLease(%q, %q): %v", name, holder, err)
	}
}

// testLeaseOneHolder: a lease has one holder at a time; names are
// independent of each other, and holders are compared as they are.
func testLeaseOneHolder(t *testing.T, open func(*testing.T) state.LeaseStore) {
	s := open(t)
	n := now()
	steps := []struct {
		name, holder string
		want         bool
	}{
		{"scrub:guastalla", "replica-a", true},
		{"scrub:guastalla", "replica-b", false},
		{"scrub:guastalla", "Replica-A", false}, // case matters
		{"scrub:guastalla", "replica-a", true},  // its holder takes it again
		{"scrub:luzzara", "replica-b", true},    // another name is another lease
		{"scrub:Guastalla", "replica-b", true},
		{"scrub:città di Guastalla – 日本語", "replica-b", true},
		{"scrub:città di Guastalla – 日本語", "replica-a", false},
		{"scrub:luzzara", "replica-a", false},
	}
	for i, st := range steps {
		if got := take(t, s, st.name, st.holder, time.Minute, n.Add(time.Duration(i)*time.Second)); got != st.want {
			t.Errorf("step %d: %s takes %q: %v, want %v", i, st.holder, st.name, got, st.want)
		}
	}
}

// testLeaseExpiry: an expired lease is free at its expiry, not before, and
// then its old holder has lost it.
func testLeaseExpiry(t *testing.T, open func(*testing.T) state.LeaseStore) {
	s := open(t)
	n := now()
	const name = "scrub:boretto"
	if !take(t, s, name, "a", time.Minute, n) {
		t.Fatal("a could not take a new lease")
	}
	if take(t, s, name, "b", time.Minute, n.Add(time.Minute-time.Microsecond)) {
		t.Error("b took the lease a microsecond before it expired")
	}
	if !take(t, s, name, "b", 10*time.Minute, n.Add(time.Minute)) {
		t.Fatal("b could not take the lease as it expired")
	}
	if take(t, s, name, "a", time.Minute, n.Add(2*time.Minute)) {
		t.Error("a took back the lease b holds")
	}
	// Judged by the now given, not by the store's clock: long expired.
	if !take(t, s, name, "c", time.Minute, n.Add(24*time.Hour)) {
		t.Error("c could not take a lease expired a day ago")
	}
}

// testLeaseRenew: the holder's take renews the lease from its now, longer
// or shorter than before, and renews an expired lease that nobody took.
func testLeaseRenew(t *testing.T, open func(*testing.T) state.LeaseStore) {
	s := open(t)
	n := now()
	const name = "scrub:brescello"
	take(t, s, name, "a", time.Minute, n)
	if !take(t, s, name, "a", time.Minute, n.Add(50*time.Second)) {
		t.Fatal("a could not renew its lease")
	}
	if take(t, s, name, "b", time.Minute, n.Add(90*time.Second)) {
		t.Error("b took the lease before its renewed expiry")
	}
	// A renewal may shorten it: a pass that ends early holds it less.
	if !take(t, s, name, "a", time.Second, n.Add(100*time.Second)) {
		t.Fatal("a could not renew its lease for a second")
	}
	if !take(t, s, name, "b", time.Minute, n.Add(101*time.Second)) {
		t.Error("b could not take the lease once the shorter renewal ended")
	}
	// Expired and not taken: its holder may have it again.
	take(t, s, "scrub:poviglio", "a", time.Minute, n)
	if !take(t, s, "scrub:poviglio", "a", time.Minute, n.Add(time.Hour)) {
		t.Error("a could not take again its expired lease that nobody took")
	}
}

// testLeaseRelease: only the holder frees a lease; releasing what is not
// held is no error.
func testLeaseRelease(t *testing.T, open func(*testing.T) state.LeaseStore) {
	s := open(t)
	n := now()
	const name = "scrub:reggiolo"
	take(t, s, name, "a", time.Hour, n)
	release(t, s, name, "b")
	if take(t, s, name, "b", time.Hour, n) {
		t.Error("b took the lease after releasing a lease it did not hold")
	}
	release(t, s, name, "a")
	if !take(t, s, name, "b", time.Hour, n) {
		t.Fatal("b could not take the lease a released")
	}
	release(t, s, name, "a") // a's no longer: b keeps it
	if take(t, s, name, "c", time.Hour, n) {
		t.Error("a's late release freed the lease b took")
	}
	release(t, s, "scrub:nessuno", "a")
	release(t, s, "scrub:caff\xe8", "a\x00") // not storable: never taken
}

// testLeaseRefused: what no store may hold as a lease is refused, and
// changes nothing.
func testLeaseRefused(t *testing.T, open func(*testing.T) state.LeaseStore) {
	s := open(t)
	n := now()
	tests := []struct {
		what, name, holder string
		ttl                time.Duration
		now                time.Time
	}{
		{"no name", "", "a", time.Minute, n},
		{"no holder", "scrub:x", "", time.Minute, n},
		{"a zero ttl", "scrub:x", "a", 0, n},
		{"a negative ttl", "scrub:x", "a", -time.Minute, n},
		{"a zero now", "scrub:x", "a", time.Minute, time.Time{}},
		{"a name not UTF-8", "scrub:caff\xe8", "a", time.Minute, n},
		{"a NUL in the holder", "scrub:x", "a\x00b", time.Minute, n},
	}
	for _, tt := range tests {
		if ok, err := s.TakeLease(t.Context(), tt.name, tt.holder, tt.ttl, tt.now); err == nil {
			t.Errorf("TakeLease with %s: %v, no error", tt.what, ok)
		}
	}
	if !take(t, s, "scrub:x", "b", time.Minute, n) {
		t.Error("a refused take left the lease held")
	}
}

// testConcurrentTakeLease has holders race for a lease, new and then
// expired: exactly one gets it each time, and the others see it held.
func testConcurrentTakeLease(t *testing.T, open func(*testing.T) state.LeaseStore) {
	s := open(t)
	const racers = 20
	n := now()
	race := func(round string, at time.Time) string {
		var (
			wg     sync.WaitGroup
			wins   atomic.Int32
			winner atomic.Value
		)
		start := make(chan struct{})
		for i := range racers {
			holder := fmt.Sprintf("%s-%02d", round, i)
			wg.Go(func() {
				<-start
				ok, err := s.TakeLease(t.Context(), "scrub:guastalla", holder, time.Minute, at)
				if err != nil {
					t.Errorf("TakeLease by %s: %v", holder, err)
					return
				}
				if ok {
					wins.Add(1)
					winner.Store(holder)
				}
			})
		}
		close(start)
		wg.Wait()
		if got := wins.Load(); got != 1 {
			t.Fatalf("%s: %d of %d holders got the lease, want exactly 1", round, got, racers)
		}
		return winner.Load().(string)
	}
	first := race("new", n)
	second := race("expired", n.Add(time.Minute))
	if take(t, s, "scrub:guastalla", first, time.Minute, n.Add(time.Minute+time.Second)) {
		t.Errorf("%s, who lost the lease, took it back from %s", first, second)
	}
}
