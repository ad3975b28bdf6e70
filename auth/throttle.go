package auth

import (
	"sync"
	"time"
)

// Throttle slows down password guessing. It counts failures per key (a
// client address, an account) in a window; past the limit the key is
// blocked until the window ends. Successes are never slowed, and a block
// of an address does not block the same account from elsewhere unless the
// account itself crossed its own, higher limit.
type Throttle struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]*throttleEntry
}

type throttleEntry struct {
	failures int
	start    time.Time
}

// NewThrottle allows limit failures per key within window.
func NewThrottle(limit int, window time.Duration) *Throttle {
	return &Throttle{limit: limit, window: window, now: time.Now, entries: map[string]*throttleEntry{}}
}

// Blocked reports whether key is blocked and for how long.
func (t *Throttle) Blocked(key string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.entries[key]
	if !ok {
		return 0, false
	}
	left := e.start.Add(t.window).Sub(t.now())
	if left <= 0 {
		delete(t.entries, key)
		return 0, false
	}
	return left, e.failures >= t.limit
}

// Fail records a failure for key.
func (t *Throttle) Fail(key string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.entries) > 100000 {
		// Bound memory under a flood of distinct keys: forget windows that ended.
		for k, e := range t.entries {
			if now.Sub(e.start) > t.window {
				delete(t.entries, k)
			}
		}
	}
	e, ok := t.entries[key]
	if !ok || now.Sub(e.start) > t.window {
		t.entries[key] = &throttleEntry{failures: 1, start: now}
		return
	}
	e.failures++
}
