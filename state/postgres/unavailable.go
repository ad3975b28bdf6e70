package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bassareggiana/faldone/state"
)

// guardedPool is the pool through which every query of the store goes. It
// marks the errors that mean the database cannot be reached with
// state.ErrUnavailable, in one place, so that the gateway answers them 503
// rather than 500 whichever query met them; and it bounds each query by
// timeout, so that a database that does not answer (a frozen server, a
// network that drops packets) is unavailable after it, not a request that
// hangs. Stream, for the audit export and a tree's digests, is the one
// query without a bound.
type guardedPool struct {
	*pgxpool.Pool
	timeout time.Duration
}

// bound returns ctx with the pool's timeout, unless it ends sooner already.
func (d guardedPool) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d.timeout {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d.timeout)
}

func (d guardedPool) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	tag, err := d.Pool.Exec(ctx, sql, args...)
	return tag, unavailable(err)
}

// Query bounds the query and the reading of its rows, which ends at Close.
func (d guardedPool) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	ctx, cancel := d.bound(ctx)
	r, err := d.Pool.Query(ctx, sql, args...)
	if err != nil {
		cancel()
		return r, unavailable(err)
	}
	return rows{r, cancel}, nil
}

// Stream is Query without the bound: the rows of an export, or of a walk
// over a tree, come as fast as their reader takes them, for as long as it
// needs.
func (d guardedPool) Stream(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	r, err := d.Pool.Query(ctx, sql, args...)
	if err != nil {
		return r, unavailable(err)
	}
	return rows{r, func() {}}, nil
}

func (d guardedPool) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	ctx, cancel := d.bound(ctx)
	return row{d.Pool.QueryRow(ctx, sql, args...), cancel}
}

func (d guardedPool) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	n, err := d.Pool.CopyFrom(ctx, table, columns, src)
	return n, unavailable(err)
}

// inTx runs fn in a READ COMMITTED transaction, bounded as one query is.
func (d guardedPool) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	ctx, cancel := d.bound(ctx)
	defer cancel()
	return unavailable(pgx.BeginTxFunc(ctx, d.Pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, fn))
}

// rows reports the failure of a connection that broke while rows came.
type rows struct {
	pgx.Rows
	cancel context.CancelFunc
}

func (r rows) Err() error { return unavailable(r.Rows.Err()) }

func (r rows) Close() {
	r.Rows.Close()
	r.cancel()
}

type row struct {
	pgx.Row
	cancel context.CancelFunc
}

func (r row) Scan(dest ...any) error {
	defer r.cancel()
	return unavailable(r.Row.Scan(dest...))
}

// unavailable wraps err with state.ErrUnavailable when it says that the
// database could not be reached or did not answer: a failed connection, a
// connection that broke, a deadline, or the server refusing to work
// (shutting down, starting up, out of connections). Answers to the query,
// errors included, stay as they are, and so does a cancelled context,
// which is the caller's.
func unavailable(err error) error {
	if err == nil || errors.Is(err, state.ErrUnavailable) || errors.Is(err, context.Canceled) {
		return err
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return fmt.Errorf("%w: %w", state.ErrUnavailable, err)
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch pe.Code[:min(2, len(pe.Code))] {
		case "08", // connection exception
			"53", // insufficient resources: too many connections, out of memory or disk
			"57": // operator intervention: shutdown, crash, cannot connect now
			return fmt.Errorf("%w: %w", state.ErrUnavailable, err)
		}
		return err
	}
	if _, ok := errors.AsType[net.Error](err); ok ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		pgconn.Timeout(err) || pgconn.SafeToRetry(err) {
		return fmt.Errorf("%w: %w", state.ErrUnavailable, err)
	}
	return err
}
