package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/statetest"
)

// The tests need a PostgreSQL server: FALDONE_TEST_POSTGRES is the DSN of
// a database on it, as a role that may create databases. Each test creates
// a database of its own and drops it at the end; each store a test opens
// gets a schema of its own in it. A server that cannot be reached fails the
// tests rather than skipping them, so that a CI run without one is not
// taken for a pass.
const defaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// testDB is a database created for one test.
type testDB struct {
	dsn string // of the database, as the admin DSN's role
}

// newDB creates a database for t, dropped when t ends.
//
// The database collates by Italian rules (ICU) when the server can, not
// byte-wise as a "C" database would: the suites' checks of byte order and
// of subtree ranges then fail unless the schema asks for "C" itself.
func newDB(t *testing.T) testDB {
	t.Helper()
	admin := cmpOr(os.Getenv("FALDONE_TEST_POSTGRES"), defaultDSN)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL at %s is unreachable: %v\n"+
			"The tests need a server: start one, or set FALDONE_TEST_POSTGRES to the DSN of one.", describe(admin), err)
	}
	defer conn.Close(context.Background())

	name := "faldone_test_" + strings.ToLower(rand.Text()[:12])
	_, err = conn.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8'
		LOCALE 'C' LOCALE_PROVIDER icu ICU_LOCALE 'it-IT'`)
	if err != nil {
		// PostgreSQL before 15, or built without ICU.
		t.Logf("CREATE DATABASE with an ICU locale: %v; using the server's default collation", err)
		if _, err := conn.Exec(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8'`); err != nil {
			t.Fatalf("CREATE DATABASE: %v", err)
		}
	}
	t.Cleanup(func() {
		// t's context is done by now.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("dropping database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("DROP DATABASE %s: %v", name, err)
		}
	})
	return testDB{dsn: withSettings(t, admin, map[string]string{"dbname": name})}
}

// schema creates a schema in the database and returns the DSN of a store in
// it. Durability matters not in a test database: commits do not wait for
// the WAL to reach the disk.
func (d testDB) schema(t *testing.T) string {
	t.Helper()
	name := "s_" + strings.ToLower(rand.Text()[:12])
	conn, err := pgx.Connect(t.Context(), d.dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `CREATE SCHEMA `+name); err != nil {
		t.Fatalf("CREATE SCHEMA: %v", err)
	}
	return withSettings(t, d.dsn, map[string]string{"search_path": name, "synchronous_commit": "off"})
}

// open opens a store in a new schema of the database.
func (d testDB) open(t *testing.T) *Store {
	t.Helper()
	return openDSN(t, d.schema(t))
}

// openClosed is open, closing the store when t ends.
func (d testDB) openClosed(t *testing.T) *Store {
	t.Helper()
	s := d.open(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func openDSN(t *testing.T, dsn string) *Store {
	t.Helper()
	s, err := Open(t.Context(), dsn, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// withSettings returns dsn with the settings added or replaced: "dbname"
// is the database, anything else a run-time parameter such as search_path.
// dsn is a URL or a keyword/value string, as pgx takes either.
func withSettings(t *testing.T, dsn string, settings map[string]string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("FALDONE_TEST_POSTGRES: %v", err)
		}
		q := u.Query()
		for k, v := range settings {
			if k == "dbname" {
				u.Path = "/" + v
				continue
			}
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	// A later keyword wins over an earlier one.
	for k, v := range settings {
		dsn += fmt.Sprintf(" %s='%s'", k, v)
	}
	return dsn
}

// describe names the server and database of dsn without its password.
func describe(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return fmt.Sprintf("(FALDONE_TEST_POSTGRES does not parse: %v)", err)
	}
	return fmt.Sprintf("%s:%d, database %q as %q", cfg.Host, cfg.Port, cfg.Database, cfg.User)
}

func cmpOr(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// The conformance suites. Each runs in a database of its own, and in
// parallel with the others: they share nothing, not even advisory locks,
// which are per database.

func TestStore(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	statetest.Run(t, func(t *testing.T) state.Store { return db.open(t) })
}

func TestAuthStore(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	statetest.RunAuth(t, func(t *testing.T) state.Store { return db.openClosed(t) })
}

func TestAccountStore(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	statetest.RunAccounts(t, func(t *testing.T) state.AccountStore { return db.openClosed(t) })
}

func TestAccessStore(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	statetest.RunAccess(t, func(t *testing.T) state.AccessStore { return db.openClosed(t) })
}

// TestCreateLockAcrossStores has two stores on one database, as two
// replicas would be, race for locks that all conflict: exactly one may win.
func TestCreateLockAcrossStores(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	const n = 20
	tests := []struct {
		name string
		lock func(i int) (root string, infinite bool)
	}{
		{"same path", func(int) (string, bool) { return "/guastalla/2019", false }},
		{"ancestor and descendants", func(i int) (string, bool) {
			if i%2 == 0 {
				return "/guastalla", true
			}
			return "/guastalla/2019/PC-2019-0042", false
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := db.schema(t)
			stores := []*Store{openDSN(t, dsn), openDSN(t, dsn)}
			defer func() {
				for _, s := range stores {
					s.Close()
				}
			}()
			now := time.Now()
			start := make(chan struct{})
			var (
				wg  sync.WaitGroup
				mu  sync.Mutex
				won []string
			)
			for i := range n {
				root, infinite := tt.lock(i)
				l := state.Lock{
					Token: "urn:uuid:" + rand.Text(), Root: root, Infinite: infinite, Principal: "p",
					Timeout: time.Hour, Expires: now.Add(time.Hour), Created: now,
				}
				s := stores[i%len(stores)]
				wg.Go(func() {
					<-start
					switch err := s.CreateLock(t.Context(), l); {
					case err == nil:
						mu.Lock()
						won = append(won, l.Token)
						mu.Unlock()
					case !errors.Is(err, state.ErrLocked):
						t.Errorf("CreateLock: %v", err)
					}
				})
			}
			close(start)
			wg.Wait()
			if len(won) != 1 {
				t.Fatalf("%d of %d conflicting CreateLocks on two stores succeeded, want 1", len(won), n)
			}
			for _, s := range stores {
				locks, err := s.Locks(t.Context(), "/", true, now)
				if err != nil {
					t.Fatalf("Locks: %v", err)
				}
				if len(locks) != 1 || locks[0].Token != won[0] {
					t.Errorf("Locks = %+v, want only the winner %q", locks, won[0])
				}
			}
		})
	}
}

// versions returns the versions recorded in schema_migrations.
func versions(t *testing.T, s *Store) []int {
	t.Helper()
	rows, err := s.pool.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// allVersions returns 1 to len(migrations).
func allVersions() []int {
	var vs []int
	for v := range len(migrations) {
		vs = append(vs, v+1)
	}
	return vs
}

// TestConcurrentMigrations has replicas start at once on an empty schema:
// each must open it, and the schema be migrated once.
func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	const replicas = 4
	for round := range 3 {
		dsn := db.schema(t)
		stores := make([]*Store, replicas)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range stores {
			wg.Go(func() {
				<-start
				s, err := Open(t.Context(), dsn, Options{})
				if err != nil {
					t.Errorf("round %d: Open #%d: %v", round, i, err)
					return
				}
				stores[i] = s
			})
		}
		close(start)
		wg.Wait()
		for _, s := range stores {
			if s == nil {
				continue
			}
			if got := versions(t, s); !slices.Equal(got, allVersions()) {
				t.Errorf("round %d: schema_migrations has %v, want %v", round, got, allVersions())
			}
			s.Close()
		}
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	t.Parallel()
	dsn := newDB(t).schema(t)
	for i := range 3 {
		s := openDSN(t, dsn)
		if got := versions(t, s); !slices.Equal(got, allVersions()) {
			t.Errorf("open %d: schema_migrations has %v, want %v", i+1, got, allVersions())
		}
		s.Close()
	}
}

// TestMigrateInSteps applies a list of migrations and then a longer one, as
// a new release would.
func TestMigrateInSteps(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newDB(t).openClosed(t)
	steps := append(slices.Clone(migrations),
		`CREATE TABLE t2 (x integer)`,
		`ALTER TABLE t2 ADD COLUMN y text; CREATE INDEX t2_y ON t2 (y)`)
	for _, n := range []int{len(steps) - 1, len(steps), len(steps)} {
		if err := migrate(ctx, s.pool.Pool, steps[:n]); err != nil {
			t.Fatalf("migrate to %d: %v", n, err)
		}
	}
	if got := versions(t, s); len(got) != len(steps) || got[len(got)-1] != len(steps) {
		t.Errorf("schema_migrations has %v, want 1 to %d", got, len(steps))
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO t2 (x, y) VALUES (1, 'a')`); err != nil {
		t.Errorf("migrated table: %v", err)
	}
}

func TestMigrateFailureRollsBack(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newDB(t).openClosed(t)
	steps := append(slices.Clone(migrations), `CREATE TABLE t2 (x integer)`, `NOT SQL`)
	if err := migrate(ctx, s.pool.Pool, steps); err == nil {
		t.Fatal("migrate with a bad migration succeeded")
	}
	if got := versions(t, s); len(got) != len(migrations) {
		t.Errorf("schema_migrations has %v after a failed migration, want %d versions", got, len(migrations))
	}
	if _, err := s.pool.Exec(ctx, `SELECT * FROM t2`); err == nil {
		t.Error("the failed migration's first step was kept")
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	dsn := newDB(t).schema(t)
	s := openDSN(t, dsn)
	if _, err := s.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version) VALUES ($1)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(t.Context(), dsn, Options{}); err == nil {
		s.Close()
		t.Fatal("Open of a database from a newer release succeeded")
	}
}

// TestOpenUnreachable: a server that does not answer is an error from Open,
// not a store that fails later.
func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s, err := Open(ctx, "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5", Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open of a server that is not there succeeded")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error names the password: %v", err)
	}
}

// TestReopen checks that what is stored survives reopening, to the
// microsecond, and comes back in UTC.
func TestReopen(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	dsn := newDB(t).schema(t)
	now := time.Now().Truncate(time.Microsecond)
	zone := time.FixedZone("CEST", 2*3600)
	l := state.Lock{
		Token: "urn:uuid:6f1c5a1e-8a3c-4d6e-9b1f-2c3d4e5f6a7b", Root: "/guastalla/2019", Infinite: true,
		Owner: "<D:href>mailto:x@example.com</D:href>", Principal: "x",
		Timeout: time.Hour, Expires: now.Add(time.Hour).In(zone), Created: now,
	}
	pr := state.Prop{PropName: state.PropName{Space: "urn:x", Local: "y"}, Lang: "it", InnerXML: []byte("è\x00\xff")}
	a := state.Account{Name: "Città", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$YWJj$ZGVm", Created: now.In(zone), Updated: now}

	s := openDSN(t, dsn)
	if err := s.CreateLock(ctx, l); err != nil {
		t.Fatalf("CreateLock: %v", err)
	}
	if err := s.PatchProps(ctx, "/guastalla", []state.Prop{pr}, nil); err != nil {
		t.Fatalf("PatchProps: %v", err)
	}
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	s.Close()

	s = openDSN(t, dsn)
	defer s.Close()
	got, err := s.Lock(ctx, l.Token)
	if err != nil {
		t.Fatalf("Lock after reopening: %v", err)
	}
	want := l
	want.Created, want.Expires = l.Created.UTC(), l.Expires.UTC()
	if got != want { // == on times compares the instants and the zones
		t.Errorf("Lock after reopening =\n%+v\nwant\n%+v", got, want)
	}
	props, err := s.Props(ctx, "/guastalla")
	if err != nil {
		t.Fatalf("Props: %v", err)
	}
	if len(props) != 1 || props[0].PropName != pr.PropName || string(props[0].InnerXML) != string(pr.InnerXML) {
		t.Errorf("Props after reopening = %+v, want %+v", props, pr)
	}
	gotAccount, err := s.Account(ctx, a.Name)
	if wantAccount := (state.Account{Name: a.Name, PasswordHash: a.PasswordHash, Created: a.Created.UTC(), Updated: a.Updated.UTC()}); err != nil || gotAccount != wantAccount {
		t.Errorf("Account after reopening = %+v, %v; want %+v", gotAccount, err, wantAccount)
	}
}

// TestUnstorableKeys: looking up a key that PostgreSQL's text cannot hold,
// as a client may send one, finds nothing rather than failing.
func TestUnstorableKeys(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newDB(t).openClosed(t)
	now := time.Now()
	for _, key := range []string{"caff\xe8", "a\x00b"} {
		if _, err := s.Lock(ctx, key); !errors.Is(err, state.ErrNoSuchLock) {
			t.Errorf("Lock(%q): error = %v, want ErrNoSuchLock", key, err)
		}
		if _, err := s.RefreshLock(ctx, key, time.Hour, now); !errors.Is(err, state.ErrNoSuchLock) {
			t.Errorf("RefreshLock(%q): error = %v, want ErrNoSuchLock", key, err)
		}
		if err := s.DeleteLock(ctx, key); !errors.Is(err, state.ErrNoSuchLock) {
			t.Errorf("DeleteLock(%q): error = %v, want ErrNoSuchLock", key, err)
		}
		notFound := map[string]error{
			"Session":            second(s.Session(ctx, key, now)),
			"TouchSession":       s.TouchSession(ctx, key, now),
			"TakeFlow":           second(s.TakeFlow(ctx, key, now)),
			"DeleteAppPassword":  s.DeleteAppPassword(ctx, key, "id"),
			"Account":            second(s.Account(ctx, key)),
			"SetAccountPassword": s.SetAccountPassword(ctx, key, "h", now),
			"DeleteAccount":      s.DeleteAccount(ctx, key),
			"Person":             second(s.Person(ctx, key)),
			"DeleteGrant":        s.DeleteGrant(ctx, key),
		}
		for name, err := range notFound {
			if !errors.Is(err, state.ErrNotFound) {
				t.Errorf("%s(%q): error = %v, want ErrNotFound", name, key, err)
			}
		}
		if err := s.DeleteSession(ctx, key); err != nil {
			t.Errorf("DeleteSession(%q): %v", key, err)
		}
		if ps, err := s.AppPasswords(ctx, key); err != nil || ps != nil {
			t.Errorf("AppPasswords(%q) = %v, %v; want none", key, ps, err)
		}
		if gs, err := s.Grants(ctx, state.GrantFilter{Person: key}); err != nil || gs != nil {
			t.Errorf("Grants(Person: %q) = %v, %v; want none", key, gs, err)
		}
		if err := s.TouchAppPasswords(ctx, map[string]time.Time{key: now}); err != nil {
			t.Errorf("TouchAppPasswords(%q): %v", key, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// TestAuditInvalidText: a record holding what text cannot is written with
// U+FFFD in its place, and the rest of its batch with it.
func TestAuditInvalidText(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newDB(t).openClosed(t)
	now := time.Now().Truncate(time.Microsecond)
	recs := []state.AuditRecord{
		{Time: now, Method: "GET", Path: "/guastalla/a", Comune: "guastalla", Status: 200},
		{Time: now, Method: "GET", Path: "/guastalla/caff\xe8\x00", Destination: "/x\xff", Comune: "guastalla", Status: 400},
	}
	if err := s.AppendAudit(ctx, recs); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	var paths []string
	err := s.Audit(ctx, state.AuditFilter{PathPrefix: "/guastalla"}, func(r state.AuditRecord) error {
		paths = append(paths, r.Path+" "+r.Destination)
		return nil
	})
	if want := []string{"/guastalla/a ", "/guastalla/caff\uFFFD\uFFFD /x\uFFFD"}; err != nil || !slices.Equal(paths, want) {
		t.Errorf("Audit = %q, %v; want %q", paths, err, want)
	}
	// A filter holding the same bytes selects the record.
	var n int
	if err := s.Audit(ctx, state.AuditFilter{PathPrefix: "/guastalla/caff\xe8\x00"}, func(state.AuditRecord) error {
		n++
		return nil
	}); err != nil || n != 1 {
		t.Errorf("Audit by the invalid path found %d records, %v; want 1", n, err)
	}
}

// countAudit returns the number of records in the audit log.
func countAudit(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM audit`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAuditAppendOnly checks that the database itself refuses a change to
// the audit log, whatever code tries it.
func TestAuditAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newDB(t).openClosed(t)
	if err := s.AppendAudit(ctx, []state.AuditRecord{{Time: time.Now(), Path: "/a", Status: 403}}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE audit SET status = 200`,
		`UPDATE audit SET status = 200 WHERE false`,
		`TRUNCATE audit`,
		`INSERT INTO audit (id, time, request_id, person, credential, client, method, path, destination, comune, status, bytes)
			VALUES (1000, now(), '', '', '', '', '', '', '', '', 0, 0)`,
	} {
		if _, err := s.pool.Exec(ctx, q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
	var status int
	if err := s.pool.QueryRow(ctx, `SELECT status FROM audit`).Scan(&status); err != nil || status != 403 {
		t.Errorf("status after refused changes = %d, %v; want 403", status, err)
	}
}

// TestDeleteAuditBeforeInBatches deletes more records than one batch holds.
func TestDeleteAuditBeforeInBatches(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newDB(t).openClosed(t)
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
		{recs[n-1].Time.Add(time.Microsecond), 0},
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

// TestIncomplete checks that records missing what the store cannot do
// without are refused, as by the SQLite store.
func TestIncomplete(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newDB(t).openClosed(t)
	now := time.Now()
	refused := map[string]error{
		"CreateLock without Created": s.CreateLock(ctx, state.Lock{Token: "t", Root: "/a"}),
		"CreateSession without Expires": s.CreateSession(ctx, state.Session{
			ID: "s", Person: "p", Created: now, LastSeen: now,
		}),
		"CreateAppPassword without Hash":  s.CreateAppPassword(ctx, state.AppPassword{ID: "a", Owner: "p", Created: now}),
		"CreateAccount with a NUL":        s.CreateAccount(ctx, state.Account{Name: "de\x00mo", PasswordHash: "h", Created: now, Updated: now}),
		"CreateAccount not UTF-8":         s.CreateAccount(ctx, state.Account{Name: "caff\xe8", PasswordHash: "h", Created: now, Updated: now}),
		"UpsertPerson without Key":        s.UpsertPerson(ctx, state.Person{LastSignIn: now}),
		"CreateGrant without Expires":     s.CreateGrant(ctx, state.Grant{ID: "g", Person: "p", Path: "/a", Created: now}),
		"AppendAudit without Time":        s.AppendAudit(ctx, []state.AuditRecord{{Time: now, Path: "/a"}, {Path: "/b"}}),
		"DeleteAuditBefore the zero time": s.DeleteAuditBefore(ctx, time.Time{}),
		"Grants Live without Now":         second(s.Grants(ctx, state.GrantFilter{Live: true})),
	}
	for name, err := range refused {
		if err == nil {
			t.Errorf("%s succeeded", name)
		}
	}
	if n := countAudit(t, s); n != 0 {
		t.Errorf("%d records stored from a refused batch", n)
	}
}

// TestPlans checks that the queries run on every request, and those that
// range over subtrees, can be answered from their indexes: the "C"
// collation of the columns and of the indexes must agree with the
// queries'. Sequential scans are disabled, as on tables this small the
// planner would rightly prefer them.
func TestPlans(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newDB(t).openClosed(t)
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET enable_seqscan = off`); err != nil {
		t.Fatal(err)
	}
	defer conn.Exec(context.Background(), `RESET enable_seqscan`)
	now := time.Now()
	lo, hi := below("/a/b")
	grants, args, err := grantsQuery(state.GrantFilter{Person: "p", Live: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		query string
		args  []any
		index string
	}{
		{"app password by hash", appPasswordByHash, []any{[]byte{1}, now}, "app_passwords_hash_key"},
		{"a person's live grants", grants, args, "grants_person"},
		{"a subtree of properties", deleteTree, []any{"/a/b", lo, hi}, "props_pkey"},
		{"child properties", `SELECT path FROM props WHERE path = $1 OR parent = $1`, []any{"/a"}, "props_parent"},
		{"properties of a page", propsOfQuery, []any{[]string{"/a", "/a/b"}}, "props_pkey"},
		{"locks on a path and below", liveLocksQuery, []any{[]string{"/", "/a", "/a/b"}, true, lo, hi, now}, "locks_root"},
		{"the oldest audit records", auditDeleteOldest, []any{now, auditDeleteBatch}, "audit_time"},
	}
	for _, tt := range tests {
		rows, err := conn.Query(ctx, `EXPLAIN `+tt.query, tt.args...)
		if err != nil {
			t.Fatalf("EXPLAIN %s: %v", tt.name, err)
		}
		plan, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("EXPLAIN %s: %v", tt.name, err)
		}
		if got := strings.Join(plan, "\n"); !strings.Contains(got, tt.index) || strings.Contains(got, "Seq Scan") {
			t.Errorf("plan of %s:\n%s\nwant a scan of %s", tt.name, got, tt.index)
		}
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	s := newDB(t).openClosed(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	statetest.RunExpiry(t, func(t *testing.T) state.Store { return db.openClosed(t) })
}
