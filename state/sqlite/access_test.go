package sqlite

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/statetest"
)

func TestAccessStore(t *testing.T) {
	statetest.RunAccess(t, func(t *testing.T) state.AccessStore {
		return openClosed(t, filepath.Join(t.TempDir(), "state.db"))
	})
}

// TestAccessReopen checks that what is stored survives reopening, to the
// nanosecond, and comes back in UTC.
func TestAccessReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	now := time.Now() // nanoseconds, in the local zone
	zone := time.FixedZone("CEST", 2*3600)
	p := state.Person{Key: "RSSMRA80A01H501U", Display: "Mario Rossi", Groups: []string{"tecnici"}, LastSignIn: now.In(zone)}
	g := state.Grant{
		ID: "g-1", Person: p.Key, Path: "/guastalla/2019/PC-2019-0042", Comune: "guastalla", Write: true,
		Reason: "prot. 12345/2026", GrantedBy: "BNCLRA75C41H223Z", Created: now, Expires: now.Add(30 * 24 * time.Hour).In(zone),
	}
	r := state.AuditRecord{
		Time: now.In(zone), RequestID: "r-1", Person: p.Key, Credential: "session", Client: "192.0.2.10",
		Method: "PUT", Path: g.Path + "/Relazione.pdf", Comune: "guastalla", Status: 201, Bytes: 1 << 20,
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.UpsertPerson(ctx, p); err != nil {
		t.Fatalf("UpsertPerson: %v", err)
	}
	if err := s.CreateGrant(ctx, g); err != nil {
		t.Fatalf("CreateGrant: %v", err)
	}
	if err := s.AppendAudit(ctx, []state.AuditRecord{r}); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openClosed(t, path)
	gotPerson, err := s.Person(ctx, p.Key)
	if err != nil {
		t.Fatalf("Person after reopening: %v", err)
	}
	// == on times compares the instants and the zones.
	if gotPerson.LastSignIn != p.LastSignIn.UTC() || !slices.Equal(gotPerson.Groups, p.Groups) || gotPerson.Display != p.Display {
		t.Errorf("Person after reopening = %+v, want %+v in UTC", gotPerson, p)
	}
	gotGrants, err := s.Grants(ctx, state.GrantFilter{Person: p.Key, Live: true, Now: now})
	if err != nil {
		t.Fatalf("Grants after reopening: %v", err)
	}
	wantGrant := g
	wantGrant.Created, wantGrant.Expires = g.Created.UTC(), g.Expires.UTC()
	if len(gotGrants) != 1 || gotGrants[0] != wantGrant {
		t.Errorf("Grants after reopening = %+v, want %+v", gotGrants, wantGrant)
	}
	var gotAudit []state.AuditRecord
	if err := s.Audit(ctx, state.AuditFilter{}, func(r state.AuditRecord) error {
		gotAudit = append(gotAudit, r)
		return nil
	}); err != nil {
		t.Fatalf("Audit after reopening: %v", err)
	}
	wantRecord := r
	wantRecord.Time = r.Time.UTC()
	if len(gotAudit) != 1 || gotAudit[0].ID == 0 {
		t.Fatalf("Audit after reopening = %+v, want %+v with an ID", gotAudit, wantRecord)
	}
	if wantRecord.ID = gotAudit[0].ID; gotAudit[0] != wantRecord {
		t.Errorf("Audit after reopening = %+v, want %+v", gotAudit[0], wantRecord)
	}
}

// TestGroupsEncoding checks that an empty list is stored one way and read
// back as nil, however it was given.
func TestGroupsEncoding(t *testing.T) {
	tests := []struct {
		groups []string
		stored string
		back   []string
	}{
		{nil, `[]`, nil},
		{[]string{}, `[]`, nil},
		{[]string{""}, `[""]`, []string{""}},
		{[]string{"tecnici", "urbanistica"}, `["tecnici","urbanistica"]`, []string{"tecnici", "urbanistica"}},
		{[]string{"a,b", `"q"`, "è"}, `["a,b","\"q\"","è"]`, []string{"a,b", `"q"`, "è"}},
	}
	for _, tt := range tests {
		stored, err := encodeGroups(tt.groups)
		if err != nil || stored != tt.stored {
			t.Errorf("encodeGroups(%q) = %s, %v; want %s", tt.groups, stored, err, tt.stored)
			continue
		}
		back, err := decodeGroups(stored)
		if err != nil || !slices.Equal(back, tt.back) || (back == nil) != (tt.back == nil) {
			t.Errorf("decodeGroups(%s) = %#v, %v; want %#v", stored, back, err, tt.back)
		}
	}
	if _, err := encodeGroups([]string{"\xff"}); err == nil {
		t.Error("encodeGroups of invalid UTF-8 succeeded")
	}
}

// TestAccessIncomplete checks that what the store must not hold is refused,
// and that nothing is stored.
func TestAccessIncomplete(t *testing.T) {
	ctx := t.Context()
	s := openClosed(t, filepath.Join(t.TempDir(), "state.db"))
	now := time.Now()

	personTests := []struct {
		name string
		p    state.Person
	}{
		{"no Key", state.Person{LastSignIn: now}},
		{"no LastSignIn", state.Person{Key: "p"}},
		{"invalid UTF-8 in Groups", state.Person{Key: "p", Groups: []string{"caff\xe8"}, LastSignIn: now}},
	}
	for _, tt := range personTests {
		if err := s.UpsertPerson(ctx, tt.p); err == nil {
			t.Errorf("UpsertPerson with %s succeeded", tt.name)
		}
		if _, err := s.Person(ctx, tt.p.Key); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("Person after UpsertPerson with %s: error = %v, want ErrNotFound", tt.name, err)
		}
	}

	valid := state.Grant{ID: "g", Person: "p", Path: "/a", Comune: "a", Created: now, Expires: now.Add(time.Hour)}
	grantTests := []struct {
		name string
		edit func(*state.Grant)
	}{
		{"no ID", func(g *state.Grant) { g.ID = "" }},
		{"no Person", func(g *state.Grant) { g.Person = "" }},
		{"no Path", func(g *state.Grant) { g.Path = "" }},
		{"no Created", func(g *state.Grant) { g.Created = time.Time{} }},
		{"no Expires", func(g *state.Grant) { g.Expires = time.Time{} }},
	}
	for _, tt := range grantTests {
		g := valid
		tt.edit(&g)
		if err := s.CreateGrant(ctx, g); err == nil {
			t.Errorf("CreateGrant with %s succeeded", tt.name)
		}
	}
	if gs, err := s.Grants(ctx, state.GrantFilter{}); err != nil || len(gs) != 0 {
		t.Errorf("Grants after refused creations = %+v, %v; want none", gs, err)
	}

	// One record without a time refuses the whole batch.
	batch := []state.AuditRecord{{Time: now, Path: "/a"}, {Path: "/b"}, {Time: now, Path: "/c"}}
	if err := s.AppendAudit(ctx, batch); err == nil {
		t.Error("AppendAudit of a record without Time succeeded")
	}
	if n := countAudit(t, s); n != 0 {
		t.Errorf("%d records stored from a refused batch", n)
	}
	if err := s.DeleteAuditBefore(ctx, time.Time{}); err == nil {
		t.Error("DeleteAuditBefore of the zero time succeeded")
	}
}

// countAudit returns the number of records in the audit log.
func countAudit(tb testing.TB, s *Store) int {
	tb.Helper()
	var n int
	if err := s.r.QueryRowContext(tb.Context(), `SELECT COUNT(*) FROM audit`).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestAuditAppendOnly checks that the database itself refuses an UPDATE of
// an audit record, whatever code tries it.
func TestAuditAppendOnly(t *testing.T) {
	ctx := t.Context()
	s := openClosed(t, filepath.Join(t.TempDir(), "state.db"))
	if err := s.AppendAudit(ctx, []state.AuditRecord{{Time: time.Now(), Path: "/a", Status: 403}}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE audit SET status = 200`,
		`UPDATE audit SET id = id + 1000`,
		`UPDATE OR REPLACE audit SET request_id = 'x'`,
	} {
		if _, err := s.w.ExecContext(ctx, q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
	var status int
	if err := s.r.QueryRowContext(ctx, `SELECT status FROM audit`).Scan(&status); err != nil || status != 403 {
		t.Errorf("status after refused changes = %d, %v; want 403", status, err)
	}
}

// TestDeleteAuditBeforeInBatches deletes more records than one batch holds.
func TestDeleteAuditBeforeInBatches(t *testing.T) {
	ctx := t.Context()
	s := openClosed(t, filepath.Join(t.TempDir(), "state.db"))
	start := time.Now()
	const n = 2*auditDeleteBatch + 345
	recs := make([]state.AuditRecord, n)
	for i := range recs {
		recs[i] = state.AuditRecord{Time: start.Add(time.Duration(i) * time.Millisecond), Path: "/a"}
	}
	if err := s.AppendAudit(ctx, recs); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		before time.Time
		left   int
	}{
		{recs[auditDeleteBatch].Time, n - auditDeleteBatch}, // exactly one batch: one more, empty, round
		{recs[n-10].Time, 10},
		{recs[n-1].Time.Add(time.Nanosecond), 0},
	}
	for _, tt := range tests {
		if err := s.DeleteAuditBefore(ctx, tt.before); err != nil {
			t.Fatalf("DeleteAuditBefore: %v", err)
		}
		if got := countAudit(t, s); got != tt.left {
			t.Errorf("%d records left, want %d", got, tt.left)
		}
	}
}

// TestAccessPlans checks that the queries on large tables are answered from
// the indexes meant for them, not by scanning the table.
func TestAccessPlans(t *testing.T) {
	s := openClosed(t, filepath.Join(t.TempDir(), "state.db"))
	now := time.Now()
	grants := func(f state.GrantFilter) (string, []any) {
		q, args, err := grantsQuery(f)
		if err != nil {
			t.Fatal(err)
		}
		return q, args
	}
	tests := []struct {
		name    string
		query   func() (string, []any)
		want    string
		ordered bool // the index also gives the order: no sort
	}{
		{
			"a person's live grants, on every request",
			func() (string, []any) { return grants(state.GrantFilter{Person: "p", Live: true, Now: now}) },
			"SEARCH grants USING INDEX grants_person (person=? AND expires>?)", false,
		},
		{
			"a Comune's grants",
			func() (string, []any) { return grants(state.GrantFilter{Comune: "c"}) },
			"SEARCH grants USING INDEX grants_comune (comune=?)", false,
		},
		{
			"a person's grants in a Comune",
			func() (string, []any) { return grants(state.GrantFilter{Person: "p", Comune: "c"}) },
			"SEARCH grants USING INDEX grants_person (person=?)", false,
		},
		{
			"a Comune's records in a time range",
			func() (string, []any) {
				return auditQuery(state.AuditFilter{Comune: "c", Since: now, Until: now.Add(time.Hour)})
			},
			"SEARCH audit USING INDEX audit_comune (comune=? AND time>? AND time<?)", false,
		},
		{
			"a person's records",
			func() (string, []any) { return auditQuery(state.AuditFilter{Person: "p"}) },
			"SEARCH audit USING INDEX audit_person (person=?)", false,
		},
		{
			"a person's records in a Comune since a time",
			func() (string, []any) { return auditQuery(state.AuditFilter{Comune: "c", Person: "p", Since: now}) },
			"SEARCH audit USING INDEX audit_person (person=? AND time>?)", false,
		},
		{
			"records in a time range",
			func() (string, []any) { return auditQuery(state.AuditFilter{Since: now, Until: now.Add(time.Hour)}) },
			"SEARCH audit USING INDEX audit_time (time>? AND time<?)", false,
		},
		{
			"the oldest records, for retention",
			func() (string, []any) { return auditDeleteOldest, []any{now.UnixNano(), auditDeleteBatch} },
			"SEARCH audit USING COVERING INDEX audit_time (time<?)", true,
		},
	}
	for _, tt := range tests {
		q, args := tt.query()
		plan := queryPlan(t, s, q, args...)
		sorts := slices.ContainsFunc(plan, func(d string) bool { return strings.Contains(d, "TEMP B-TREE") })
		if !slices.Contains(plan, tt.want) || tt.ordered && sorts {
			t.Errorf("query plan of %s:\n%s\n= %q, want %q", tt.name, q, plan, tt.want)
		}
	}
}

// queryPlan returns the details of EXPLAIN QUERY PLAN for the query.
func queryPlan(tb testing.TB, s *Store, query string, args ...any) []string {
	tb.Helper()
	rows, err := s.r.QueryContext(tb.Context(), `EXPLAIN QUERY PLAN `+query, args...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			tb.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return plan
}

// BenchmarkAppendAudit times the audit writer's commit of a batch of 100
// records.
func BenchmarkAppendAudit(b *testing.B) {
	const size = 100
	ctx := b.Context()
	s := openClosed(b, filepath.Join(b.TempDir(), "state.db"))
	now := time.Now()
	batch := make([]state.AuditRecord, size)
	for i := range batch {
		batch[i] = state.AuditRecord{
			Time: now, RequestID: fmt.Sprintf("01JD6Z9Q3W8Y2K7M4N5P6R%04d", i), Person: "RSSMRA80A01H501U",
			Credential: "ap-7f3a", Client: "192.0.2.10", Method: "GET",
			Path: fmt.Sprintf("/guastalla/2019/PC-2019-%04d/Relazione tecnica.pdf", i), Comune: "guastalla",
			Status: 200, Bytes: 1 << 20,
		}
	}
	for b.Loop() {
		if err := s.AppendAudit(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/record")
}

// BenchmarkGrants times the lookup of a person's live grants, made on every
// request, among 10,000 grants to 2,000 people (half of them expired),
// for a person with grants and for one (the usual case) with none.
func BenchmarkGrants(b *testing.B) {
	const n, people = 10000, 2000
	ctx := b.Context()
	s := openClosed(b, filepath.Join(b.TempDir(), "state.db"))
	now := time.Now()
	live := make(map[string]int)
	for i := range n {
		created := now.Add(-time.Duration(i) * time.Minute)
		g := state.Grant{
			ID: fmt.Sprintf("g-%05d", i), Person: fmt.Sprintf("PERSON%010d", i%people),
			Path: fmt.Sprintf("/guastalla/%d/PC-%d-%04d", 2000+i%25, 2000+i%25, i), Comune: "guastalla",
			Reason: "prot. 12345/2026", GrantedBy: "BNCLRA75C41H223Z", Created: created, Expires: now.Add(time.Hour),
		}
		if i/people%2 == 1 { // every other grant of each person
			g.Expires = now.Add(-time.Hour)
		} else {
			live[g.Person]++
		}
		if err := s.CreateGrant(ctx, g); err != nil {
			b.Fatal(err)
		}
	}
	for _, bb := range []struct{ name, person string }{
		{"with grants", "PERSON0000000042"},
		{"without", "RSSMRA80A01H501U"},
	} {
		b.Run(bb.name, func(b *testing.B) {
			f := state.GrantFilter{Person: bb.person, Live: true, Now: now}
			for b.Loop() {
				gs, err := s.Grants(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				if len(gs) != live[bb.person] {
					b.Fatalf("%d live grants, want %d", len(gs), live[bb.person])
				}
			}
		})
	}
}
