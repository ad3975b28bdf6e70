package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bassareggiana/faldone/state"
)

// People.

// UpsertPerson records a sign-in: it stores the person, or replaces the
// display name, groups and last sign-in of one already known, and the
// e-mail address when p has one. The key and the time must be set. An
// empty Groups is read back as nil.
func (s *Store) UpsertPerson(ctx context.Context, p state.Person) error {
	if p.Key == "" || p.LastSignIn.IsZero() {
		return fmt.Errorf("postgres: upsert person %q: Key and LastSignIn must be set", p.Key)
	}
	// The time is replaced, not kept at its maximum as TouchSession does:
	// sign-ins are rare and run one at a time, and the groups must be those
	// of the latest one.
	_, err := s.pool.Exec(ctx, `INSERT INTO people (key, display, groups, last_sign_in, email) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (key) DO UPDATE SET
			display = excluded.display, groups = excluded.groups, last_sign_in = excluded.last_sign_in,
			email = CASE WHEN excluded.email = '' THEN people.email ELSE excluded.email END`,
		p.Key, p.Display, textArray(p.Groups), p.LastSignIn, p.Email)
	if err != nil {
		return fmt.Errorf("postgres: upsert person %q: %w", p.Key, err)
	}
	return nil
}

// Person returns what is known of the person with the key.
func (s *Store) Person(ctx context.Context, key string) (state.Person, error) {
	var p state.Person
	err := state.ErrNotFound
	if storable(key) {
		err = s.pool.QueryRow(ctx, `SELECT key, display, groups, last_sign_in, email FROM people WHERE key = $1`, key).
			Scan(&p.Key, &p.Display, &p.Groups, &p.LastSignIn, &p.Email)
		if errors.Is(err, pgx.ErrNoRows) {
			err = state.ErrNotFound
		}
	}
	if err != nil {
		return state.Person{}, fmt.Errorf("postgres: person %q: %w", key, err)
	}
	p.Groups = fromTextArray(p.Groups)
	p.LastSignIn = p.LastSignIn.UTC()
	return p, nil
}

// PeopleWithEmail returns the people whose e-mail address is known, by key
// in byte order (the key's "C" collation).
func (s *Store) PeopleWithEmail(ctx context.Context) ([]state.Person, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, display, groups, last_sign_in, email FROM people WHERE email <> '' ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("postgres: people with e-mail: %w", err)
	}
	defer rows.Close()
	var ps []state.Person
	for rows.Next() {
		var p state.Person
		if err := rows.Scan(&p.Key, &p.Display, &p.Groups, &p.LastSignIn, &p.Email); err != nil {
			return nil, fmt.Errorf("postgres: people with e-mail: %w", err)
		}
		p.Groups = fromTextArray(p.Groups)
		p.LastSignIn = p.LastSignIn.UTC()
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: people with e-mail: %w", err)
	}
	return ps, nil
}

// Grants.

const grantColumns = `id, person, path, comune, write, reason, granted_by, created, expires, email`

// CreateGrant stores a grant, or returns ErrExists if its ID is in use. The
// ID, person, path and both times must be set: a grant without an expiry
// would be a permanent one, which the gateway never gives.
func (s *Store) CreateGrant(ctx context.Context, g state.Grant) error {
	if g.ID == "" || g.Person == "" || g.Path == "" || g.Created.IsZero() || g.Expires.IsZero() {
		return fmt.Errorf("postgres: create grant %q: ID, Person, Path, Created and Expires must be set", g.ID)
	}
	// As in CreateAccount: no row inserted means exactly that the ID is
	// taken, whichever other constraint a driver's error could name.
	tag, err := s.pool.Exec(ctx, `INSERT INTO grants (`+grantColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO NOTHING`,
		g.ID, g.Person, g.Path, g.Comune, g.Write, g.Reason, g.GrantedBy, g.Created, g.Expires, g.Email)
	if err == nil && tag.RowsAffected() == 0 {
		err = state.ErrExists
	}
	if err != nil {
		return fmt.Errorf("postgres: create grant %q: %w", g.ID, err)
	}
	return nil
}

// Grants lists the grants the filter selects, newest first; grants created
// at the same instant come by ID, in byte order, so that the order is
// stable. A person's live grants, looked up on every request, are found
// through grants_person. Live needs Now: with a zero Now every grant would
// count as live, which is refused rather than done.
func (s *Store) Grants(ctx context.Context, f state.GrantFilter) ([]state.Grant, error) {
	q, args, err := grantsQuery(f)
	if err != nil {
		return nil, fmt.Errorf("postgres: grants: %w", err)
	}
	if !storable(f.Person) || !storable(f.Comune) {
		return nil, nil // no grant has them
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: grants: %w", err)
	}
	defer rows.Close()
	var gs []state.Grant
	for rows.Next() {
		var g state.Grant
		if err := rows.Scan(&g.ID, &g.Person, &g.Path, &g.Comune, &g.Write, &g.Reason, &g.GrantedBy,
			&g.Created, &g.Expires, &g.Email); err != nil {
			return nil, fmt.Errorf("postgres: grants: %w", err)
		}
		g.Created, g.Expires = g.Created.UTC(), g.Expires.UTC()
		gs = append(gs, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: grants: %w", err)
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
		c.add(`comune = ?`, f.Comune)
	}
	if f.Live {
		if f.Now.IsZero() {
			return "", nil, errors.New("Live needs Now")
		}
		c.add(`expires > ?`, f.Now)
	}
	return `SELECT ` + grantColumns + ` FROM grants` + c.where() + ` ORDER BY created DESC, id`, c.args, nil
}

// DeleteGrant revokes the grant with the id, expired or not.
func (s *Store) DeleteGrant(ctx context.Context, id string) error {
	err := state.ErrNotFound
	if storable(id) {
		var tag pgconn.CommandTag
		tag, err = s.pool.Exec(ctx, `DELETE FROM grants WHERE id = $1`, id)
		if err == nil {
			err = mustAffect(tag)
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: delete grant %q: %w", id, err)
	}
	return nil
}

// The audit log.

const auditColumns = `id, key, time, request_id, person, credential, client, method, path, target, destination, comune, status, bytes, sha256`

// appendAudit inserts the rows of parallel arrays, in their order, skipping
// those whose key the log holds: ON CONFLICT DO NOTHING also skips a key
// repeated within the batch. The identity column numbers the rows as they
// reach the insert, which is the ORDER BY's order, the order of recs. An
// empty key is NULL, which never conflicts.
const appendAudit = `INSERT INTO audit
	(key, time, request_id, person, credential, client, method, path, target, destination, comune, status, bytes, sha256)
	SELECT NULLIF(k, ''), t, rq, pe, cr, cl, me, pa, ta, de, co, st, by, sh
	FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
		$8::text[], $9::text[], $10::text[], $11::text[], $12::integer[], $13::bigint[], $14::text[])
		WITH ORDINALITY AS r(k, t, rq, pe, cr, cl, me, pa, ta, de, co, st, by, sh, n)
	ORDER BY n
	ON CONFLICT (key) DO NOTHING`

// AppendAudit adds the records with one statement, so all or nothing. It
// ignores their ID fields and changes nothing in recs. Every record must
// have its Time: a batch with a record that lacks it is refused whole,
// before anything is written.
//
// Text that PostgreSQL cannot hold, NUL or invalid UTF-8, is written as
// state.ValidText makes it rather than refused: the paths of requests that
// the gateway refuses as malformed are recorded too, and refusing them
// would lose the batch, records of other requests included.
func (s *Store) AppendAudit(ctx context.Context, recs []state.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	n := len(recs)
	var (
		keys, requestIDs, persons, credentials, clients, methods = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		paths, targets, destinations, comuni, sums               = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		times                                                    = make([]time.Time, n)
		statuses                                                 = make([]int32, n)
		sizes                                                    = make([]int64, n)
	)
	for i, r := range recs {
		if r.Time.IsZero() {
			return fmt.Errorf("postgres: append %d audit records: record %d has no Time", n, i)
		}
		r = r.Valid()
		keys[i], times[i], requestIDs[i], persons[i], credentials[i], clients[i] = r.Key, r.Time, r.RequestID, r.Person, r.Credential, r.Client
		methods[i], paths[i], targets[i], destinations[i], comuni[i] = r.Method, r.Path, r.Target, r.Destination, r.Comune
		statuses[i], sizes[i], sums[i] = int32(r.Status), r.Bytes, r.SHA256
	}
	if _, err := s.pool.Exec(ctx, appendAudit, keys, times, requestIDs, persons, credentials, clients, methods,
		paths, targets, destinations, comuni, statuses, sizes, sums); err != nil {
		return fmt.Errorf("postgres: append %d audit records: %w", n, err)
	}
	return nil
}

// Audit calls fn for each record the filter selects, in the order they were
// appended, and returns fn's first error as it is. PathPrefix is a cleaned
// namespace path; "/" selects every record, as an empty one does. Filter
// values go through state.ValidText, as the records did, so that they select what
// AppendAudit wrote for them.
//
// Rows stream from one query on one connection: the server sends them as
// fn takes them, so memory stays flat however many records match, and
// writers go on, on the pool's other connections, while fn runs; fn may
// call the store. The query holds its snapshot, and a connection, until
// Audit returns.
func (s *Store) Audit(ctx context.Context, f state.AuditFilter, fn func(state.AuditRecord) error) error {
	q, args := auditQuery(f)
	rows, err := s.pool.Stream(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("postgres: audit: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r state.AuditRecord
		var key *string
		if err := rows.Scan(&r.ID, &key, &r.Time, &r.RequestID, &r.Person, &r.Credential, &r.Client, &r.Method,
			&r.Path, &r.Target, &r.Destination, &r.Comune, &r.Status, &r.Bytes, &r.SHA256); err != nil {
			return fmt.Errorf("postgres: audit: %w", err)
		}
		if key != nil {
			r.Key = *key
		}
		r.Time = r.Time.UTC()
		if err := fn(r); err != nil {
			return err // the caller's own error, not the store's
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres: audit: %w", err)
	}
	return nil
}

// auditQuery returns the query of Audit(f) and its arguments.
func auditQuery(f state.AuditFilter) (string, []any) {
	var c conditions
	if f.Comune != "" {
		c.add(`comune = ?`, state.ValidText(f.Comune))
	}
	if f.Person != "" {
		c.add(`person = ?`, state.ValidText(f.Person))
	}
	if p := state.ValidText(f.PathPrefix); p != "" && p != "/" {
		lo, hi := below(p)
		c.add(`(path = ? OR (path > ? AND path < ?))`, p, lo, hi)
	}
	if !f.Since.IsZero() {
		c.add(`time >= ?`, f.Since)
	}
	if !f.Until.IsZero() {
		c.add(`time < ?`, f.Until)
	}
	if f.Status != 0 {
		c.add(`status = ?`, f.Status)
	}
	return `SELECT ` + auditColumns + ` FROM audit` + c.where() + ` ORDER BY id`, c.args
}

// auditDeleteBatch is how many records DeleteAuditBefore deletes per
// statement.
const auditDeleteBatch = 5000

// auditDeleteOldest deletes the oldest records whose time is before $1, up
// to $2 of them: audit_time gives the order at no cost. A subquery, as
// PostgreSQL's DELETE takes no LIMIT.
const auditDeleteOldest = `DELETE FROM audit WHERE id IN
	(SELECT id FROM audit WHERE time < $1 ORDER BY time LIMIT $2)`

// DeleteAuditBefore removes the records whose Time is before t. It deletes
// them in statements of auditDeleteBatch records, each its own
// transaction, so that the first run of a retention, or one after a long
// pause, neither holds row locks on months of records nor leaves them all
// to one huge transaction's WAL and vacuum. Interrupted, it leaves the
// oldest records deleted and the rest for the next run.
func (s *Store) DeleteAuditBefore(ctx context.Context, t time.Time) error {
	if t.IsZero() {
		return errors.New("postgres: delete audit records: the time must be set")
	}
	for {
		tag, err := s.pool.Exec(ctx, auditDeleteOldest, t, auditDeleteBatch)
		if err != nil {
			return fmt.Errorf("postgres: delete audit records before %v: %w", t, err)
		}
		if tag.RowsAffected() < auditDeleteBatch {
			return nil
		}
	}
}

// conditions collects the terms of a WHERE clause and their arguments, for
// queries whose filter fields may each be empty. Leaving an empty field's
// term out, rather than writing a term that an empty argument makes true,
// lets PostgreSQL pick the index that serves the terms that remain.
type conditions struct {
	terms []string
	args  []any
}

// add adds a term whose placeholders are written ?, as in the SQLite
// store, and become $1, $2, … in the order of the arguments of the whole
// clause. No term holds a ? of its own.
func (c *conditions) add(term string, args ...any) {
	var b strings.Builder
	for _, part := range strings.SplitAfter(term, "?") {
		if p, ok := strings.CutSuffix(part, "?"); ok {
			c.args = append(c.args, args[0])
			args = args[1:]
			part = p + "$" + strconv.Itoa(len(c.args))
		}
		b.WriteString(part)
	}
	c.terms = append(c.terms, b.String())
}

// where returns the WHERE clause, or "" if there are no terms.
func (c *conditions) where() string {
	if len(c.terms) == 0 {
		return ""
	}
	return ` WHERE ` + strings.Join(c.terms, ` AND `)
}
