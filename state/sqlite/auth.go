package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/bassareggiana/faldone/state"
)

var _ state.AuthStore = (*Store)(nil)

// Sessions.

const sessionColumns = `id, person, display, acr, id_token, csrf, created, last_seen, expires`

// CreateSession stores a new session. Its id must not be in use, and its
// times must be set: a session without an absolute limit would be a bug.
func (s *Store) CreateSession(ctx context.Context, ss state.Session) error {
	if ss.Created.IsZero() || ss.LastSeen.IsZero() || ss.Expires.IsZero() {
		return fmt.Errorf("sqlite: create session %q: Created, LastSeen and Expires must be set", ss.ID)
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ss.ID, ss.Person, ss.Display, ss.ACR, ss.Issuer, ss.CSRF,
		ss.Created.UnixNano(), ss.LastSeen.UnixNano(), ss.Expires.UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite: create session %q: %w", ss.ID, err)
	}
	return nil
}

// Session returns the session with the id unless it has expired at now.
func (s *Store) Session(ctx context.Context, id string, now time.Time) (state.Session, error) {
	var (
		ss                     state.Session
		created, seen, expires int64
	)
	err := s.rd.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ? AND expires > ?`,
		id, now.UnixNano()).
		Scan(&ss.ID, &ss.Person, &ss.Display, &ss.ACR, &ss.Issuer, &ss.CSRF, &created, &seen, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		err = state.ErrNotFound
	}
	if err != nil {
		// The id is a hash of the cookie's secret, not the secret: safe to log.
		return state.Session{}, fmt.Errorf("sqlite: session %q: %w", id, err)
	}
	ss.Created, ss.LastSeen, ss.Expires = utc(created), utc(seen), utc(expires)
	return ss, nil
}

// TouchSession sets the session's LastSeen to at, unless it is already
// later: requests served by several replicas may report their times out of
// order. A missing session is ErrNotFound.
func (s *Store) TouchSession(ctx context.Context, id string, at time.Time) error {
	// MAX keeps the row matched when it does not change it, so that zero
	// rows means a missing session.
	res, err := s.w.ExecContext(ctx, `UPDATE sessions SET last_seen = MAX(last_seen, ?) WHERE id = ?`,
		at.UnixNano(), id)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: touch session %q: %w", id, err)
	}
	return nil
}

// DeleteSession removes the session with the id, if there is one.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: delete session %q: %w", id, err)
	}
	return nil
}

// Sign-in flows.

// SaveFlow stores the data of a pending sign-in under its state value.
func (s *Store) SaveFlow(ctx context.Context, st string, data []byte, expires time.Time) error {
	if data == nil {
		data = []byte{} // nil would be bound as NULL
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO flows (state, data, expires) VALUES (?, ?, ?)`,
		st, data, expires.UnixNano()); err != nil {
		return fmt.Errorf("sqlite: save flow: %w", err)
	}
	return nil
}

// TakeFlow deletes the flow with the state value and returns its data. A
// single DELETE … RETURNING makes the read and the delete one step, so of
// several concurrent takes exactly one gets the data. An expired flow is
// deleted all the same, and reported as ErrNotFound.
func (s *Store) TakeFlow(ctx context.Context, st string, now time.Time) ([]byte, error) {
	var (
		data    []byte
		expires int64
	)
	err := s.w.QueryRowContext(ctx, `DELETE FROM flows WHERE state = ? RETURNING data, expires`, st).
		Scan(&data, &expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && now.UnixNano() >= expires) {
		err = state.ErrNotFound
	}
	if err != nil {
		// The state value travels in the redirect URL: no secret.
		return nil, fmt.Errorf("sqlite: take flow %q: %w", st, err)
	}
	return data, nil
}

// App passwords.

const appPasswordColumns = `id, owner, name, hash, read_only, comuni, created, expires, last_used`

// appPasswordByHash is the lookup behind every WebDAV request, prepared once
// by Store.rd. The UNIQUE constraint on hash indexes it
// (TestAppPasswordByHashPlan checks that the query uses the index).
const appPasswordByHash = `SELECT ` + appPasswordColumns + ` FROM app_passwords
	WHERE hash = ? AND (expires IS NULL OR expires > ?)`

// CreateAppPassword stores an app password; its ID and Hash must be unique.
func (s *Store) CreateAppPassword(ctx context.Context, p state.AppPassword) error {
	// An empty hash would let an empty lookup key match.
	if len(p.Hash) == 0 || p.Created.IsZero() {
		return fmt.Errorf("sqlite: create app password %q: Hash and Created must be set", p.ID)
	}
	comuni, err := encodeComuni(p.Comuni)
	if err != nil {
		return fmt.Errorf("sqlite: create app password %q: %w", p.ID, err)
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO app_passwords (`+appPasswordColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.Owner, p.Name, p.Hash, p.ReadOnly, comuni,
		p.Created.UnixNano(), nanos(p.Expires), nanos(p.LastUsed))
	if err != nil {
		return fmt.Errorf("sqlite: create app password %q: %w", p.ID, err)
	}
	return nil
}

// AppPasswordByHash returns the app password with the hash unless it has
// expired at now.
func (s *Store) AppPasswordByHash(ctx context.Context, hash []byte, now time.Time) (state.AppPassword, error) {
	p, err := scanAppPassword(s.rd.QueryRowContext(ctx, appPasswordByHash, hash, now.UnixNano()))
	if errors.Is(err, sql.ErrNoRows) {
		err = state.ErrNotFound
	}
	if err != nil {
		// Not the hash: it is as good as the secret for a brute-force guess.
		return state.AppPassword{}, fmt.Errorf("sqlite: app password by hash: %w", err)
	}
	return p, nil
}

// AppPasswords returns the owner's app passwords, expired ones included,
// newest first.
func (s *Store) AppPasswords(ctx context.Context, owner string) ([]state.AppPassword, error) {
	rows, err := s.rd.QueryContext(ctx, `SELECT `+appPasswordColumns+` FROM app_passwords
		WHERE owner = ? ORDER BY created DESC, id`, owner)
	if err != nil {
		return nil, fmt.Errorf("sqlite: app passwords of %q: %w", owner, err)
	}
	defer rows.Close()
	var ps []state.AppPassword
	for rows.Next() {
		p, err := scanAppPassword(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: app passwords of %q: %w", owner, err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: app passwords of %q: %w", owner, err)
	}
	return ps, nil
}

// DeleteAppPassword removes the owner's app password with the id, expired
// or not. An id that is not the owner's is ErrNotFound, so that nobody can
// revoke, or learn of, another person's app password.
func (s *Store) DeleteAppPassword(ctx context.Context, owner, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM app_passwords WHERE id = ? AND owner = ?`, id, owner)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete app password %q of %q: %w", id, owner, err)
	}
	return nil
}

// TouchAppPasswords records the last-use times in used, in one transaction.
// A time earlier than the one recorded changes nothing, nor does an unknown
// id (the app password may have been revoked since its use) or a zero time.
func (s *Store) TouchAppPasswords(ctx context.Context, used map[string]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE app_passwords SET last_used = ?1
			WHERE id = ?2 AND (last_used IS NULL OR last_used < ?1)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for id, at := range used {
			if at.IsZero() {
				continue // never used: not later than anything recorded
			}
			if _, err := stmt.ExecContext(ctx, at.UnixNano(), id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: touch %d app passwords: %w", len(used), err)
	}
	return nil
}

// DeleteExpired removes the sessions, flows, app passwords, locks and
// grants expired at now, and the departures older than
// state.DepartureRetention, in one transaction.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) error {
	n := now.UnixNano()
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{
			`DELETE FROM sessions WHERE expires <= ?`,
			`DELETE FROM flows WHERE expires <= ?`,
			`DELETE FROM app_passwords WHERE expires <= ?`, // NULL (never) is not <=
			`DELETE FROM locks WHERE expires <= ?`,
			`DELETE FROM grants WHERE expires <= ?`,
			`DELETE FROM attempts WHERE expires <= ?`,
			`DELETE FROM notices WHERE expires <= ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, n); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM departures WHERE at < ?`, now.Add(-state.DepartureRetention).UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete expired: %w", err)
	}
	return nil
}

// Attempt counts.

// AddAttempt counts an attempt under key. One upsert does the read and the
// increment, on the single write connection, so concurrent attempts each
// get their own count; a window that has ended starts again at 1. In an
// UPDATE every expression reads the row as it was, so the CASEs agree.
func (s *Store) AddAttempt(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	if window <= 0 {
		return 0, time.Time{}, fmt.Errorf("sqlite: add attempt %q: window must be positive", key)
	}
	var count int
	var expires int64
	err := s.w.QueryRowContext(ctx, `INSERT INTO attempts (key, count, expires) VALUES (?1, 1, ?3)
		ON CONFLICT (key) DO UPDATE SET
			count   = CASE WHEN attempts.expires <= ?2 THEN 1 ELSE attempts.count + 1 END,
			expires = CASE WHEN attempts.expires <= ?2 THEN excluded.expires ELSE attempts.expires END
		RETURNING count, expires`, key, now.UnixNano(), now.Add(window).UnixNano()).Scan(&count, &expires)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite: add attempt %q: %w", key, err)
	}
	return count, utc(expires), nil
}

// Attempts returns the count under key in the window live at now.
func (s *Store) Attempts(ctx context.Context, key string, now time.Time) (int, error) {
	var n int
	err := s.rd.QueryRowContext(ctx, `SELECT count FROM attempts WHERE key = ? AND expires > ?`, key, now.UnixNano()).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: attempts %q: %w", key, err)
	}
	return n, nil
}

// ClearAttempts deletes the count under key.
func (s *Store) ClearAttempts(ctx context.Context, key string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM attempts WHERE key = ?`, key); err != nil {
		return fmt.Errorf("sqlite: clear attempts %q: %w", key, err)
	}
	return nil
}

// scanAppPassword reads an app password selected as appPasswordColumns.
func scanAppPassword(row interface{ Scan(...any) error }) (state.AppPassword, error) {
	var (
		p                 state.AppPassword
		comuni            string
		created           int64
		expires, lastUsed sql.NullInt64
	)
	if err := row.Scan(&p.ID, &p.Owner, &p.Name, &p.Hash, &p.ReadOnly, &comuni,
		&created, &expires, &lastUsed); err != nil {
		return state.AppPassword{}, err
	}
	var err error
	if p.Comuni, err = decodeComuni(comuni); err != nil {
		return state.AppPassword{}, fmt.Errorf("app password %q: %w", p.ID, err)
	}
	p.Created = utc(created)
	if expires.Valid {
		p.Expires = utc(expires.Int64)
	}
	if lastUsed.Valid {
		p.LastUsed = utc(lastUsed.Int64)
	}
	return p, nil
}

// encodeComuni returns the JSON array of comuni: unlike a joined list it
// round-trips any name, with a comma or not. JSON cannot hold invalid
// UTF-8, which encoding/json would silently replace, so it is refused.
func encodeComuni(comuni []string) (string, error) {
	if len(comuni) == 0 {
		return "[]", nil
	}
	for _, c := range comuni {
		if !utf8.ValidString(c) {
			return "", fmt.Errorf("comune %q is not valid UTF-8", c)
		}
	}
	b, err := json.Marshal(comuni)
	return string(b), err
}

// decodeComuni reverses encodeComuni. An empty list is nil, however it was
// given.
func decodeComuni(s string) ([]string, error) {
	if s == "[]" {
		return nil, nil
	}
	var comuni []string
	if err := json.Unmarshal([]byte(s), &comuni); err != nil {
		return nil, fmt.Errorf("comuni %q: %w", s, err)
	}
	if len(comuni) == 0 {
		return nil, nil
	}
	return comuni, nil
}

// mustAffect returns ErrNotFound if the statement that gave res changed no row.
func mustAffect(res sql.Result) error {
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		err = state.ErrNotFound
	}
	return err
}

// utc returns the time at unix nanoseconds n, in UTC.
func utc(n int64) time.Time { return time.Unix(0, n).UTC() }
