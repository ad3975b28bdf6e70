// Package sqlite implements the state store (state.Store, AuthStore, AccountStore, AccessStore) in one SQLite database
// file, for a gateway that runs as a single process or as several on one
// host. It uses the pure-Go driver modernc.org/sqlite, so it needs no cgo.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/bassareggiana/faldone/state"
)

// busyTimeoutMS is how long a statement waits for another process to release
// the database before failing with SQLITE_BUSY. Goroutines of one process
// never wait on SQLite itself: they queue for the single write connection.
const busyTimeoutMS = 10000

// migrations brings the schema up to date: migrations[i] takes a database
// from version i to version i+1. Append to it; never edit a migration that
// has shipped. Times are unix nanoseconds; a NULL expires means never.
var migrations = []string{
	`CREATE TABLE props (
		path   TEXT NOT NULL,
		parent TEXT NOT NULL,
		space  TEXT NOT NULL,
		local  TEXT NOT NULL,
		lang   TEXT NOT NULL,
		value  BLOB NOT NULL,
		PRIMARY KEY (path, space, local)
	) STRICT;
	CREATE INDEX props_parent ON props (parent);
	CREATE TABLE locks (
		token      TEXT PRIMARY KEY,
		root       TEXT NOT NULL,
		infinite   INTEGER NOT NULL,
		shared     INTEGER NOT NULL,
		owner      TEXT NOT NULL,
		principal  TEXT NOT NULL,
		timeout_ns INTEGER NOT NULL,
		expires    INTEGER,
		created    INTEGER NOT NULL
	) STRICT;
	CREATE INDEX locks_root ON locks (root);`,

	// Authentication. The UNIQUE constraint on hash gives the index that
	// AppPasswordByHash, run on every WebDAV request, looks up. comuni is a
	// JSON array of strings. The owner index also orders a listing by
	// creation time.
	`CREATE TABLE sessions (
		id        TEXT PRIMARY KEY,
		person    TEXT NOT NULL,
		display   TEXT NOT NULL,
		acr       TEXT NOT NULL,
		id_token  TEXT NOT NULL,
		csrf      TEXT NOT NULL,
		created   INTEGER NOT NULL,
		last_seen INTEGER NOT NULL,
		expires   INTEGER NOT NULL
	) STRICT;
	CREATE TABLE flows (
		state   TEXT PRIMARY KEY,
		data    BLOB NOT NULL,
		expires INTEGER NOT NULL
	) STRICT;
	CREATE TABLE app_passwords (
		id        TEXT PRIMARY KEY,
		owner     TEXT NOT NULL,
		name      TEXT NOT NULL,
		hash      BLOB NOT NULL UNIQUE,
		read_only INTEGER NOT NULL,
		comuni    TEXT NOT NULL,
		created   INTEGER NOT NULL,
		expires   INTEGER,
		last_used INTEGER
	) STRICT;
	CREATE INDEX app_passwords_owner ON app_passwords (owner, created);`,

	// Local accounts. The primary key's index, in the BINARY collation,
	// gives Accounts its byte order. NOT NULL because SQLite, for
	// compatibility, lets a TEXT primary key be NULL.
	`CREATE TABLE accounts (
		name          TEXT NOT NULL PRIMARY KEY,
		password_hash TEXT NOT NULL,
		created       INTEGER NOT NULL,
		updated       INTEGER NOT NULL
	) STRICT;`,

	// People, grants and the audit log. groups is a JSON array of strings.
	// grants_person serves the lookup of a person's live grants, run on
	// every request; grants_comune a manager's listing. The audit id is
	// AUTOINCREMENT so that an id is never reused, not even after retention
	// has deleted the newest records. The trigger refuses any UPDATE of a
	// record: a guard against a change slipping into the code, not against
	// whoever can write the file, and not against a DELETE, which retention
	// needs.
	`CREATE TABLE people (
		key          TEXT NOT NULL PRIMARY KEY,
		display      TEXT NOT NULL,
		groups       TEXT NOT NULL,
		last_sign_in INTEGER NOT NULL
	) STRICT;
	CREATE TABLE grants (
		id         TEXT NOT NULL PRIMARY KEY,
		person     TEXT NOT NULL,
		path       TEXT NOT NULL,
		comune     TEXT NOT NULL,
		write      INTEGER NOT NULL,
		reason     TEXT NOT NULL,
		granted_by TEXT NOT NULL,
		created    INTEGER NOT NULL,
		expires    INTEGER NOT NULL
	) STRICT;
	CREATE INDEX grants_person ON grants (person, expires);
	CREATE INDEX grants_comune ON grants (comune);
	CREATE TABLE audit (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		time        INTEGER NOT NULL,
		request_id  TEXT NOT NULL,
		person      TEXT NOT NULL,
		credential  TEXT NOT NULL,
		client      TEXT NOT NULL,
		method      TEXT NOT NULL,
		path        TEXT NOT NULL,
		destination TEXT NOT NULL,
		comune      TEXT NOT NULL,
		status      INTEGER NOT NULL,
		bytes       INTEGER NOT NULL
	) STRICT;
	CREATE INDEX audit_time ON audit (time);
	CREATE INDEX audit_comune ON audit (comune, time);
	CREATE INDEX audit_person ON audit (person, time);
	CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
	BEGIN
		SELECT RAISE(ABORT, 'audit records cannot be changed');
	END;`,

	// Counts of sign-in attempts, for the throttling of password guesses:
	// one row per key and window, deleted by DeleteExpired once the window
	// ends.
	`CREATE TABLE attempts (
		key     TEXT NOT NULL PRIMARY KEY,
		count   INTEGER NOT NULL,
		expires INTEGER NOT NULL
	) STRICT;`,

	// The audit record's key, which makes a batch shipped twice (after a
	// failure whose outcome was unknown) count once, and the request target
	// as the client sent it. Rows from before have no key (NULL, which
	// never conflicts) and an empty target.
	`ALTER TABLE audit ADD COLUMN key TEXT;
	ALTER TABLE audit ADD COLUMN target TEXT NOT NULL DEFAULT '';
	CREATE UNIQUE INDEX audit_key ON audit (key);`,

	// The digests of files (state.DigestStore), one row a file. The
	// primary key, in the BINARY collation, serves the lookups, the ranges
	// over a tree and their byte order. WITHOUT ROWID keeps the rows in
	// that key's b-tree: a Comune's millions of paths are stored once, not
	// in the table and again in its index. NOT NULL because SQLite, for
	// compatibility, lets a TEXT primary key be NULL.
	`CREATE TABLE digests (
		path     TEXT NOT NULL PRIMARY KEY,
		sha256   BLOB NOT NULL,
		size     INTEGER NOT NULL,
		etag     TEXT NOT NULL,
		recorded INTEGER NOT NULL
	) STRICT, WITHOUT ROWID;`,

	// The SHA-256 of the file a write stored, for the access log; ""
	// for other requests and for records from before.
	`ALTER TABLE audit ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';`,

	// Leases (state.LeaseStore): a handful of rows, one for each piece of
	// background work the replicas divide (a Comune's scrub), each kept
	// until released and replaced once expired, not deleted by
	// DeleteExpired.
	`CREATE TABLE leases (
		name    TEXT NOT NULL PRIMARY KEY,
		holder  TEXT NOT NULL,
		expires INTEGER NOT NULL
	) STRICT;`,

	// Closed dossiers (state.DossierStore): the key's index serves the
	// lookups of a path's ancestors and the ranges below it.
	`CREATE TABLE closed_dossiers (
		path   TEXT NOT NULL PRIMARY KEY,
		by     TEXT NOT NULL,
		reason TEXT NOT NULL,
		closed INTEGER NOT NULL
	) STRICT;`,

	// The recycle bin and the versions (state.TrashStore). folded is the
	// path as kept.Fold makes it, for the searches: SQLite's lower() folds
	// ASCII alone. kept_path serves a path's versions and the ranges over
	// a tree; kept_kind_at and kept_at the listings, newest first, and the
	// retention's Before. A record's items, thousands for a folder, are
	// clustered under it by WITHOUT ROWID, in byte order of rel; mod_time
	// is NULL for a zero time, sha256 NULL when there is none, props
	// kept.EncodeProps's. A departure lives for seconds, one a path.
	`CREATE TABLE kept (
		id      TEXT NOT NULL PRIMARY KEY,
		kind    TEXT NOT NULL,
		path    TEXT NOT NULL,
		folded  TEXT NOT NULL,
		is_dir  INTEGER NOT NULL,
		size    INTEGER NOT NULL,
		files   INTEGER NOT NULL,
		by      TEXT NOT NULL,
		origin  TEXT NOT NULL,
		at      INTEGER NOT NULL,
		storage TEXT NOT NULL
	) STRICT;
	CREATE INDEX kept_path ON kept (path);
	CREATE INDEX kept_kind_at ON kept (kind, at);
	CREATE INDEX kept_at ON kept (at);
	CREATE TABLE kept_items (
		kept_id  TEXT NOT NULL REFERENCES kept (id) ON DELETE CASCADE,
		rel      TEXT NOT NULL,
		is_dir   INTEGER NOT NULL,
		size     INTEGER NOT NULL,
		mod_time INTEGER,
		locator  TEXT NOT NULL,
		sha256   BLOB,
		props    BLOB NOT NULL,
		PRIMARY KEY (kept_id, rel)
	) STRICT, WITHOUT ROWID;
	CREATE TABLE departures (
		from_path TEXT NOT NULL PRIMARY KEY,
		to_path   TEXT NOT NULL,
		etag      TEXT NOT NULL,
		size      INTEGER NOT NULL,
		at        INTEGER NOT NULL
	) STRICT;
	CREATE INDEX departures_at ON departures (at);`,
	// The dossier catalogue (state.CatalogueStore). A record's fields
	// without a column are cat.Encode's JSON. dossier_words and file_words
	// are FTS5 indexes without content of their own, fed with the stems of
	// package words (FTS5 has no Italian stemmer), their rowids those of
	// dossiers and file_texts; the text kept is the start of each file's,
	// for snippets. catalogue_words is the records' vocabulary, for near
	// words; index_jobs the queue of files to index, any replica's to take.
	`CREATE TABLE dossiers (
		id         INTEGER PRIMARY KEY,
		path       TEXT NOT NULL UNIQUE,
		comune     TEXT NOT NULL,
		year       INTEGER NOT NULL,
		type       TEXT NOT NULL,
		number     TEXT NOT NULL,
		deleted    INTEGER NOT NULL,
		record     BLOB NOT NULL,
		updated    INTEGER NOT NULL,
		updated_by TEXT NOT NULL
	) STRICT;
	CREATE INDEX dossiers_comune_year ON dossiers (comune, year);
	CREATE TABLE dossier_parcels (
		dossier INTEGER NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
		sheet   TEXT NOT NULL,
		number  TEXT NOT NULL,
		sub     TEXT NOT NULL
	) STRICT;
	CREATE INDEX dossier_parcels_sheet ON dossier_parcels (sheet, number);
	CREATE INDEX dossier_parcels_dossier ON dossier_parcels (dossier);
	CREATE VIRTUAL TABLE dossier_words USING fts5 (words, streets, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
	CREATE TABLE catalogue_words (word TEXT NOT NULL PRIMARY KEY) STRICT, WITHOUT ROWID;
	CREATE TABLE file_texts (
		id      INTEGER PRIMARY KEY,
		path    TEXT NOT NULL UNIQUE,
		dossier TEXT NOT NULL,
		etag    TEXT NOT NULL,
		text    TEXT NOT NULL
	) STRICT;
	CREATE INDEX file_texts_dossier ON file_texts (dossier);
	CREATE VIRTUAL TABLE file_words USING fts5 (words, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2');
	CREATE TABLE index_jobs (
		path    TEXT NOT NULL PRIMARY KEY,
		queued  INTEGER NOT NULL,
		holder  TEXT NOT NULL,
		taken   INTEGER NOT NULL,
		attempt INTEGER NOT NULL,
		failed  INTEGER NOT NULL
	) STRICT;
	CREATE INDEX index_jobs_queued ON index_jobs (failed, queued);`,

	// E-mail: a person's address from their provider, a grant's as the
	// granter typed it ("" for none, and for the rows from before), and
	// the notices (state.NoticeStore), one row an e-mail, forgotten by
	// DeleteExpired once expired.
	`ALTER TABLE people ADD COLUMN email TEXT NOT NULL DEFAULT '';
	ALTER TABLE grants ADD COLUMN email TEXT NOT NULL DEFAULT '';
	CREATE TABLE notices (
		kind     TEXT NOT NULL,
		key      TEXT NOT NULL,
		state    TEXT NOT NULL,
		attempts INTEGER NOT NULL,
		updated  INTEGER NOT NULL,
		expires  INTEGER NOT NULL,
		PRIMARY KEY (kind, key)
	) STRICT, WITHOUT ROWID;
	CREATE INDEX notices_expires ON notices (expires);`,
}

// Store is a state.Store backed by SQLite. It is safe for concurrent use.
type Store struct {
	// w is a single connection that runs every write, so that goroutines
	// take turns in database/sql instead of failing with SQLITE_BUSY. Its
	// transactions begin IMMEDIATE: they hold the write lock from their
	// first statement, so a check and the write that depends on it cannot
	// interleave with another writer, even in another process.
	w *sql.DB
	// r is a pool of read-only connections. In WAL mode they read the last
	// committed state without waiting for the writer. Queries run on it
	// through rd, which prepares each text once.
	r  *sql.DB
	rd *reads
}

var _ state.ResourceStore = (*Store)(nil)

// Open opens the database at path, creating the file if needed, and brings
// its schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	return openWaiting(ctx, path, busyTimeoutMS)
}

// openWaiting is Open with the wait for another process's lock given, which
// tests shorten.
func openWaiting(ctx context.Context, path string, busyTimeoutMS int) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// It holds sessions and password hashes: made here, owner only, rather
	// than by SQLite under the umask. SQLite gives the -wal, -shm and
	// -journal files it makes later the mode of this file.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	f.Close()
	w, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS),
			"foreign_keys(1)",
			"journal_mode(WAL)",
		},
		"_txlock": {"immediate"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	w.SetMaxOpenConns(1)
	if err := migrate(ctx, w, migrations); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}

	// Opened after the writer has switched the file to WAL, which persists.
	r, err := sql.Open("sqlite", dsn(abs, url.Values{
		"_pragma": {
			fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS),
			"query_only(1)",
		},
	}))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n) // keep them: each new connection reruns the pragmas
	return &Store{w: w, r: r, rd: newReads(r)}, nil
}

// dsn returns the driver's name for the database file at the absolute path
// abs. It is a file: URI so that characters such as '?', '#' and '%' in the
// path are escaped rather than taken for the start of the parameters.
func dsn(abs string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: params.Encode()}
	return u.String()
}

// migrate applies, in one transaction, the migrations the database lacks,
// recording each version it reaches in schema_migrations. Reopening an
// up-to-date database changes nothing. Concurrent Opens take turns, as the
// transaction takes the write lock at once; and since SQLite (like
// PostgreSQL) runs DDL transactionally, a failed migration leaves the schema
// as it was. A database newer than this program is refused rather than
// used with a schema the program does not know.
func migrate(ctx context.Context, db *sql.DB, migrations []string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback() // no-op after Commit

	if _, err := tx.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY) STRICT`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var have int
	if err := tx.QueryRowContext(ctx,
		`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("migrate: database schema version %d is newer than this program's %d", have, len(migrations))
	}
	for v := have + 1; v <= len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (?)`, v); err != nil {
			return fmt.Errorf("migrate to version %d: %w", v, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// write runs fn in a transaction on the write connection and commits it
// unless fn fails.
func (s *Store) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return busy(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return busy(err)
	}
	return busy(tx.Commit())
}

// busy marks with state.ErrUnavailable the failure to get the database
// from another process (a command holding the write lock past the busy
// timeout): the same write may succeed in a moment, and the gateway
// answers 503 with Retry-After rather than 500.
func busy(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: %w", state.ErrUnavailable, err)
		}
	}
	return err
}

// Close closes the database.
func (s *Store) Close() error {
	// The writer closes last: the last connection to close checkpoints the
	// WAL into the database file, and a query_only one cannot.
	return errors.Join(s.rd.Close(), s.r.Close(), s.w.Close())
}

// querier is what *sql.DB and *sql.Tx have in common, so that a query can
// run on the read pool or inside a write transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// below returns the bounds of the paths strictly below p, for a query of the
// form `path > lo AND path < hi`. Every such path starts with p+"/", and in
// byte order (SQLite's BINARY collation) those are exactly the strings
// greater than p+"/" and less than p+"0", '0' being the byte after '/'. For
// the root, that is every path but "/" itself.
//
// A range, unlike LIKE p || '/%', needs no escaping of '%', '_' and '\' in p,
// is case-sensitive (SQLite's LIKE ignores ASCII case by default, so
// "/Pratiche/%" would also match "/pratiche/x"), and is answered from an
// index.
func below(p string) (lo, hi string) {
	if p == "/" {
		return "/", "0"
	}
	return p + "/", p + "0"
}

// inList is the parenthesised list of parameters of an IN over vals, and
// their arguments; vals must not be empty.
func inList(vals []string) (string, []any) {
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = v
	}
	return "(?" + strings.Repeat(", ?", len(vals)-1) + ")", args
}
