package oidc

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Flow is what a sign-in must remember between Begin and Finish. The caller
// keeps it server-side, keyed by State: it holds the secrets (nonce, PKCE
// verifier) that prove the answer belongs to this browser's request.
type Flow struct {
	State    string
	Nonce    string
	Verifier string // PKCE code verifier
	Created  time.Time
}

// FlowStore keeps flows between the redirect to the provider and its answer.
type FlowStore interface {
	SaveFlow(ctx context.Context, state string, f Flow) error
	// TakeFlow returns the flow saved for state and deletes it, so that a
	// replayed answer fails. When there is none it returns an error wrapping
	// ErrBadState.
	TakeFlow(ctx context.Context, state string) (Flow, error)
}

// MemFlowStore is a FlowStore in memory, for tests and a single process:
// flows are lost on restart and not seen by other replicas.
type MemFlowStore struct {
	ttl time.Duration

	mu        sync.Mutex
	flows     map[string]Flow
	nextSweep time.Time
}

// NewMemFlowStore returns a store whose flows expire ttl after their
// creation; ttl <= 0 means 10 minutes.
func NewMemFlowStore(ttl time.Duration) *MemFlowStore {
	if ttl <= 0 {
		ttl = defaultFlowTTL
	}
	return &MemFlowStore{ttl: ttl, flows: make(map[string]Flow)}
}

// SaveFlow implements FlowStore.
func (s *MemFlowStore) SaveFlow(_ context.Context, state string, f Flow) error {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// Sweep now and then rather than on every save, so that a burst of
	// abandoned sign-ins costs linear time, not quadratic.
	if now.After(s.nextSweep) {
		for k, v := range s.flows {
			if s.expired(v, now) {
				delete(s.flows, k)
			}
		}
		s.nextSweep = now.Add(s.ttl / 2)
	}
	if _, ok := s.flows[state]; ok {
		return fmt.Errorf("oidc: a flow is already saved for this state")
	}
	s.flows[state] = f
	return nil
}

// TakeFlow implements FlowStore.
func (s *MemFlowStore) TakeFlow(_ context.Context, state string) (Flow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.flows[state]
	delete(s.flows, state)
	if !ok || s.expired(f, time.Now()) {
		return Flow{}, ErrBadState
	}
	return f, nil
}

func (s *MemFlowStore) expired(f Flow, now time.Time) bool {
	return now.Sub(f.Created) > s.ttl
}
