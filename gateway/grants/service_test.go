package grants

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// folders is an archive of the folders it names.
type folders map[string]bool

func (f folders) Stat(ctx context.Context, p string) (backends.Entry, error) {
	if dir, ok := f[p]; ok {
		return backends.Entry{Path: p, IsDir: dir}, nil
	}
	return backends.Entry{}, backends.ErrNotFound
}

type memGrants struct{ gs []state.Grant }

func (m *memGrants) CreateGrant(ctx context.Context, g state.Grant) error {
	m.gs = append(m.gs, g)
	return nil
}

func (m *memGrants) Grants(ctx context.Context, f state.GrantFilter) ([]state.Grant, error) {
	return m.gs, nil
}

func (m *memGrants) DeleteGrant(ctx context.Context, id string) error {
	for i, g := range m.gs {
		if g.ID == id {
			m.gs = append(m.gs[:i], m.gs[i+1:]...)
			return nil
		}
	}
	return state.ErrNotFound
}

type records struct {
	recs []state.AuditRecord
	fail error
}

func (r *records) Record(rec state.AuditRecord) error {
	if r.fail != nil {
		return r.fail
	}
	r.recs = append(r.recs, rec)
	return nil
}

// told records the grants it is told of.
type told struct{ gs []state.Grant }

func (t *told) Granted(ctx context.Context, g state.Grant) { t.gs = append(t.gs, g) }

// TestGrant: every rule of a grant, in its one place, for the page and the
// command line alike; each change in the access log, by its actor.
func TestGrant(t *testing.T) {
	rome, _ := time.LoadLocation("Europe/Rome")
	now := time.Date(2026, 12, 3, 23, 30, 0, 0, time.UTC) // already the 4th in Rome
	may := func(c string) bool { return c == "guastalla" }
	ok := Request{Person: "rssmra80a01h501u", Path: "/guastalla/2019/PC-2019-0042", Until: "2027-03-31", Reason: "prot. 1234/2026"}
	with := func(f func(*Request)) Request { r := ok; f(&r); return r }
	for _, tt := range []struct {
		name string
		req  Request
		want error
	}{
		{"a grant", ok, nil},
		{"writing too", with(func(r *Request) { r.Write = true }), nil},
		{"not a fiscal number", with(func(r *Request) { r.Person = "mario" }), ErrBadPerson},
		{"another Comune", with(func(r *Request) { r.Path = "/luzzara/2019/PC-1" }), ErrBadPath},
		{"no such dossier", with(func(r *Request) { r.Path = "/guastalla/2019/PC-9999" }), ErrNoFolder},
		{"a file", with(func(r *Request) { r.Path = "/guastalla/2019/PC-2019-0042/domanda.pdf" }), ErrNotFolder},
		{"not a day", with(func(r *Request) { r.Until = "31/03/2027" }), ErrBadUntil},
		{"yesterday in Rome", with(func(r *Request) { r.Until = "2026-12-03" }), ErrBadUntil},
		{"today in Rome", with(func(r *Request) { r.Until = "2026-12-04" }), nil},
		{"two years on", with(func(r *Request) { r.Until = "2028-12-04" }), nil},
		{"beyond two years", with(func(r *Request) { r.Until = "2028-12-06" }), ErrBadUntil},
		{"no reason", with(func(r *Request) { r.Reason = "  " }), ErrBadReason},
		{"200 accented characters", with(func(r *Request) { r.Reason = strings.Repeat("è", 200) }), nil},
		{"201 characters", with(func(r *Request) { r.Reason = strings.Repeat("x", 201) }), ErrBadReason},
		{"an e-mail address", with(func(r *Request) { r.Email = " Studio Rossi <studio.rossi@example.it> " }), nil},
		{"not an e-mail address", with(func(r *Request) { r.Email = "studio.rossi" }), ErrBadEmail},
		{"two e-mail addresses", with(func(r *Request) { r.Email = "a@example.it, b@example.it" }), ErrBadEmail},
		{"an e-mail address too long", with(func(r *Request) { r.Email = strings.Repeat("a", 250) + "@example.it" }), ErrBadEmail},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, log, tell := &memGrants{}, &records{}, &told{}
			s := &Service{Store: st, Audit: log, Location: rome, Now: func() time.Time { return now }, Notify: tell,
				Archive: folders{"guastalla/2019/PC-2019-0042": true, "guastalla/2019/PC-2019-0042/domanda.pdf": false}}
			who := Actor{Person: "responsabile", Credential: "session", Client: "192.0.2.7", RequestID: "r1"}
			g, err := s.Grant(t.Context(), tt.req, who, may)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("Grant: %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				if len(st.gs) != 0 || len(log.recs) != 0 || len(tell.gs) != 0 {
					t.Error("a refused grant was stored, recorded or notified")
				}
				if strings.Contains(err.Error(), "@") {
					t.Errorf("the error %q repeats an address", err)
				}
				return
			}
			if len(tell.gs) != 1 || tell.gs[0].ID != g.ID {
				t.Errorf("notified %+v, want the grant %s once", tell.gs, g.ID)
			}
			if wantEmail := map[string]string{"an e-mail address": "studio.rossi@example.it"}[tt.name]; g.Email != wantEmail || st.gs[0].Email != wantEmail {
				t.Errorf("e-mail %q (stored %q), want %q", g.Email, st.gs[0].Email, wantEmail)
			}
			if g.Person != "RSSMRA80A01H501U" || g.Path != "/guastalla/2019/PC-2019-0042" || g.Comune != "guastalla" || g.GrantedBy != "responsabile" {
				t.Errorf("grant %+v", g)
			}
			if end := time.Date(2027, 4, 1, 0, 0, 0, 0, rome); tt.name == "a grant" && !g.Expires.Equal(end) {
				t.Errorf("expires %v, want the end of the day in Rome, %v", g.Expires, end)
			}
			if len(log.recs) != 1 || log.recs[0].Method != "GRANT" || log.recs[0].Person != "responsabile" ||
				log.recs[0].Client != "192.0.2.7" || log.recs[0].RequestID != "r1" || log.recs[0].Status != 201 || log.recs[0].Comune != "guastalla" {
				t.Errorf("access log %+v", log.recs)
			}
		})
	}
}

// TestRevoke: only a grant in a Comune the revoker may revoke in ends; the
// change is in the access log; a log that fails is said, the change made.
func TestRevoke(t *testing.T) {
	st := &memGrants{gs: []state.Grant{{ID: "g-1", Path: "/guastalla/a", Comune: "guastalla"}, {ID: "g-2", Path: "/luzzara/b", Comune: "luzzara"}}}
	log := &records{}
	s := &Service{Store: st, Audit: log, Location: time.UTC}
	may := func(c string) bool { return c == "guastalla" }
	if _, err := s.Revoke(t.Context(), "g-2", Actor{Person: "m"}, may); !errors.Is(err, ErrNoGrant) {
		t.Errorf("revoke in another Comune: %v, want ErrNoGrant", err)
	}
	if _, err := s.Revoke(t.Context(), "g-9", Actor{Person: "m"}, may); !errors.Is(err, ErrNoGrant) {
		t.Errorf("revoke of no grant: %v, want ErrNoGrant", err)
	}
	log.fail = errors.New("spool full")
	if g, err := s.Revoke(t.Context(), "g-1", Actor{Person: "m"}, may); !errors.Is(err, ErrNotAudited) || g.ID != "g-1" || len(st.gs) != 1 {
		t.Errorf("revoke with the log failing: %v, %+v, %d left; want ErrNotAudited, g-1 revoked", err, g, len(st.gs))
	}
}
