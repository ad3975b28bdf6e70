package integration

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestOperationsEndpoints: /healthz, /readyz (which follows the storage) and
// /metrics with the families operators graph.
func TestOperationsEndpoints(t *testing.T) {
	g, _, counter := s3Gateway(t, "metrics_allow: [127.0.0.1]\n")
	c := http.DefaultClient
	if code, body := get(t, c, g.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if code, _ := get(t, c, g.URL+"/readyz"); code != 200 {
		t.Errorf("/readyz: %d", code)
	}
	// Traffic for every family: a PUT, a GET, a failed sign-in, a lock.
	mustStatus(t, g, "PUT", "/guastalla/a.pdf", nil, "contenuto", http.StatusCreated)
	mustStatus(t, g, "GET", "/guastalla/a.pdf", nil, "", http.StatusOK)
	mustStatus(t, g.As(g.User, "sbagliata"), "GET", "/guastalla/a.pdf", nil, "", http.StatusUnauthorized)
	mustStatus(t, g, "LOCK", "/guastalla/a.pdf", nil, `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`, http.StatusOK)
	code, body := get(t, c, g.URL+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`faldone_http_requests_total{method="PUT",status="201"} 1`,
		`faldone_http_request_duration_seconds_bucket{method="GET"`,
		"faldone_http_bytes_received_total ",
		"faldone_http_bytes_sent_total",
		`faldone_s3_requests_total{operation="PutObject",outcome="ok"} 1`,
		`faldone_s3_request_duration_seconds_bucket{operation="GetObject"`,
		`faldone_state_store_duration_seconds_bucket{operation="authorize"`,
		`faldone_auth_failures_total{method="password"} 1`,
		"faldone_active_locks 1",
		"faldone_uploads_in_flight 0",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// Only from the allowed addresses.
	if code, _ := get(t, clientFrom("127.0.0.2"), g.URL+"/metrics"); code != http.StatusForbidden {
		t.Errorf("/metrics from another address: %d, want 403", code)
	}
	// The storage goes away: not ready; it comes back: ready again.
	counter.Inject(func(op string, r *http.Request) (int, bool) { return http.StatusServiceUnavailable, true })
	waitStatus(t, g.URL+"/readyz", http.StatusServiceUnavailable)
	counter.Clear()
	waitStatus(t, g.URL+"/readyz", http.StatusOK)
}

func waitStatus(t *testing.T, url string, want int) {
	t.Helper()
	var code int
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if code, _ = get(t, http.DefaultClient, url); code == want {
			return
		}
	}
	t.Errorf("%s: %d, want %d", url, code, want)
}

// tcpGate forwards connections to target while open; closing it drops
// every connection and refuses new ones, as a database that went away.
type tcpGate struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	open   bool
	conns  []net.Conn
	// frozen holds every byte, both ways, and new connections, until
	// thawed: a server that does not answer, with its connections open.
	frozen chan struct{} // nil: not frozen; closed by thaw
}

func newTCPGate(t *testing.T, target string) *tcpGate {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &tcpGate{ln: ln, target: target, open: true}
	t.Cleanup(func() { ln.Close(); g.thaw(); g.set(false) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			g.wait()
			g.mu.Lock()
			if !g.open {
				g.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				g.mu.Unlock()
				c.Close()
				continue
			}
			g.conns = append(g.conns, c, up)
			g.mu.Unlock()
			go func() { g.copy(up, c); up.Close() }()
			go func() { g.copy(c, up); c.Close() }()
		}
	}()
	return g
}

// copy is io.Copy that holds each piece while the gate is frozen.
func (g *tcpGate) copy(dst io.Writer, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			g.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// wait returns once the gate is not frozen.
func (g *tcpGate) wait() {
	g.mu.Lock()
	f := g.frozen
	g.mu.Unlock()
	if f != nil {
		<-f
	}
}

// freeze holds all traffic until thaw.
func (g *tcpGate) freeze() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.frozen == nil {
		g.frozen = make(chan struct{})
	}
}

func (g *tcpGate) thaw() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.frozen != nil {
		close(g.frozen)
		g.frozen = nil
	}
}

func (g *tcpGate) set(open bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = open
	if !open {
		for _, c := range g.conns {
			c.Close()
		}
		g.conns = nil
	}
}

// TestReadinessFollowsStateStore: /readyz turns unready when PostgreSQL
// goes away and ready again when it is back.
func TestReadinessFollowsStateStore(t *testing.T) {
	dsn := postgresDB(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	gate := newTCPGate(t, u.Host)
	u.Host = gate.ln.Addr().String()
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	g := harness.StartServe(t, fmt.Sprintf("state_url: %q\n", u.String())+s3Yaml(srv, ""))
	waitStatus(t, g.URL+"/readyz", http.StatusOK)
	gate.set(false)
	waitStatus(t, g.URL+"/readyz", http.StatusServiceUnavailable)
	gate.set(true)
	waitStatus(t, g.URL+"/readyz", http.StatusOK)
	mustStatus(t, g, "PROPFIND", "/guastalla/", map[string]string{"Depth": "0"}, "", 207)
}
