package s3

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	smithymw "github.com/aws/smithy-go/middleware"

	"github.com/bassareggiana/faldone/backends"
)

// A storage that hangs — a frozen process, a network that drops packets —
// would hold every request that waits on it, and the SDK has no deadline
// of its own. Two bounds answer such requests 503 instead:
//
//   - every request that carries no content (a lookup, a listing, a
//     delete, the steps of a multipart upload) must be answered, retries
//     included, within the request timeout;
//   - a transfer (GetObject, PutObject, UploadPart, and the server-side
//     copies, which can take long on a large object) may take as long as
//     it needs, but the connection must move bytes one way or the other at
//     least once per stall timeout: a read or a write that waits longer
//     fails. A slow client does not count: the connection to S3 waits for
//     nothing while the gateway waits for the client.
//
// A stall is not retried, as a hung server will not answer the retry
// either: the client gets 503 and may try again.
const (
	defaultRequestTimeout = 30 * time.Second
	defaultStallTimeout   = 30 * time.Second
)

// transfers are the operations bounded by the stall timeout alone.
var transfers = map[string]bool{
	"GetObject": true, "PutObject": true, "UploadPart": true, "CopyObject": true, "UploadPartCopy": true,
}

// errStalled is the error of a read or write on a connection to S3 that
// moved no byte within the stall timeout.
type errStalled struct{ d time.Duration }

func (e *errStalled) Error() string   { return fmt.Sprintf("no bytes moved for %v", e.d) }
func (e *errStalled) Timeout() bool   { return true }
func (e *errStalled) Temporary() bool { return false }
func (e *errStalled) Unwrap() error   { return os.ErrDeadlineExceeded }

// stallConn fails a read or a write that waits more than d. Any progress,
// in either direction, extends both: a request body going out slowly keeps
// alive the read that waits for the answer. An idle connection of the pool
// is closed once d has passed, which costs a new connection later.
type stallConn struct {
	net.Conn
	d time.Duration
}

func (c *stallConn) Read(p []byte) (int, error) {
	c.Conn.SetDeadline(time.Now().Add(c.d))
	n, err := c.Conn.Read(p)
	return n, c.stalled(n, err)
}

func (c *stallConn) Write(p []byte) (int, error) {
	c.Conn.SetDeadline(time.Now().Add(c.d))
	n, err := c.Conn.Write(p)
	return n, c.stalled(n, err)
}

func (c *stallConn) stalled(n int, err error) error {
	if n > 0 {
		c.Conn.SetDeadline(time.Now().Add(c.d))
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &errStalled{c.d}
	}
	return err
}

// SyscallConn gives the socket, so that downloads can set its low-water
// mark (lowat.go) through the wrapper.
func (c *stallConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.ErrUnsupported
	}
	return sc.SyscallConn()
}

// stallDialer wraps the connections that dial makes.
func stallDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error), d time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &stallConn{Conn: c, d: d}, nil
	}
}

// noStallRetry tells the SDK's retryer not to retry a stall.
func noStallRetry(err error) aws.Ternary {
	if _, ok := errors.AsType[*errStalled](err); ok {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

// requestTimeoutMiddleware bounds every operation but the transfers, retries
// included, by d; running out of it is ErrUnavailable.
func requestTimeoutMiddleware(d time.Duration, endpoint string) func(*smithymw.Stack) error {
	return func(stack *smithymw.Stack) error {
		return stack.Initialize.Add(smithymw.InitializeMiddlewareFunc("FaldoneRequestTimeout",
			func(ctx context.Context, in smithymw.InitializeInput, next smithymw.InitializeHandler) (smithymw.InitializeOutput, smithymw.Metadata, error) {
				op := awsmw.GetOperationName(ctx)
				if op == "GetObject" {
					return firstByteTimeout(ctx, d, endpoint, func(ctx context.Context) (smithymw.InitializeOutput, smithymw.Metadata, error) {
						return next.HandleInitialize(ctx, in)
					})
				}
				if transfers[op] {
					return next.HandleInitialize(ctx, in)
				}
				tctx, cancel := context.WithTimeout(ctx, d)
				defer cancel()
				out, md, err := next.HandleInitialize(tctx, in)
				if err != nil && ctx.Err() == nil && errors.Is(tctx.Err(), context.DeadlineExceeded) {
					err = fmt.Errorf("%w: %s: %s did not answer within %v: %w", backends.ErrUnavailable, op, endpoint, d, err)
				}
				return out, md, err
			}), smithymw.After)
	}
}

// firstByteTimeout runs a download, whose answer must begin within d,
// retries included, while its body may then take as long as it moves.
// The context outlives the call, for the body: its timer is stopped once
// the answer began, and the context ends with the caller's.
func firstByteTimeout(ctx context.Context, d time.Duration, endpoint string, call func(context.Context) (smithymw.InitializeOutput, smithymw.Metadata, error)) (smithymw.InitializeOutput, smithymw.Metadata, error) {
	tctx, cancel := context.WithCancelCause(ctx)
	late := fmt.Errorf("%w: GetObject: %s did not answer within %v: %w", backends.ErrUnavailable, endpoint, d, context.DeadlineExceeded)
	timer := time.AfterFunc(d, func() { cancel(late) })
	out, md, err := call(tctx)
	if !timer.Stop() && err != nil && ctx.Err() == nil {
		err = fmt.Errorf("%w: %w", late, err)
	}
	if err != nil {
		cancel(err)
	}
	return out, md, err
}
