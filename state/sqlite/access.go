package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bassareggiana/faldone/state"
)

var _ state.AccessStore = (*Store)(nil)

// People.

// UpsertPerson records a sign-in: it stores the person, or replaces the
// display name, groups and last sign-in of one already known, and the
// e-mail address when p has one. The key and the time must be set. An
// empty Groups is read back as nil.
func (s *Store) UpsertPerson(ctx context.Context, p state.Person) error {
	if p.Key == "" || p.LastSignIn.IsZero() {
		return fmt.Errorf("sqlite: upsert person %q: Key and LastSignIn must be set", p.Key)
	}
	groups, err := encodeGroups(p.Groups)
	if err != nil {
		return fmt.Errorf("sqlite: upsert person %q: %w", p.Key, err)
	}
	// The time is replaced, not kept at its maximum as TouchSession does:
	// sign-ins are rare and run one at a time, and the groups must be those
	// of the latest one.
	_, err = s.w.ExecContext(ctx, `INSERT INTO people (key, display, groups, last_sign_in, email) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET
			display = excluded.display, groups = excluded.groups, last_sign_in = excluded.last_sign_in,
			email = CASE WHEN excluded.email = '' THEN people.email ELSE excluded.email END`,
		p.Key, p.Display, groups, p.LastSignIn.UnixNano(), p.Email)
	if err != nil {
		return fmt.Errorf("sqlite: upsert person %q: %w", p.Key, err)
	}
	return nil
}

// Person returns what is known of the person with the key.
func (s *Store) Person(ctx context.Context, key string) (state.Person, error) {
	var (
		p      state.Person
		groups string
		last   int64
	)
	err := s.rd.QueryRowContext(ctx, `SELECT key, display, groups, last_sign_in, email FROM people WHERE key = ?`, key).
		Scan(&p.Key, &p.Display, &groups, &last, &p.Email)
	if errors.Is(err, sql.ErrNoRows) {
		err = state.ErrNotFound
	}
	if err == nil {
		p.Groups, err = decodeGroups(groups)
	}
	if err != nil {
		return state.Person{}, fmt.Errorf("sqlite: person %q: %w", key, err)
	}
	p.LastSignIn = utc(last)
	return p, nil
}

// PeopleWithEmail returns the people whose e-mail address is known, by key
// in byte order (the primary key's BINARY collation).
func (s *Store) PeopleWithEmail(ctx context.Context) ([]state.Person, error) {
	rows, err := s.rd.QueryContext(ctx, `SELECT key, display, groups, last_sign_in, email FROM people WHERE email <> '' ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: people with e-mail: %w", err)
	}
	defer rows.Close()
	var ps []state.Person
	for rows.Next() {
		var (
			p      state.Person
			groups string
			last   int64
		)
		if err := rows.Scan(&p.Key, &p.Display, &groups, &last, &p.Email); err != nil {
			return nil, fmt.Errorf("sqlite: people with e-mail: %w", err)
		}
		if p.Groups, err = decodeGroups(groups); err != nil {
			return nil, fmt.Errorf("sqlite: people with e-mail: %w", err)
		}
		p.LastSignIn = utc(last)
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: people with e-mail: %w", err)
	}
	return ps, nil
}

// encodeGroups returns the JSON array of groups, which round-trips any
// name; invalid UTF-8, which encoding/json would silently replace, is
// refused.
func encodeGroups(groups []string) (string, error) {
	if len(groups) == 0 {
		return "[]", nil
	}
	for _, g := range groups {
		if !utf8.ValidString(g) {
			return "", fmt.Errorf("group %q is not valid UTF-8", g)
		}
	}
	b, err := json.Marshal(groups)
	return string(b), err
}

// decodeGroups reverses encodeGroups. An empty list is nil, however it was
// given.
func decodeGroups(s string) ([]string, error) {
	var groups []string
	if err := json.Unmarshal([]byte(s), &groups); err != nil {
		return nil, fmt.Errorf("groups %q: %w", s, err)
	}
	if len(groups) == 0 {
		return nil, nil
	}
	return groups, nil
}

// Grants.

const grantColumns = `id, person, path, comune, write, reason, granted_by, created, expires, email`

// CreateGrant stores a grant, or returns ErrExists if its ID is in use. The
// ID, person, path and both times must be set: a grant without an expiry
// would be a permanent one, which the gateway never gives.
func (s *Store) CreateGrant(ctx context.Context, g state.Grant) error {
	if g.ID == "" || g.Person == "" || g.Path == "" || g.Created.IsZero() || g.Expires.IsZero() {
		return fmt.Errorf("sqlite: create grant %q: ID, Person, Path, Created and Expires must be set", g.ID)
	}
	// As in CreateAccount: no row inserted means exactly that the ID is
	// taken, whichever other constraint a driver's error could name.
	res, err := s.w.ExecContext(ctx, `INSERT INTO grants (`+grantColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		g.ID, g.Person, g.Path, g.Comune, g.Write, g.Reason, g.GrantedBy,
		g.Created.UnixNano(), g.Expires.UnixNano(), g.Email)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = state.ErrExists
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: create grant %q: %w", g.ID, err)
	}
	return nil
}

// Grants lists the grants the filter selects, newest first; grants created
// at the same instant come by ID, so that the order is stable. A person's
// live grants, looked up on every request, are found through grants_person.
// Live needs Now: with a zero Now every grant would count as live, which is
// refused rather than done.
func (s *Store) Grants(ctx context.Context, f state.GrantFilter) ([]state.Grant, error) {
	q, args, err := grantsQuery(f)
	if err != nil {
		return nil, fmt.Errorf("sqlite: grants: %w", err)
	}
	rows, err := s.rd.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: grants: %w", err)
	}
	defer rows.Close()
	var gs []state.Grant
	for rows.Next() {
		var (
			g                state.Grant
			created, expires int64
		)
		if err := rows.Scan(&g.ID, &g.Person, &g.Path, &g.Comune, &g.Write, &g.Reason, &g.GrantedBy,
			&created, &expires, &g.Email); err != nil {
			return nil, fmt.Errorf("sqlite: grants: %w", err)
		}
		g.Created, g.Expires = utc(created), utc(expires)
		gs = append(gs, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: grants: %w", err)
	}
	return gs, nil
}

// grantsQuery returns the query of Grants(f) and its arguments.
func grantsQuery(f state.GrantFilter) (string, []any, error) {
	var c conditions
	if f.Person != "" {
		c.add(`person = ?`, f.Person)
	}
	if f.Comune != "" {
		c.add(comuneTerm(f.Person), f.Comune)
	}
	if f.Live {
		if f.Now.IsZero() {
			return "", nil, errors.New("Live needs Now")
		}
		c.add(`expires > ?`, f.Now.UnixNano())
	}
	return `SELECT ` + grantColumns + ` FROM grants` + c.where() + ` ORDER BY created DESC, id`, c.args, nil
}

// DeleteGrant revokes the grant with the id, expired or not.
func (s *Store) DeleteGrant(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM grants WHERE id = ?`, id)
	if err == nil {
		err = mustAffect(res)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete grant %q: %w", id, err)
	}
	return nil
}

// The audit log.

const auditColumns = `id, key, time, request_id, person, credential, client, method, path, target, destination, comune, status, bytes, sha256`

// AppendAudit adds the records in one transaction, so that a batch costs one
// commit, and assigns their IDs in the order given; it ignores their ID
// fields and changes nothing in recs. A record whose key the log holds is
// skipped (an empty key is NULL, which never conflicts). Text is stored as
// state.ValidText makes it, as PostgreSQL must. Every record must have its
// Time: a batch with a record that lacks it is refused whole, before
// anything is written.
func (s *Store) AppendAudit(ctx context.Context, recs []state.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	for i, r := range recs {
		if r.Time.IsZero() {
			return fmt.Errorf("sqlite: append %d audit records: record %d has no Time", len(recs), i)
		}
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO audit
			(key, time, request_id, person, credential, client, method, path, target, destination, comune, status, bytes, sha256)
			VALUES (NULLIF(?, ''), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range recs {
			r = r.Valid()
			if _, err := stmt.ExecContext(ctx, r.Key, r.Time.UnixNano(), r.RequestID, r.Person, r.Credential,
				r.Client, r.Method, r.Path, r.Target, r.Destination, r.Comune, r.Status, r.Bytes, r.SHA256); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: append %d audit records: %w", len(recs), err)
	}
	return nil
}

// Audit calls fn for each record the filter selects, in the order they were
// appended, and returns fn's first error as it is. PathPrefix is a cleaned
// namespace path; "/" selects every record, as an empty one does.
//
// Rows stream from one read connection: memory stays flat however many
// records match, and writers, the audit writer included, go on while fn
// runs. The read transaction keeps its snapshot until Audit returns, which
// holds back WAL checkpoints for as long; fn may call the store. A filter
// answered from an index (Comune, Person, a time range) has SQLite sort
// the matches by id before the first reaches fn, in its sorter, which
// spills to temporary files rather than growing without bound.
func (s *Store) Audit(ctx context.Context, f state.AuditFilter, fn func(state.AuditRecord) error) error {
	q, args := auditQuery(f)
	rows, err := s.rd.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			r   state.AuditRecord
			at  int64
			key sql.NullString
		)
		if err := rows.Scan(&r.ID, &key, &at, &r.RequestID, &r.Person, &r.Credential, &r.Client, &r.Method,
			&r.Path, &r.Target, &r.Destination, &r.Comune, &r.Status, &r.Bytes, &r.SHA256); err != nil {
			return fmt.Errorf("sqlite: audit: %w", err)
		}
		r.Key = key.String
		r.Time = utc(at)
		if err := fn(r); err != nil {
			return err // the caller's own error, not the store's
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	return nil
}

// auditQuery returns the query of Audit(f) and its arguments.
func auditQuery(f state.AuditFilter) (string, []any) {
	var c conditions
	// The values go through state.ValidText, as the records did, so that
	// they select what AppendAudit wrote for them.
	if f.Comune != "" {
		c.add(comuneTerm(f.Person), state.ValidText(f.Comune))
	}
	if f.Person != "" {
		c.add(`person = ?`, state.ValidText(f.Person))
	}
	if p := state.ValidText(f.PathPrefix); p != "" && p != "/" {
		lo, hi := below(p)
		c.add(`(path = ? OR (path > ? AND path < ?))`, p, lo, hi)
	}
	if !f.Since.IsZero() {
		c.add(`time >= ?`, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		c.add(`time < ?`, f.Until.UnixNano())
	}
	if f.Status != 0 {
		c.add(`status = ?`, f.Status)
	}
	return `SELECT ` + auditColumns + ` FROM audit` + c.where() + ` ORDER BY id`, c.args
}

// auditDeleteBatch is how many records DeleteAuditBefore deletes per
// transaction.
const auditDeleteBatch = 5000

// auditDeleteOldest deletes the oldest records whose time is before ?1, up
// to ?2 of them: audit_time gives the order at no cost. A subquery, as
// SQLite takes LIMIT in a DELETE only when built to.
const auditDeleteOldest = `DELETE FROM audit WHERE id IN
	(SELECT id FROM audit WHERE time < ?1 ORDER BY time LIMIT ?2)`

// DeleteAuditBefore removes the records whose Time is before t. It deletes
// them in transactions of auditDeleteBatch records, so that the first run
// of a retention, or one after a long pause, does not hold the single
// write connection, and with it every lock, property and audit write, for
// as long as it takes to delete months of records. Interrupted, it leaves
// the oldest records deleted and the rest for the next run.
func (s *Store) DeleteAuditBefore(ctx context.Context, t time.Time) error {
	if t.IsZero() {
		return errors.New("sqlite: delete audit records: the time must be set")
	}
	for {
		res, err := s.w.ExecContext(ctx, auditDeleteOldest, t.UnixNano(), auditDeleteBatch)
		var n int64
		if err == nil {
			n, err = res.RowsAffected()
		}
		if err != nil {
			return fmt.Errorf("sqlite: delete audit records before %v: %w", t, err)
		}
		if n < auditDeleteBatch {
			return nil
		}
	}
}

// comuneTerm is the condition on the comune column. With a person also
// selected it is written +comune, which keeps SQLite from answering it from
// the comune index: a person has few grants and records, a Comune many,
// and without statistics (no ANALYZE) the planner cannot tell.
func comuneTerm(person string) string {
	if person != "" {
		return `+comune = ?`
	}
	return `comune = ?`
}

// conditions collects the terms of a WHERE clause and their arguments, for
// queries whose filter fields may each be empty. Leaving an empty field's
// term out, rather than writing a term that an empty argument makes true,
// lets SQLite pick the index that serves the terms that remain.
type conditions struct {
	terms []string
	args  []any
}

func (c *conditions) add(term string, args ...any) {
	c.terms = append(c.terms, term)
	c.args = append(c.args, args...)
}

// where returns the WHERE clause, or "" if there are no terms.
func (c *conditions) where() string {
	if len(c.terms) == 0 {
		return ""
	}
	return ` WHERE ` + strings.Join(c.terms, ` AND `)
}
