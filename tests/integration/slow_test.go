package integration

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// dialFrom opens a TCP connection to the gateway from a given loopback
// address: Linux routes all of 127.0.0.0/8 to lo, so each 127.0.0.N is
// another client address.
func dialFrom(t *testing.T, g *harness.Gateway, local string) (net.Conn, error) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	return d.Dial("tcp", strings.TrimPrefix(g.URL, "http://"))
}

func mustDialFrom(t *testing.T, g *harness.Gateway, local string) net.Conn {
	t.Helper()
	c, err := dialFrom(t, g, local)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// putHead is the head of a PUT of size bytes, with credentials when auth
// is not empty.
func putHead(g *harness.Gateway, path string, size int, auth bool) string {
	h := fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", path, strings.TrimPrefix(g.URL, "http://"), size)
	if auth {
		h += "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(g.User+":"+g.Pass)) + "\r\n"
	}
	return h + "\r\n"
}

// trickle writes one byte every pause until the connection fails or stop
// closes; it returns when it stops.
func trickle(c net.Conn, pause time.Duration, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(pause):
		}
		c.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte{'x'}); err != nil {
			return
		}
	}
}

// closedWithin reports whether the server closes c (a read ends in EOF or
// an error other than our deadline) within d, reading what it sends.
func closedWithin(r io.Reader, c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, r)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}

// TestUnauthenticatedTrickle: PUTs without credentials whose bodies trickle
// in get their 401 at once and their connections closed, instead of
// holding them while the server drains the body.
func TestUnauthenticatedTrickle(t *testing.T) {
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	g := harness.StartServe(t, s3Yaml(srv, ""))
	// 200 at once, from four addresses so as to stay under the cap.
	const clients = 200
	stop := make(chan struct{})
	defer close(stop)
	var wg sync.WaitGroup
	errs := make(chan string, clients)
	var mu sync.Mutex
	var slowest time.Duration // from the request to the connection's end
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := dialFrom(t, g, fmt.Sprintf("127.0.0.%d", 1+i%4))
			if err != nil {
				errs <- err.Error()
				return
			}
			defer c.Close()
			start := time.Now()
			if _, err := io.WriteString(c, putHead(g, fmt.Sprintf("/guastalla/lento-%d.pdf", i), 100000, false)+"xx"); err != nil {
				errs <- err.Error()
				return
			}
			go trickle(c, 500*time.Millisecond, stop)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				errs <- fmt.Sprintf("client %d: no answer after %v: %v", i, time.Since(start).Round(time.Millisecond), err)
				return
			}
			if resp.StatusCode != http.StatusUnauthorized {
				errs <- fmt.Sprintf("client %d: status %d, want 401", i, resp.StatusCode)
			}
			if took := time.Since(start); took > 2*time.Second {
				errs <- fmt.Sprintf("client %d: 401 after %v, want it at once", i, took)
			}
			if !closedWithin(br, c, 3*time.Second) {
				errs <- fmt.Sprintf("client %d: connection still open %v after the 401", i, time.Since(start).Round(time.Millisecond))
			}
			mu.Lock()
			slowest = max(slowest, time.Since(start))
			mu.Unlock()
		}()
	}
	wg.Wait()
	t.Logf("%d trickling PUTs: the slowest answered and closed after %v", clients, slowest.Round(time.Millisecond))
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestSlowBodyCut: an authenticated upload whose body stalls, or trickles
// below the minimum rate, is cut after the limit; the old content stays and
// no multipart upload is left behind.
func TestSlowBodyCut(t *testing.T) {
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	g := harness.StartServe(t, s3Yaml(srv, "webdav:\n  body_idle_timeout: 2s\n  body_min_rate: 100000\n"))
	const size = 40 << 20
	for _, tc := range []struct {
		name  string
		sent  int           // sent at once
		pause time.Duration // then between single bytes; 0: nothing more
	}{
		{"stall", 20 << 20, 0}, // past the first parts: a multipart upload began
		{"trickle below the minimum rate", 50 << 10, 100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "guastalla/" + strings.ReplaceAll(tc.name, " ", "-") + ".tif"
			old := bytes.Repeat([]byte("originale "), 1000)
			mustStatus(t, g, "PUT", "/"+key, nil, string(old), http.StatusCreated)
			c := mustDialFrom(t, g, "127.0.0.1")
			if _, err := io.WriteString(c, putHead(g, "/"+key, size, true)); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(bytes.Repeat([]byte{'N'}, tc.sent)); err != nil {
				t.Fatal(err)
			}
			stalled := time.Now()
			stop := make(chan struct{})
			defer close(stop)
			if tc.pause > 0 {
				go trickle(c, tc.pause, stop)
			}
			if tc.sent > 16<<20 {
				// Else the test would not show that the cut aborts it.
				for openUploads(t, srv) == 0 {
					if time.Since(stalled) > 1500*time.Millisecond {
						t.Fatal("no multipart upload began")
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
			if !closedWithin(c, c, 15*time.Second) {
				t.Fatalf("connection still open %v after the body stalled", time.Since(stalled).Round(time.Millisecond))
			}
			if took := time.Since(stalled); took < time.Second {
				t.Errorf("cut %v after the stall, before the 2s limit", took)
			}
			t.Logf("cut %v after the stall", time.Since(stalled).Round(time.Millisecond))
			if objectSum(t, srv, key) != sha256.Sum256(old) {
				t.Error("the cut upload changed the object")
			}
			for deadline := time.Now().Add(10 * time.Second); openUploads(t, srv) != 0; time.Sleep(100 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("%d multipart uploads left open", openUploads(t, srv))
				}
			}
		})
	}
	if !strings.Contains(g.Log(), "request body too slow") {
		t.Error("no log line for the cut bodies")
	}
}

// TestConnsPerAddress: past the cap, connections from one address are
// refused while another address still gets through, and a trusted proxy,
// which carries everybody's connections, has no cap.
func TestConnsPerAddress(t *testing.T) {
	const max = 4
	g := harness.StartServe(t, fmt.Sprintf("max_conns_per_address: %d\ntrusted_proxies: [127.0.0.4]\n", max))
	get := func(c net.Conn) error {
		if _, err := fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	var held []net.Conn
	for i := range max {
		c := mustDialFrom(t, g, "127.0.0.2")
		if err := get(c); err != nil {
			t.Fatalf("connection %d of %d from 127.0.0.2: %v", i+1, max, err)
		}
		held = append(held, c)
	}
	for _, tc := range []struct {
		local string
		ok    bool
	}{
		{"127.0.0.2", false}, // one too many
		{"127.0.0.3", true},  // another client
		{"127.0.0.4", true},  // the trusted proxy: max+2 at once
		{"127.0.0.4", true},
		{"127.0.0.4", true},
		{"127.0.0.4", true},
		{"127.0.0.4", true},
		{"127.0.0.4", true},
	} {
		c := mustDialFrom(t, g, tc.local)
		err := get(c)
		if tc.ok && err != nil {
			t.Errorf("from %s: %v, want an answer", tc.local, err)
		}
		if !tc.ok && err == nil {
			t.Errorf("from %s: answered past the cap of %d", tc.local, max)
		}
	}
	held[0].Close()
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err = get(mustDialFrom(t, g, "127.0.0.2")); err == nil {
			break
		}
	}
	if err != nil {
		t.Errorf("after one closed, from 127.0.0.2: %v, want an answer", err)
	}
	if !strings.Contains(g.Log(), "connections refused") {
		t.Error("no log line for the refused connection")
	}
}

// TestKeepAliveAfterRefusal: a refused request whose small body came with
// it keeps its connection, as Windows and other clients expect when they
// try without credentials first; the next request on it authenticates.
func TestKeepAliveAfterRefusal(t *testing.T) {
	g := harness.StartServe(t, "")
	c := mustDialFrom(t, g, "127.0.0.1")
	br := bufio.NewReader(c)
	const body = `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>`
	basic := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(g.User+":"+g.Pass)) + "\r\n"
	for _, tc := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {basic, http.StatusMultiStatus}, {"", http.StatusUnauthorized}, {basic, http.StatusMultiStatus}} {
		fmt.Fprintf(c, "PROPFIND /guastalla/ HTTP/1.1\r\nHost: x\r\nDepth: 0\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n%s\r\n%s", len(body), tc.auth, body)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("answer on the kept connection: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want || resp.Close {
			t.Fatalf("status %d (close %v), want %d on a kept connection", resp.StatusCode, resp.Close, tc.want)
		}
	}
}
