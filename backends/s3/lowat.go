package s3

import (
	"context"
	"io"
	"net"
	"net/http/httptrace"
	"sync"
	"syscall"
)

// A download relays the object's body from S3 to the client. Read as it
// arrives, the body comes in pieces of one TCP segment or so (some 64 kB on
// loopback), each costing a wakeup, a read and a write: most of the relay's
// CPU time. For a large body, the socket's receive low-water mark
// (SO_RCVLOWAT) makes the kernel wake the reader only once lowat bytes are
// there, so that each read carries that many.
//
// The mark must never ask for bytes that will not come, or the read would
// wait forever: it is set only while more than 2×lowat+lowatSlack bytes of
// the body are still to be read (the slack covers what the transport or
// TLS has buffered already), and set back to 1 before the last ones, and
// before Close, so that a connection goes back to the pool as it came. Only
// for HTTP/1 connections: over HTTP/2 other responses share the socket.
const (
	lowat      = 512 << 10
	lowatSlack = 64 << 10
)

// connTrace records the connection that a request went out on.
type connTrace struct {
	mu   sync.Mutex
	conn net.Conn
}

// traceConn returns a context whose request records its connection in the
// trace.
func traceConn(ctx context.Context) (context.Context, *connTrace) {
	ct := &connTrace{}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		ct.mu.Lock()
		ct.conn = info.Conn // the last attempt's, when retried
		ct.mu.Unlock()
	}}), ct
}

// withLowat returns body, of length bytes, read with a low-water mark on
// the socket that ct recorded when that helps and is safe.
func withLowat(body io.ReadCloser, ct *connTrace, length int64, http1 bool) io.ReadCloser {
	if !lowatSupported || !http1 || length < 4*lowat {
		return body
	}
	ct.mu.Lock()
	c := ct.conn
	ct.mu.Unlock()
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok { // TLS
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return body
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return body
	}
	return &lowatBody{ReadCloser: body, raw: raw, remaining: length}
}

type lowatBody struct {
	io.ReadCloser
	raw       syscall.RawConn
	remaining int64 // bytes of the body not read yet
	set       bool  // the mark is lowat, not 1
}

func (l *lowatBody) mark(on bool) {
	if on == l.set {
		return
	}
	n := 1
	if on {
		n = lowat
	}
	if setRcvLowat(l.raw, n) == nil || !on {
		l.set = on
	}
}

func (l *lowatBody) Read(p []byte) (int, error) {
	l.mark(l.remaining > 2*lowat+lowatSlack && len(p) >= lowat)
	n, err := l.ReadCloser.Read(p)
	l.remaining -= int64(n)
	return n, err
}

func (l *lowatBody) Close() error {
	l.mark(false)
	return l.ReadCloser.Close()
}
