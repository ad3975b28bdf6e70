package statetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// RunExpiry checks that DeleteExpired removes the locks, grants and
// notices that expired, and keeps the live ones and the locks that never
// expire.
func RunExpiry(t *testing.T, open func(t *testing.T) state.Store) {
	s := open(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	locks := []state.Lock{
		{Token: "urn:uuid:scaduto", Root: "/a/scaduto", Timeout: time.Minute, Expires: past, Created: past.Add(-time.Minute)},
		{Token: "urn:uuid:vivo", Root: "/a/vivo", Timeout: 2 * time.Hour, Expires: future, Created: now},
		{Token: "urn:uuid:infinito", Root: "/a/infinito", Created: now},
	}
	for _, l := range locks {
		if err := s.CreateLock(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range []state.Grant{
		{ID: "g-scaduta", Person: "P", Path: "/a/x", Comune: "a", Reason: "r", GrantedBy: "m", Created: past.Add(-time.Hour), Expires: past},
		{ID: "g-viva", Person: "P", Path: "/a/y", Comune: "a", Reason: "r", GrantedBy: "m", Created: now, Expires: future},
	} {
		if err := s.CreateGrant(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []struct {
		key     string
		expires time.Time
	}{{"scaduta", past}, {"viva", future}} {
		if ok, err := s.ClaimNotice(ctx, "expiry", n.key, 3, past.Add(-time.Hour), n.expires); err != nil || !ok {
			t.Fatalf("ClaimNotice(%q) = %v, %v", n.key, ok, err)
		}
	}
	if err := s.DeleteExpired(ctx, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Notice(ctx, "expiry", "scaduta"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("an expired notice after DeleteExpired: %v, want ErrNotFound", err)
	}
	if _, err := s.Notice(ctx, "expiry", "viva"); err != nil {
		t.Errorf("a live notice after DeleteExpired: %v", err)
	}
	all, err := s.Locks(ctx, "/", true, past.Add(-time.Hour)) // a time at which all three were live
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, l := range all {
		got[l.Token] = true
	}
	if got["urn:uuid:scaduto"] || !got["urn:uuid:vivo"] || !got["urn:uuid:infinito"] {
		t.Errorf("locks after DeleteExpired: %v", got)
	}
	gs, err := s.Grants(ctx, state.GrantFilter{Person: "P"})
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].ID != "g-viva" {
		t.Errorf("grants after DeleteExpired: %+v", gs)
	}
}
