package statetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// Notices.

// claim is ClaimNotice, failing the test on an error.
func claim(t *testing.T, s state.NoticeStore, kind, key string, max int, at time.Time) bool {
	t.Helper()
	ok, err := s.ClaimNotice(t.Context(), kind, key, max, at, at.AddDate(0, 0, 30))
	if err != nil {
		t.Fatalf("ClaimNotice(%q, %q, %d): %v", kind, key, max, err)
	}
	return ok
}

func finish(t *testing.T, s state.NoticeStore, kind, key string, outcome state.NoticeState, at time.Time) {
	t.Helper()
	if err := s.FinishNotice(t.Context(), kind, key, outcome, at); err != nil {
		t.Fatalf("FinishNotice(%q, %q, %v): %v", kind, key, outcome, err)
	}
}

// checkNotice checks the state and attempts of a notice.
func checkNotice(t *testing.T, s state.NoticeStore, kind, key string, st state.NoticeState, attempts int, updated time.Time) {
	t.Helper()
	n, err := s.Notice(t.Context(), kind, key)
	if err != nil {
		t.Fatalf("Notice(%q, %q): %v", kind, key, err)
	}
	if n.Kind != kind || n.Key != key || n.State != st || n.Attempts != attempts || !n.Updated.Equal(updated) {
		t.Errorf("Notice(%q, %q) = %+v, want state %s, %d attempts, updated %v", kind, key, n, st, attempts, updated)
	}
}

// testNoticeOnce: a notice is claimed once; sent, or being sent (its
// sender may have stopped after the message went out), it is never
// claimed again. Kinds and keys are compared exactly.
func testNoticeOnce(t *testing.T, open func(*testing.T) state.NoticeStore) {
	s := open(t)
	n := now()
	if !claim(t, s, "grant", "g-1", 3, n) {
		t.Fatal("a new notice was not claimed")
	}
	checkNotice(t, s, "grant", "g-1", state.NoticeSending, 1, n)
	if claim(t, s, "grant", "g-1", 3, n.Add(time.Hour)) {
		t.Error("a notice being sent was claimed again")
	}
	for _, other := range [][2]string{{"expiry", "g-1"}, {"grant", "G-1"}, {"grant", "g-1 "}, {"grant", "g-%"}, {"summary", "2026-12-06T07:00:00Z RSSMRA80A01H501U"}, {"grant", "città – 日本語"}} {
		if !claim(t, s, other[0], other[1], 3, n) {
			t.Errorf("notice %q %q, another one, was not claimed", other[0], other[1])
		}
	}
	finish(t, s, "grant", "g-1", state.NoticeSent, n.Add(time.Minute))
	checkNotice(t, s, "grant", "g-1", state.NoticeSent, 1, n.Add(time.Minute))
	if claim(t, s, "grant", "g-1", 3, n.Add(2*time.Hour)) {
		t.Error("a sent notice was claimed again")
	}
	if _, err := s.Notice(t.Context(), "grant", "g-2"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Notice of a notice never claimed: %v, want ErrNotFound", err)
	}
	if err := s.FinishNotice(t.Context(), "grant", "g-2", state.NoticeSent, n); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("FinishNotice of a notice never claimed: %v, want ErrNotFound", err)
	}
	for _, outcome := range []state.NoticeState{state.NoticeSending, "", "boh"} {
		if err := s.FinishNotice(t.Context(), "grant", "g-1", outcome, n); err == nil {
			t.Errorf("FinishNotice with the outcome %q succeeded", outcome)
		}
	}
	checkNotice(t, s, "grant", "g-1", state.NoticeSent, 1, n.Add(time.Minute))
}

// testNoticeAttempts: a failed notice is claimed again until it has been
// attempted maxAttempts times.
func testNoticeAttempts(t *testing.T, open func(*testing.T) state.NoticeStore) {
	s := open(t)
	n := now()
	const max = 3
	for i := 1; i <= max; i++ {
		at := n.Add(time.Duration(i) * time.Hour)
		if !claim(t, s, "expiry", "g-1", max, at) {
			t.Fatalf("attempt %d of %d was not claimed", i, max)
		}
		checkNotice(t, s, "expiry", "g-1", state.NoticeSending, i, at)
		finish(t, s, "expiry", "g-1", state.NoticeFailed, at.Add(time.Second))
		checkNotice(t, s, "expiry", "g-1", state.NoticeFailed, i, at.Add(time.Second))
	}
	if claim(t, s, "expiry", "g-1", max, n.AddDate(0, 0, 1)) {
		t.Errorf("a notice failed %d times was claimed for attempt %d", max, max+1)
	}
	checkNotice(t, s, "expiry", "g-1", state.NoticeFailed, max, n.Add(max*time.Hour+time.Second))
	// A failure, then a success: done.
	if !claim(t, s, "expiry", "g-2", max, n) {
		t.Fatal("a new notice was not claimed")
	}
	finish(t, s, "expiry", "g-2", state.NoticeFailed, n)
	if !claim(t, s, "expiry", "g-2", max, n.Add(time.Hour)) {
		t.Fatal("a notice failed once was not claimed again")
	}
	finish(t, s, "expiry", "g-2", state.NoticeSent, n.Add(time.Hour))
	checkNotice(t, s, "expiry", "g-2", state.NoticeSent, 2, n.Add(time.Hour))
	if claim(t, s, "expiry", "g-2", max, n.Add(2*time.Hour)) {
		t.Error("a sent notice was claimed again")
	}
	// Refused for good: never again, attempts or not.
	if !claim(t, s, "grant", "g-3", max, n) {
		t.Fatal("a new notice was not claimed")
	}
	finish(t, s, "grant", "g-3", state.NoticeRefused, n.Add(time.Second))
	checkNotice(t, s, "grant", "g-3", state.NoticeRefused, 1, n.Add(time.Second))
	if claim(t, s, "grant", "g-3", max, n.Add(time.Hour)) {
		t.Error("a notice refused for good was claimed again")
	}
	// One attempt allowed: a failure ends it.
	if !claim(t, s, "summary", "s-1", 1, n) {
		t.Fatal("a new notice was not claimed")
	}
	finish(t, s, "summary", "s-1", state.NoticeFailed, n)
	if claim(t, s, "summary", "s-1", 1, n.Add(time.Hour)) {
		t.Error("a notice of one attempt was claimed again after its failure")
	}
}

// testNoticeRefused: what no store may hold is refused, and nothing is
// stored.
func testNoticeRefused(t *testing.T, open func(*testing.T) state.NoticeStore) {
	s := open(t)
	n := now()
	for _, tt := range []struct {
		name, kind, key string
		max             int
		now, expires    time.Time
	}{
		{"no kind", "", "k", 1, n, n},
		{"no key", "grant", "", 1, n, n},
		{"invalid UTF-8", "grant", "g-\xff", 1, n, n},
		{"a NUL", "grant", "g-\x00", 1, n, n},
		{"no attempt", "grant", "k", 0, n, n},
		{"no now", "grant", "k", 1, time.Time{}, n},
		{"no expiry", "grant", "k", 1, n, time.Time{}},
	} {
		if ok, err := s.ClaimNotice(t.Context(), tt.kind, tt.key, tt.max, tt.now, tt.expires); err == nil || ok {
			t.Errorf("%s: ClaimNotice = %v, %v; want an error", tt.name, ok, err)
		}
	}
	if !claim(t, s, "grant", "k", 1, n) {
		t.Error("after the refusals, a valid notice was not claimed")
	}
}

// testConcurrentClaimNotice: of callers racing for a notice, exactly one
// claims it.
func testConcurrentClaimNotice(t *testing.T, open func(*testing.T) state.NoticeStore) {
	s := open(t)
	n := now()
	for round := range 5 {
		key := "g-" + string(rune('a'+round))
		var wins atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := s.ClaimNotice(t.Context(), "expiry", key, 3, n, n.Add(time.Hour))
				if err != nil {
					t.Errorf("ClaimNotice: %v", err)
				}
				if ok {
					wins.Add(1)
				}
			}()
		}
		wg.Wait()
		if w := wins.Load(); w != 1 {
			t.Errorf("round %d: %d callers claimed the notice, want 1", round, w)
		}
	}
}
