package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/bassareggiana/faldone/state"
)

func TestUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connection refused", fmt.Errorf("postgres: x: %w", refused), true},
		{"connection broke", fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF), true},
		{"conn closed", pgconn.ErrConnClosed, true},
		{"deadline", context.DeadlineExceeded, true},
		{"server shutting down", &pgconn.PgError{Code: "57P01"}, true},
		{"server starting", &pgconn.PgError{Code: "57P03"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"short code", &pgconn.PgError{Code: "5"}, false},
		{"no rows", pgx.ErrNoRows, false},
		{"cancelled by the caller", fmt.Errorf("x: %w", context.Canceled), false},
		{"state error", state.ErrNotFound, false},
	} {
		got := errors.Is(unavailable(tt.err), state.ErrUnavailable)
		if got != tt.want {
			t.Errorf("%s: unavailable = %v, want %v", tt.name, got, tt.want)
		}
		if tt.err != nil && !errors.Is(unavailable(tt.err), tt.err) {
			t.Errorf("%s: the error is lost", tt.name)
		}
	}
}
