package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// memSessions is a SessionStore in memory, for the clock-driven tests of the
// idle limit; the state stores' own behaviour is their conformance suite's.
type memSessions struct {
	mu sync.Mutex
	m  map[string]state.Session
}

func (s *memSessions) CreateSession(_ context.Context, ss state.Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[ss.ID] = ss
	return nil
}

func (s *memSessions) Session(_ context.Context, id string, now time.Time) (state.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[id]
	if !ok || !now.Before(ss.Expires) {
		return state.Session{}, state.ErrNotFound
	}
	return ss, nil
}

func (s *memSessions) TouchSession(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.m[id]
	if !ok {
		return state.ErrNotFound
	}
	if at.After(ss.LastSeen) {
		ss.LastSeen = at
	}
	s.m[id] = ss
	return nil
}

func (s *memSessions) DeleteSession(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
	return nil
}

// TestSessionIdleLimit: a session ends no sooner than the idle limit after
// its last request, and not much later, whatever the limit.
func TestSessionIdleLimit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		idle     time.Duration
		requests []time.Duration // after the sign-in
		alive    time.Duration   // after the last request: still valid
		dead     time.Duration   // after the last request: ended
	}{
		{"default limit, last request just before a recording", 30 * time.Minute, []time.Duration{59 * time.Second}, 30 * time.Minute, 31*time.Minute + time.Second},
		{"default limit, steady use", 30 * time.Minute, []time.Duration{10 * time.Minute, 20 * time.Minute, 29 * time.Minute, 50 * time.Minute}, 30 * time.Minute, 32 * time.Minute},
		{"limit under a minute, steady use", 20 * time.Second, []time.Duration{5 * time.Second, 10 * time.Second, 15 * time.Second, 20 * time.Second, 25 * time.Second, 30 * time.Second}, 20 * time.Second, 23 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
			now := start
			s := NewSessions(&memSessions{m: map[string]state.Session{}}, tc.idle, 8*time.Hour)
			s.now = func() time.Time { return now }
			w := httptest.NewRecorder()
			if _, err := s.Start(t.Context(), w, httptest.NewRequest("POST", "/_/accedi/locale", nil), Person{Key: "tecnico"}); err != nil {
				t.Fatal(err)
			}
			cookie := w.Result().Cookies()[0]
			load := func(at time.Duration) error {
				now = start.Add(at)
				r := httptest.NewRequest("GET", "/_/profilo", nil)
				r.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
				_, err := s.Load(r)
				return err
			}
			for _, at := range tc.requests {
				if err := load(at); err != nil {
					t.Fatalf("request at %v: %v", at, err)
				}
			}
			last := tc.requests[len(tc.requests)-1]
			if err := load(last + tc.alive); err != nil {
				t.Errorf("%v after the last request: %v, want the session valid", tc.alive, err)
			}
			// The check above was a request too: count from it.
			if err := load(last + tc.alive + tc.dead); err == nil {
				t.Errorf("%v idle after a request: the session is still valid", tc.dead)
			}
		})
	}
}
