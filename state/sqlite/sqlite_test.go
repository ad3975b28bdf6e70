package sqlite

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/statetest"
)

func TestStore(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Store {
		return open(t, filepath.Join(t.TempDir(), "state.db"))
	})
}

func open(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "state.db")
	now := time.Now()
	l := state.Lock{
		Token: "urn:uuid:6f1c5a1e-8a3c-4d6e-9b1f-2c3d4e5f6a7b", Root: "/guastalla/2019", Infinite: true,
		Owner: "<D:href>mailto:x@example.com</D:href>", Principal: "x",
		Timeout: time.Hour, Expires: now.Add(time.Hour), Created: now,
	}
	pr := state.Prop{PropName: state.PropName{Space: "urn:x", Local: "y"}, Lang: "it", InnerXML: []byte("è")}

	s := open(t, path)
	if err := s.CreateLock(ctx, l); err != nil {
		t.Fatalf("CreateLock: %v", err)
	}
	if err := s.PatchProps(ctx, "/guastalla", []state.Prop{pr}, nil); err != nil {
		t.Fatalf("PatchProps: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = open(t, path)
	defer s.Close()
	got, err := s.Lock(ctx, l.Token)
	if err != nil {
		t.Fatalf("Lock after reopening: %v", err)
	}
	// Stored at nanosecond precision and returned in UTC.
	if !got.Created.Equal(now) || !got.Expires.Equal(l.Expires) ||
		got.Created.Location() != time.UTC || got.Expires.Location() != time.UTC {
		t.Errorf("times after reopening: created %v, expires %v; want %v, %v in UTC",
			got.Created, got.Expires, now, l.Expires)
	}
	got.Created, got.Expires = l.Created, l.Expires
	if got != l {
		t.Errorf("Lock after reopening =\n%+v\nwant\n%+v", got, l)
	}
	props, err := s.Props(ctx, "/guastalla")
	if err != nil {
		t.Fatalf("Props: %v", err)
	}
	if len(props) != 1 || props[0].PropName != pr.PropName || string(props[0].InnerXML) != "è" {
		t.Errorf("Props after reopening = %+v, want %+v", props, pr)
	}
}

// versions returns the versions recorded in schema_migrations.
func versions(t *testing.T, s *Store) []int {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	var want []int
	for v := range len(migrations) {
		want = append(want, v+1)
	}
	for i := range 3 {
		s := open(t, path)
		if got := versions(t, s); !slices.Equal(got, want) {
			t.Errorf("open %d: schema_migrations has %v, want %v", i+1, got, want)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrateInSteps applies a list of migrations and then a longer one, as
// a new release would.
func TestMigrateInSteps(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	steps := append(slices.Clone(migrations),
		`CREATE TABLE t2 (x INTEGER) STRICT`,
		`ALTER TABLE t2 ADD COLUMN y TEXT; CREATE INDEX t2_y ON t2 (y)`)
	for _, n := range []int{len(steps) - 1, len(steps), len(steps)} {
		if err := migrate(ctx, s.w, steps[:n]); err != nil {
			t.Fatalf("migrate to %d: %v", n, err)
		}
	}
	if got := versions(t, s); len(got) != len(steps) || got[len(got)-1] != len(steps) {
		t.Errorf("schema_migrations has %v, want 1 to %d", got, len(steps))
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO t2 (x, y) VALUES (1, 'a')`); err != nil {
		t.Errorf("migrated table: %v", err)
	}
}

func TestMigrateFailureRollsBack(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	steps := append(slices.Clone(migrations), `CREATE TABLE t2 (x INTEGER)`, `NOT SQL`)
	if err := migrate(ctx, s.w, steps); err == nil {
		t.Fatal("migrate with a bad migration succeeded")
	}
	if got := versions(t, s); len(got) != len(migrations) {
		t.Errorf("schema_migrations has %v after a failed migration, want %d versions", got, len(migrations))
	}
	if _, err := s.w.ExecContext(ctx, `SELECT * FROM t2`); err == nil {
		t.Error("the failed migration's first step was kept")
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	if _, err := s.w.ExecContext(t.Context(), `INSERT INTO schema_migrations (version) VALUES (?)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(t.Context(), path); err == nil {
		s.Close()
		t.Fatal("Open of a database from a newer release succeeded")
	}
}

// TestPathSyntax opens a file whose name has the characters a URI gives a
// meaning to.
func TestPathSyntax(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b?c#d%20e&f=g")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "state.db")
	s := open(t, path)
	defer s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %s: %v", path, err)
	}
}

func TestCreateLockWithoutCreated(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "state.db"))
	defer s.Close()
	if err := s.CreateLock(t.Context(), state.Lock{Token: "t", Root: "/a"}); err == nil {
		t.Error("CreateLock of a lock without a creation time succeeded")
	}
}

// TestFilesPrivate: the database and the WAL files SQLite makes beside it
// are readable by their owner only, whatever the umask.
func TestFilesPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := open(t, path)
	defer s.Close()
	if err := s.PatchProps(t.Context(), "/a", []state.Prop{{PropName: state.PropName{Space: "urn:x", Local: "y"}, InnerXML: []byte("z")}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", filepath.Base(f), m)
		}
	}
}
