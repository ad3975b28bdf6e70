package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bassareggiana/faldone/state"
)

// Sessions.

const sessionColumns = `id, person, display, acr, id_token, csrf, created, last_seen, expires`

// CreateSession stores a new session. Its id must not be in use, and its
// times must be set: a session without an absolute limit would be a bug.
func (s *Store) CreateSession(ctx context.Context, ss state.Session) error {
	if ss.Created.IsZero() || ss.LastSeen.IsZero() || ss.Expires.IsZero() {
		return fmt.Errorf("postgres: create session %q: Created, LastSeen and Expires must be set", ss.ID)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		ss.ID, ss.Person, ss.Display, ss.ACR, ss.Issuer, ss.CSRF, ss.Created, ss.LastSeen, ss.Expires)
	if err != nil {
		return fmt.Errorf("postgres: create session %q: %w", ss.ID, err)
	}
	return nil
}

// Session returns the session with the id unless it has expired at now.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (state.Session, error) {
	var ss state.Session
	err := state.ErrNotFound
	if storable(id) {
		err = s.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = $1 AND expires > $2`,
			id, now).
			Scan(&ss.ID, &ss.Person, &ss.Display, &ss.ACR, &ss.Issuer, &ss.CSRF, &ss.Created, &ss.LastSeen, &ss.Expires)
		if errors.Is(err, pgx.ErrNoRows) {
			err = state.ErrNotFound
		}
	}
	if err != nil {
		// The id is a hash of the cookie's secret, not the secret: safe to log.
		return state.Session{}, fmt.Errorf("postgres: session %q: %w", id, err)
	}
	ss.Created, ss.LastSeen, ss.Expires = ss.Created.UTC(), ss.LastSeen.UTC(), ss.Expires.UTC()
	return ss, nil
}

// TouchSession sets the session's LastSeen to at, unless it is already
// later: requests served by several replicas may report their times out of
// order. A missing session is ErrNotFound.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	err := state.ErrNotFound
	if storable(id) {
		// GREATEST keeps the row matched when it does not change it, so
		// that zero rows means a missing session.
		var tag pgconn.CommandTag
		tag, err = s.pool.Exec(ctx, `UPDATE sessions SET last_seen = GREATEST(last_seen, $1) WHERE id = $2`, at, id)
		if err == nil {
			err = mustAffect(tag)
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: touch session %q: %w", id, err)
	}
	return nil
}

// DeleteSession removes the session with the id, if there is one.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if !storable(id) {
		return nil // there is none
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("postgres: delete session %q: %w", id, err)
	}
	return nil
}

// Sign-in flows.

// SaveFlow stores the data of a pending sign-in under its state value.
func (s *Store) SaveFlow(ctx context.Context, st string, data []byte, expires time.Time) error {
	if data == nil {
		data = []byte{} // nil would be sent as NULL
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO flows (state, data, expires) VALUES ($1, $2, $3)`,
		st, data, expires); err != nil {
		return fmt.Errorf("postgres: save flow: %w", err)
	}
	return nil
}

// TakeFlow deletes the flow with the state value and returns its data. A
// single DELETE … RETURNING makes the read and the delete one step: of
// several concurrent takes, on any replicas, the first deletes the row and
// the others, waiting for its row lock, then find it gone. An expired flow
// is deleted all the same, and reported as ErrNotFound.
func (s *Store) TakeFlow(ctx context.Context, st string, now time.Time) ([]byte, error) {
	var data []byte
	err := state.ErrNotFound
	if storable(st) { // the state value comes back in the redirect's URL
		var live bool
		err = s.pool.QueryRow(ctx, `DELETE FROM flows WHERE state = $1 RETURNING data, expires > $2`, st, now).
			Scan(&data, &live)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !live) {
			err = state.ErrNotFound
		}
	}
	if err != nil {
		// The state value travels in the redirect URL: no secret.
		return nil, fmt.Errorf("postgres: take flow %q: %w", st, err)
	}
	return data, nil
}

// App passwords.

const appPasswordColumns = `id, owner, name, hash, read_only, comuni, created, expires, last_used`

// CreateAppPassword stores an app password; its ID and Hash must be unique.
func (s *Store) CreateAppPassword(ctx context.Context, p state.AppPassword) error {
	// An empty hash would let an empty lookup key match.
	if len(p.Hash) == 0 || p.Created.IsZero() {
		return fmt.Errorf("postgres: create app password %q: Hash and Created must be set", p.ID)
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO app_passwords (`+appPasswordColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		p.ID, p.Owner, p.Name, p.Hash, p.ReadOnly, textArray(p.Comuni),
		p.Created, nullTime(p.Expires), nullTime(p.LastUsed))
	if err != nil {
		return fmt.Errorf("postgres: create app password %q: %w", p.ID, err)
	}
	return nil
}

// AppPasswordByHash returns the app password with the hash unless it has
// expired at now. The UNIQUE constraint on hash indexes the lookup
// (TestAppPasswordByHashPlan checks that the query uses the index).
func (s *Store) AppPasswordByHash(ctx context.Context, hash []byte, now time.Time) (state.AppPassword, error) {
	p, err := scanAppPassword(s.pool.QueryRow(ctx, appPasswordByHash, hash, now))
	if errors.Is(err, pgx.ErrNoRows) {
		err = state.ErrNotFound
	}
	if err != nil {
		// Not the hash: it is as good as the secret for a brute-force guess.
		return state.AppPassword{}, fmt.Errorf("postgres: app password by hash: %w", err)
	}
	return p, nil
}

// appPasswordByHash is the lookup behind every WebDAV request. A nil hash
// is sent as NULL, which matches nothing.
const appPasswordByHash = `SELECT ` + appPasswordColumns + ` FROM app_passwords
	WHERE hash = $1 AND (expires IS NULL OR expires > $2)`

// AppPasswords returns the owner's app passwords, expired ones included,
// newest first.
func (s *Store) AppPasswords(ctx context.Context, owner string) ([]state.AppPassword, error) {
	if !storable(owner) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+appPasswordColumns+` FROM app_passwords
		WHERE owner = $1 ORDER BY created DESC, id`, owner)
	if err != nil {
		return nil, fmt.Errorf("postgres: app passwords of %q: %w", owner, err)
	}
	defer rows.Close()
	var ps []state.AppPassword
	for rows.Next() {
		p, err := scanAppPassword(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: app passwords of %q: %w", owner, err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: app passwords of %q: %w", owner, err)
	}
	return ps, nil
}

// DeleteAppPassword removes the owner's app password with the id, expired
// or not. An id that is not the owner's is ErrNotFound, so that nobody can
// revoke, or learn of, another person's app password.
func (s *Store) DeleteAppPassword(ctx context.Context, owner, id string) error {
	err := state.ErrNotFound
	if storable(owner) && storable(id) {
		var tag pgconn.CommandTag
		tag, err = s.pool.Exec(ctx, `DELETE FROM app_passwords WHERE id = $1 AND owner = $2`, id, owner)
		if err == nil {
			err = mustAffect(tag)
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: delete app password %q of %q: %w", id, owner, err)
	}
	return nil
}

// TouchAppPasswords records the last-use times in used, in one statement.
// A time earlier than the one recorded changes nothing, nor does an unknown
// id (the app password may have been revoked since its use) or a zero time.
func (s *Store) TouchAppPasswords(ctx context.Context, used map[string]time.Time) error {
	ids := make([]string, 0, len(used))
	ats := make([]time.Time, 0, len(used))
	for id, at := range used {
		// A zero time is never used, not later than anything recorded; an
		// id that cannot be stored is unknown.
		if !at.IsZero() && storable(id) {
			ids = append(ids, id)
			ats = append(ats, at)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	// The map's keys are distinct, so no row is matched twice.
	_, err := s.pool.Exec(ctx, `UPDATE app_passwords AS a SET last_used = u.at
		FROM unnest($1::text[], $2::timestamptz[]) AS u (id, at)
		WHERE a.id = u.id AND (a.last_used IS NULL OR a.last_used < u.at)`, ids, ats)
	if err != nil {
		return fmt.Errorf("postgres: touch %d app passwords: %w", len(used), err)
	}
	return nil
}

// DeleteExpired removes the sessions, flows, app passwords, locks and
// grants expired at now, and the departures older than
// state.DepartureRetention, in one transaction.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`DELETE FROM sessions WHERE expires <= $1`, now)
		b.Queue(`DELETE FROM flows WHERE expires <= $1`, now)
		b.Queue(`DELETE FROM app_passwords WHERE expires <= $1`, now) // NULL (never) is not <=
		b.Queue(`DELETE FROM locks WHERE expires <= $1`, now)
		b.Queue(`DELETE FROM grants WHERE expires <= $1`, now)
		b.Queue(`DELETE FROM attempts WHERE expires <= $1`, now)
		b.Queue(`DELETE FROM notices WHERE expires <= $1`, now)
		b.Queue(`DELETE FROM departures WHERE at < $1`, now.Add(-state.DepartureRetention))
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: delete expired: %w", err)
	}
	return nil
}

// Attempt counts.

// AddAttempt counts an attempt under key. INSERT … ON CONFLICT DO UPDATE
// locks the row it updates, so concurrent attempts, from any replica, take
// turns and each gets its own count; a window that has ended starts again
// at 1. In an UPDATE every expression reads the row as it was, so the CASEs
// agree.
func (s *Store) AddAttempt(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	if window <= 0 {
		return 0, time.Time{}, fmt.Errorf("postgres: add attempt %q: window must be positive", key)
	}
	if !storable(key) {
		return 0, time.Time{}, errors.New("postgres: add attempt: the key is not valid UTF-8 or holds a NUL")
	}
	var count int
	var expires time.Time
	err := s.pool.QueryRow(ctx, `INSERT INTO attempts (key, count, expires) VALUES ($1, 1, $3)
		ON CONFLICT (key) DO UPDATE SET
			count   = CASE WHEN attempts.expires <= $2 THEN 1 ELSE attempts.count + 1 END,
			expires = CASE WHEN attempts.expires <= $2 THEN excluded.expires ELSE attempts.expires END
		RETURNING count, expires`, key, now, now.Add(window)).Scan(&count, &expires)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("postgres: add attempt %q: %w", key, err)
	}
	return count, expires.UTC(), nil
}

// Attempts returns the count under key in the window live at now.
func (s *Store) Attempts(ctx context.Context, key string, now time.Time) (int, error) {
	if !storable(key) {
		return 0, nil // such a key cannot have been stored
	}
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count FROM attempts WHERE key = $1 AND expires > $2`, key, now).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: attempts %q: %w", key, err)
	}
	return n, nil
}

// ClearAttempts deletes the count under key.
func (s *Store) ClearAttempts(ctx context.Context, key string) error {
	if !storable(key) {
		return nil // such a key cannot have been stored
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM attempts WHERE key = $1`, key); err != nil {
		return fmt.Errorf("postgres: clear attempts %q: %w", key, err)
	}
	return nil
}

// scanAppPassword reads an app password selected as appPasswordColumns.
func scanAppPassword(row pgx.Row) (state.AppPassword, error) {
	var (
		p                 state.AppPassword
		expires, lastUsed *time.Time
	)
	if err := row.Scan(&p.ID, &p.Owner, &p.Name, &p.Hash, &p.ReadOnly, &p.Comuni,
		&p.Created, &expires, &lastUsed); err != nil {
		return state.AppPassword{}, err
	}
	p.Comuni = fromTextArray(p.Comuni)
	p.Created = p.Created.UTC()
	p.Expires, p.LastUsed = fromNull(expires), fromNull(lastUsed)
	return p, nil
}

// textArray returns list for a NOT NULL text[] column: pgx sends a nil
// slice as NULL, so nil becomes an empty array.
func textArray(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// fromTextArray returns a list read from a text[] column: an empty one is
// nil, however it was given.
func fromTextArray(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	return list
}
