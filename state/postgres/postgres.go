// Package postgres implements the state store (state.Store, AuthStore,
// AccountStore, AccessStore) in a PostgreSQL database, for a gateway that
// runs as several replicas on several hosts. It uses the pure-Go driver
// github.com/jackc/pgx/v5 through its connection pool, pgxpool.
//
// The schema follows the SQLite store's, table for table and version for
// version, with PostgreSQL's types: timestamptz for times (whole
// microseconds; a NULL expires means never), bytea for binary values, text[]
// for lists, and the "C" collation on every text column that is ordered,
// ranged over or indexed, so that orders and subtree ranges are in byte
// order whatever the database's locale.
//
// PostgreSQL's text holds neither NUL nor invalid UTF-8. Writes holding
// them fail, except audit records (see AppendAudit); lookups by a key that
// cannot be stored find nothing rather than fail, as the key, a lock token
// or an account name, may come from a client.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bassareggiana/faldone/state"
)

// migrations brings the schema up to date: migrations[i] takes a database
// from version i to version i+1, the same steps as the SQLite store's. Append
// to it; never edit a migration that has shipped.
var migrations = []string{
	`CREATE TABLE props (
		path   text COLLATE "C" NOT NULL,
		parent text COLLATE "C" NOT NULL,
		space  text COLLATE "C" NOT NULL,
		local  text COLLATE "C" NOT NULL,
		lang   text NOT NULL,
		value  bytea NOT NULL,
		PRIMARY KEY (path, space, local)
	);
	CREATE INDEX props_parent ON props (parent);
	CREATE TABLE locks (
		token      text COLLATE "C" PRIMARY KEY,
		root       text COLLATE "C" NOT NULL,
		infinite   boolean NOT NULL,
		shared     boolean NOT NULL,
		owner      text NOT NULL,
		principal  text NOT NULL,
		timeout_ns bigint NOT NULL,
		expires    timestamptz,
		created    timestamptz NOT NULL
	);
	CREATE INDEX locks_root ON locks (root);`,

	// Authentication. The UNIQUE constraint on hash gives the index that
	// AppPasswordByHash, run on every WebDAV request, looks up. The owner
	// index also orders a listing by creation time.
	`CREATE TABLE sessions (
		id        text COLLATE "C" PRIMARY KEY,
		person    text NOT NULL,
		display   text NOT NULL,
		acr       text NOT NULL,
		id_token  text NOT NULL,
		csrf      text NOT NULL,
		created   timestamptz NOT NULL,
		last_seen timestamptz NOT NULL,
		expires   timestamptz NOT NULL
	);
	CREATE TABLE flows (
		state   text COLLATE "C" PRIMARY KEY,
		data    bytea NOT NULL,
		expires timestamptz NOT NULL
	);
	CREATE TABLE app_passwords (
		id        text COLLATE "C" PRIMARY KEY,
		owner     text COLLATE "C" NOT NULL,
		name      text NOT NULL,
		hash      bytea NOT NULL UNIQUE,
		read_only boolean NOT NULL,
		comuni    text[] NOT NULL,
		created   timestamptz NOT NULL,
		expires   timestamptz,
		last_used timestamptz
	);
	CREATE INDEX app_passwords_owner ON app_passwords (owner, created);`,

	// Local accounts. The primary key's index, in the "C" collation, gives
	// Accounts its byte order.
	`CREATE TABLE accounts (
		name          text COLLATE "C" PRIMARY KEY,
		password_hash text NOT NULL,
		created       timestamptz NOT NULL,
		updated       timestamptz NOT NULL
	);`,

	// People, grants and the audit log. grants_person serves the lookup of
	// a person's live grants, run on every request; grants_comune a
	// manager's listing. The audit id comes from a sequence (an identity
	// column, the standard form of bigserial), which never hands out a
	// value twice, not even after retention has deleted the newest
	// records; GENERATED ALWAYS refuses an id chosen by the writer. The
	// trigger refuses any UPDATE, and TRUNCATE, of the log: a guard against
	// a change slipping into the code, not against whoever owns the
	// tables, and not against a DELETE, which retention needs.
	`CREATE TABLE people (
		key          text COLLATE "C" PRIMARY KEY,
		display      text NOT NULL,
		groups       text[] NOT NULL,
		last_sign_in timestamptz NOT NULL
	);
	CREATE TABLE grants (
		id         text COLLATE "C" PRIMARY KEY,
		person     text COLLATE "C" NOT NULL,
		path       text COLLATE "C" NOT NULL,
		comune     text COLLATE "C" NOT NULL,
		write      boolean NOT NULL,
		reason     text NOT NULL,
		granted_by text NOT NULL,
		created    timestamptz NOT NULL,
		expires    timestamptz NOT NULL
	);
	CREATE INDEX grants_person ON grants (person, expires);
	CREATE INDEX grants_comune ON grants (comune);
	CREATE TABLE audit (
		id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		time        timestamptz NOT NULL,
		request_id  text NOT NULL,
		person      text COLLATE "C" NOT NULL,
		credential  text NOT NULL,
		client      text NOT NULL,
		method      text NOT NULL,
		path        text COLLATE "C" NOT NULL,
		destination text NOT NULL,
		comune      text COLLATE "C" NOT NULL,
		status      integer NOT NULL,
		bytes       bigint NOT NULL
	);
	CREATE INDEX audit_time ON audit (time);
	CREATE INDEX audit_comune ON audit (comune, time);
	CREATE INDEX audit_person ON audit (person, time);
	CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		RAISE EXCEPTION 'audit records cannot be changed';
	END
	$$;
	CREATE TRIGGER audit_append_only BEFORE UPDATE OR TRUNCATE ON audit
		FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();`,

	// Counts of sign-in attempts, for the throttling of password guesses:
	// one row per key and window, deleted by DeleteExpired once the window
	// ends.
	`CREATE TABLE attempts (
		key     text COLLATE "C" PRIMARY KEY,
		count   bigint NOT NULL,
		expires timestamptz NOT NULL
	);`,

	// The audit record's key, which makes a batch shipped twice (after a
	// failure whose outcome was unknown) count once, and the request target
	// as the client sent it. Rows from before have no key (NULL, which
	// never conflicts) and an empty target.
	`ALTER TABLE audit ADD COLUMN key text COLLATE "C" UNIQUE,
		ADD COLUMN target text NOT NULL DEFAULT '';`,

	// The digests of files (state.DigestStore), one row a file. The
	// primary key's index, in the "C" collation, serves the lookups, the
	// ranges over a tree and their byte order.
	`CREATE TABLE digests (
		path     text COLLATE "C" PRIMARY KEY,
		sha256   bytea NOT NULL,
		size     bigint NOT NULL,
		etag     text NOT NULL,
		recorded timestamptz NOT NULL
	);`,

	// The SHA-256 of the file a write stored, for the access log; ""
	// for other requests and for records from before.
	`ALTER TABLE audit ADD COLUMN sha256 text NOT NULL DEFAULT '';`,

	// Leases (state.LeaseStore): a handful of rows, one for each piece of
	// background work the replicas divide (a Comune's scrub), each kept
	// until released and replaced once expired, not deleted by
	// DeleteExpired.
	`CREATE TABLE leases (
		name    text COLLATE "C" PRIMARY KEY,
		holder  text COLLATE "C" NOT NULL,
		expires timestamptz NOT NULL
	);`,

	// Closed dossiers (state.DossierStore).
	`CREATE TABLE closed_dossiers (
		path   text COLLATE "C" PRIMARY KEY,
		by     text NOT NULL,
		reason text NOT NULL,
		closed timestamptz NOT NULL
	);`,

	// The recycle bin and the versions (state.TrashStore), as the SQLite
	// store's. folded is the path as kept.Fold makes it, for the
	// searches: lower() in the "C" collation folds ASCII alone. A
	// record's items are read in the primary key's order, byte order of
	// rel; mod_time is NULL for a zero time, sha256 NULL when there is
	// none, props kept.EncodeProps's.
	`CREATE TABLE kept (
		id      text COLLATE "C" PRIMARY KEY,
		kind    text COLLATE "C" NOT NULL,
		path    text COLLATE "C" NOT NULL,
		folded  text COLLATE "C" NOT NULL,
		is_dir  boolean NOT NULL,
		size    bigint NOT NULL,
		files   bigint NOT NULL,
		by      text NOT NULL,
		origin  text NOT NULL,
		at      timestamptz NOT NULL,
		storage text NOT NULL
	);
	CREATE INDEX kept_path ON kept (path);
	CREATE INDEX kept_kind_at ON kept (kind, at);
	CREATE INDEX kept_at ON kept (at);
	CREATE TABLE kept_items (
		kept_id  text COLLATE "C" NOT NULL REFERENCES kept (id) ON DELETE CASCADE,
		rel      text COLLATE "C" NOT NULL,
		is_dir   boolean NOT NULL,
		size     bigint NOT NULL,
		mod_time timestamptz,
		locator  text NOT NULL,
		sha256   bytea,
		props    bytea NOT NULL,
		PRIMARY KEY (kept_id, rel)
	);
	CREATE TABLE departures (
		from_path text COLLATE "C" PRIMARY KEY,
		to_path   text NOT NULL,
		etag      text NOT NULL,
		size      bigint NOT NULL,
		at        timestamptz NOT NULL
	);
	CREATE INDEX departures_at ON departures (at);`,

	// The dossier catalogue (state.CatalogueStore), as the SQLite store's,
	// with PostgreSQL's own full text: words and streets are the italian
	// configuration's tsvectors (its Snowball stems, its stop words) of
	// the text as package words folds it (accents off, its tokens), in
	// GIN indexes that answer prefixes (:*) too.
	`CREATE TABLE dossiers (
		id         bigserial PRIMARY KEY,
		path       text COLLATE "C" NOT NULL UNIQUE,
		comune     text COLLATE "C" NOT NULL,
		year       integer NOT NULL,
		type       text NOT NULL,
		number     text NOT NULL,
		deleted    boolean NOT NULL,
		record     bytea NOT NULL,
		updated    timestamptz NOT NULL,
		updated_by text NOT NULL,
		words      tsvector NOT NULL,
		streets    tsvector NOT NULL
	);
	CREATE INDEX dossiers_comune_year ON dossiers (comune, year);
	CREATE INDEX dossiers_words ON dossiers USING gin (words);
	CREATE INDEX dossiers_streets ON dossiers USING gin (streets);
	CREATE TABLE dossier_parcels (
		dossier bigint NOT NULL REFERENCES dossiers (id) ON DELETE CASCADE,
		sheet   text COLLATE "C" NOT NULL,
		number  text COLLATE "C" NOT NULL,
		sub     text COLLATE "C" NOT NULL
	);
	CREATE INDEX dossier_parcels_sheet ON dossier_parcels (sheet, number);
	CREATE INDEX dossier_parcels_dossier ON dossier_parcels (dossier);
	CREATE TABLE catalogue_words (word text COLLATE "C" PRIMARY KEY);
	CREATE TABLE file_texts (
		id      bigserial PRIMARY KEY,
		path    text COLLATE "C" NOT NULL UNIQUE,
		dossier text COLLATE "C" NOT NULL,
		etag    text NOT NULL,
		text    text NOT NULL,
		words   tsvector NOT NULL
	);
	CREATE INDEX file_texts_dossier ON file_texts (dossier);
	CREATE INDEX file_texts_words ON file_texts USING gin (words);
	CREATE TABLE index_jobs (
		path    text COLLATE "C" PRIMARY KEY,
		queued  timestamptz NOT NULL,
		holder  text NOT NULL,
		taken   timestamptz NOT NULL,
		attempt integer NOT NULL,
		failed  boolean NOT NULL
	);
	CREATE INDEX index_jobs_queued ON index_jobs (failed, queued);`,

	// E-mail: a person's address from their provider, a grant's as the
	// granter typed it ("" for none, and for the rows from before), and
	// the notices (state.NoticeStore), one row an e-mail, forgotten by
	// DeleteExpired once expired.
	`ALTER TABLE people ADD COLUMN email text NOT NULL DEFAULT '';
	ALTER TABLE grants ADD COLUMN email text NOT NULL DEFAULT '';
	CREATE TABLE notices (
		kind     text COLLATE "C" NOT NULL,
		key      text COLLATE "C" NOT NULL,
		state    text NOT NULL,
		attempts integer NOT NULL,
		updated  timestamptz NOT NULL,
		expires  timestamptz NOT NULL,
		PRIMARY KEY (kind, key)
	);
	CREATE INDEX notices_expires ON notices (expires);`,
}

// Keys of the transaction-scoped advisory locks the store takes. Advisory
// lock keys are shared by every application using the database, so these
// are "faldone" in ASCII followed by a number, unlikely to be anyone
// else's. Being per database, not per schema, they also make stores in
// different schemas of one database take turns, which costs nothing at the
// rate they are taken.
const (
	migrateLockKey    int64 = 0x66616c646f6e6501 // Open's migrations
	createLockLockKey int64 = 0x66616c646f6e6502 // CreateLock's check and insert
)

// deadlockRetries is how many times write runs a transaction that
// PostgreSQL aborted to break a deadlock.
const deadlockRetries = 3

// Store is the state store on PostgreSQL. It is safe for concurrent use, by
// goroutines and by the replicas sharing the database.
type Store struct {
	// pool runs every query. pgx prepares each query on the connection
	// that first runs it and keeps it prepared, so the queries run on every
	// request (AppPasswordByHash, a person's live grants) are parsed and
	// planned once per connection, not every time.
	pool guardedPool
}

var (
	_ state.ResourceStore = (*Store)(nil)
	_ state.DigestStore   = (*Store)(nil)
	_ state.AuthStore     = (*Store)(nil)
	_ state.AccountStore  = (*Store)(nil)
	_ state.AccessStore   = (*Store)(nil)
	_ state.LeaseStore    = (*Store)(nil)
)

// Options tune a Store; zero values take the defaults.
type Options struct {
	// QueryTimeout bounds each query and transaction (default 10 s): past
	// it the store is unavailable for that call. The streams of the audit
	// export and of a tree's digests are not bounded.
	QueryTimeout time.Duration
}

// Open connects to the database that dsn names (a URL or keyword/value
// connection string, as pgx takes it, with pgxpool's pool_* settings) and
// brings its schema up to date. The tables live in the first schema of the
// search path, so a search_path setting in dsn picks the schema.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	if opt.QueryTimeout <= 0 {
		opt.QueryTimeout = 10 * time.Second
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err) // pgx's message hides the password
	}
	// The DSN itself may hold a password: errors name the database instead.
	db := fmt.Sprintf("database %q on %s:%d", cfg.ConnConfig.Database, cfg.ConnConfig.Host, cfg.ConnConfig.Port)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open %s: %w", db, err)
	}
	if err := checkEncoding(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", db, err)
	}
	if err := migrate(ctx, pool, migrations); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", db, err)
	}
	return &Store{pool: guardedPool{pool, opt.QueryTimeout}}, nil
}

// checkEncoding refuses a database whose encoding is not UTF-8: in another
// one, text could not hold every name (a LATIN1 database refuses "日本語"),
// and the "C" collation's byte order would not be the order of code points
// that Accounts promises.
func checkEncoding(ctx context.Context, pool *pgxpool.Pool) error {
	var enc string
	if err := pool.QueryRow(ctx, `SELECT current_setting('server_encoding')`).Scan(&enc); err != nil {
		return err
	}
	if enc != "UTF8" {
		return fmt.Errorf("the database's encoding is %s, not UTF8", enc)
	}
	return nil
}

// migrate applies, in one transaction, the migrations the database lacks,
// recording each version it reaches in schema_migrations. Reopening an
// up-to-date database changes nothing. Replicas starting at once take turns
// on an advisory lock, taken before anything else: without it, two could
// both find the table missing and both create it, or both apply the same
// migration. PostgreSQL runs DDL transactionally, so a failed migration
// leaves the schema as it was. A database newer than this program is
// refused rather than used with a schema the program does not know.
//
// Not bounded by the query timeout: a migration of a large table may take
// as long as it takes.
func migrate(ctx context.Context, pool *pgxpool.Pool, migrations []string) error {
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLockKey); err != nil {
			return err
		}
		// Each statement below sees what the replica that held the lock
		// before committed: READ COMMITTED takes a snapshot per statement.
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY,
			applied timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
			return err
		}
		if have > len(migrations) {
			return fmt.Errorf("database schema version %d is newer than this program's %d", have, len(migrations))
		}
		for v := have + 1; v <= len(migrations); v++ {
			// Without arguments pgx sends the simple protocol, which takes
			// several statements at once.
			if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
				return fmt.Errorf("to version %d: %w", v, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v); err != nil {
				return fmt.Errorf("to version %d: %w", v, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// write runs fn in a transaction and commits it unless fn fails. A
// transaction that PostgreSQL aborts to break a deadlock runs again, up to
// deadlockRetries times: two PROPPATCHes setting the same names of one
// resource in different orders, or two COPYs into overlapping trees, can
// each wait for a row the other holds, and neither is the client's fault.
// fn must therefore leave nothing behind but through tx.
//
// The transaction is READ COMMITTED, set rather than left to the server's
// default_transaction_isolation, because the store's transactions that
// wait on an advisory lock rely on each later statement taking a fresh
// snapshot, one that sees what the previous holder committed; a
// REPEATABLE READ snapshot would be taken before the wait.
func (s *Store) write(ctx context.Context, fn func(pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.pool.inTx(ctx, fn)
		var pgErr *pgconn.PgError
		if attempt < deadlockRetries && errors.As(err, &pgErr) && pgErr.Code == "40P01" { // deadlock_detected
			continue
		}
		return err
	}
}

// Ping reports whether the database answers, for a readiness check.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes the pool's connections, waiting for those in use to be
// released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// below returns the bounds of the paths strictly below p, for a query of the
// form `path > lo AND path < hi`. Every such path starts with p+"/", and in
// byte order (the "C" collation of the path columns) those are exactly the
// strings greater than p+"/" and less than p+"0", '0' being the byte after
// '/'. For the root, that is every path but "/" itself.
//
// A range, unlike LIKE p || '/%', needs no escaping of '%', '_' and '\' in
// p, and is answered from a btree index in any collation the column has.
func below(p string) (lo, hi string) {
	if p == "/" {
		return "/", "0"
	}
	return p + "/", p + "0"
}

// storable reports whether s can be stored in, and so compared with, a text
// column: PostgreSQL refuses NUL and invalid UTF-8 in text. A lookup by a
// key that is not storable finds nothing, without asking the database.
func storable(s string) bool { return state.IsValidText(s) }

// mustAffect returns state.ErrNotFound if the statement that gave tag
// changed no row.
func mustAffect(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return state.ErrNotFound
	}
	return nil
}

// nullTime returns t for a nullable timestamptz column: NULL (a nil
// pointer) for the zero time, which means never.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// fromNull reverses nullTime, in UTC.
func fromNull(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
