package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxPrepared bounds the statements reads keeps. The store's query texts
// are few: one per filter combination, and the lock lookup's grows with a
// path's depth. A text past the bound runs unprepared.
const maxPrepared = 128

// reads runs queries on the read pool with each text prepared once. The
// lookups made on every request (a session, a person, their grants, the
// locks above a path) are small: SQLite parsing and planning them anew took
// longer than running them.
type reads struct {
	db *sql.DB

	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newReads(db *sql.DB) *reads {
	return &reads{db: db, stmts: map[string]*sql.Stmt{}}
}

// stmt returns the statement prepared for q, preparing it the first time;
// nil when the cache is full.
func (r *reads) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.stmts[q]; ok {
		return st, nil
	}
	if len(r.stmts) >= maxPrepared {
		return nil, nil
	}
	// Prepared under the lock: a text is prepared once, however many ask
	// at the same moment; this happens once per text in a process's life.
	st, err := r.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	r.stmts[q] = st
	return st, nil
}

// QueryContext is (*sql.DB).QueryContext with q prepared once.
func (r *reads) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := r.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return r.db.QueryContext(ctx, q, args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext is (*sql.DB).QueryRowContext with q prepared once. A
// failure to prepare comes back from the row's Scan, as the database's own
// errors do.
func (r *reads) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := r.stmt(ctx, q)
	if err != nil || st == nil {
		// An unprepared query reports the same failure, where Scan finds it.
		return r.db.QueryRowContext(ctx, q, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// Close closes the prepared statements.
func (r *reads) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for q, st := range r.stmts {
		errs = append(errs, st.Close())
		delete(r.stmts, q)
	}
	return errors.Join(errs...)
}
