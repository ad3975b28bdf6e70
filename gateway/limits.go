package gateway

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Slow clients. The http.Server's ReadHeaderTimeout bounds the headers;
// what follows bounds the bodies and the connections, so that nobody holds
// connections by sending slowly, least of all before authenticating.

// bodyLimits bounds how slowly a request body may arrive.
type bodyLimits struct {
	// idle is the longest wait for the next bytes.
	idle time.Duration
	// minRate (bytes per second, 0: none) is the slowest average: after n
	// bytes, the client has had idle + n/minRate of waiting in all.
	minRate int64
	log     *slog.Logger
}

// handler applies the limits to every request with a body. It also answers
// a request whose response starts before its body is read (a refusal: 401,
// 403, 413…) without waiting for the rest of the body, and closes its
// connection: Go's server would otherwise read up to 256 KiB of a body
// nobody wants, at whatever pace the client sends it, before answering.
func (l bodyLimits) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		b := &slowBody{ReadCloser: r.Body, rc: rc, limits: l, r: r}
		// A copy: the server's own request must keep its own body, which it
		// inspects after the handler (to close the connection politely
		// after a body left unread, for one).
		r = r.WithContext(r.Context())
		r.Body = b
		gw := &guardedWriter{ResponseWriter: w, body: b, http1: r.ProtoMajor == 1}
		next.ServeHTTP(gw, r)
		gw.started() // a handler that wrote nothing
	})
}

// slowBody is a request body that may not arrive too slowly.
type slowBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	limits bodyLimits
	r      *http.Request
	eof    atomic.Bool
	// n and waited are the bytes read and the time spent waiting for them:
	// only the waits count, not the time the handler spends between reads
	// (a slow storage is not the client's fault).
	n      int64
	waited time.Duration
}

func (b *slowBody) Read(p []byte) (int, error) {
	allow := b.limits.idle
	if b.limits.minRate > 0 {
		budget := b.limits.idle + time.Duration(float64(b.n)/float64(b.limits.minRate)*float64(time.Second)) - b.waited
		allow = min(allow, budget)
	}
	start := time.Now()
	// A deadline in the past (budget spent) fails the read at once.
	b.rc.SetReadDeadline(start.Add(allow))
	n, err := b.ReadCloser.Read(p)
	b.waited += time.Since(start)
	b.n += int64(n)
	switch {
	case err == io.EOF:
		b.eof.Store(true)
		// The connection's background read, which notices a client going
		// away, must not time out while the handler finishes its work.
		b.rc.SetReadDeadline(time.Time{})
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.limits.log.Warn("request body too slow: connection cut", "method", b.r.Method, "path", b.r.URL.EscapedPath(),
			"remote", b.r.RemoteAddr, "bytes", b.n, "waited_ms", b.waited.Milliseconds())
	}
	return n, err
}

// guardedWriter notices the response starting.
type guardedWriter struct {
	http.ResponseWriter
	body  *slowBody
	http1 bool
	once  sync.Once
}

// started runs once, before the first byte of the response. If the body
// is not all read, the rest is read, as Go's server would, up to 256 KiB,
// but for half a second at most: a client that sends its whole request
// before reading the answer, or the end of an XML body a decoder left, keep
// their connection. A body still on its way is not waited for: the
// connection closes after the response, once the server's last read of
// the body (another half second at most, so that a client still writing
// quickly finishes and reads the answer rather than a reset) is over.
// HTTP/2 needs none of this: the stream is reset, the connection lives on.
func (w *guardedWriter) started() {
	w.once.Do(func() {
		b := w.body
		if b.eof.Load() || !w.http1 {
			return
		}
		// A client that waits for "100 Continue" is not asked for the body:
		// reading it would send that.
		if b.n > 0 || !strings.EqualFold(b.r.Header.Get("Expect"), "100-continue") {
			b.rc.SetReadDeadline(time.Now().Add(drainWait))
			if _, err := io.CopyN(io.Discard, b.ReadCloser, drainMax); err == io.EOF {
				// As in Read: no deadline left for the background read.
				b.eof.Store(true)
				b.rc.SetReadDeadline(time.Time{})
				return
			}
		}
		w.Header().Set("Connection", "close")
		b.rc.SetReadDeadline(time.Now().Add(drainWait))
	})
}

// drainWait and drainMax bound the reading of a body nobody wants.
const (
	drainWait = 500 * time.Millisecond
	drainMax  = 256 << 10
)

func (w *guardedWriter) WriteHeader(code int) {
	if code >= 200 { // not an informational 1xx
		w.started()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *guardedWriter) Write(p []byte) (int, error) {
	w.started()
	return w.ResponseWriter.Write(p)
}

func (w *guardedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// addressLimit is a listener that refuses a connection from an address
// that already has max open; exempt addresses (trusted proxies, which carry
// everybody's connections) have no cap. IPv6 addresses count by /64, the
// block one client usually has.
type addressLimit struct {
	net.Listener
	max    int
	exempt func(netip.Addr) bool
	log    *slog.Logger

	mu      sync.Mutex
	open    map[netip.Addr]int
	refused int       // since the last log line
	logged  time.Time // when that was
}

func limitPerAddress(ln net.Listener, max int, exempt func(netip.Addr) bool, log *slog.Logger) net.Listener {
	if max <= 0 {
		return ln
	}
	return &addressLimit{Listener: ln, max: max, exempt: exempt, log: log, open: map[netip.Addr]int{}}
}

func (l *addressLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
		if err != nil {
			return c, nil
		}
		if l.exempt(ap.Addr().Unmap()) {
			return c, nil
		}
		a := clientKey(ap.Addr())
		if l.admit(a) {
			return &countedConn{Conn: c, release: func() { l.release(a) }}, nil
		}
		c.Close()
	}
}

// clientKey is what connections count under: the IPv4 address, or the
// /64 of an IPv6 one.
func clientKey(a netip.Addr) netip.Addr {
	a = a.Unmap().WithZone("")
	if a.Is6() {
		return netip.PrefixFrom(a, 64).Masked().Addr()
	}
	return a
}

func (l *addressLimit) admit(a netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[a] < l.max {
		l.open[a]++
		return true
	}
	// One line at most every 10 s: the refusals are what a flood sends.
	l.refused++
	if now := time.Now(); now.Sub(l.logged) >= 10*time.Second {
		l.log.Warn("connections refused: too many open from one address", "remote", a.String(), "max", l.max, "refused", l.refused)
		l.refused, l.logged = 0, now
	}
	return false
}

func (l *addressLimit) release(a netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[a]--; l.open[a] <= 0 {
		delete(l.open, a)
	}
}

// countedConn gives its place back once, when it closes.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// CloseWrite keeps the half-close the server uses to end a connection
// politely (its answer first, then a moment for the client to read it).
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
