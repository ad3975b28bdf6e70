package integration

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/tests/harness"
)

// clientFrom returns an HTTP client whose connections come from the local
// address ip (any address of 127.0.0.0/8 works on loopback).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

func propfindAs(t *testing.T, c *http.Client, g *harness.Gateway, user, pass string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("PROPFIND", g.URL+"/", nil)
	req.Header.Set("Depth", "0")
	req.SetBasicAuth(user, pass)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestThrottling: repeated wrong passwords from one address get 429 with
// Retry-After; the right password from another address still works.
func TestThrottling(t *testing.T) {
	g := harness.StartDemo(t, "")
	attacker, colleague := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	var statuses []int
	for i := 0; i < 15; i++ {
		statuses = append(statuses, propfindAs(t, attacker, g, g.User, "sbagliata-"+strconv.Itoa(i)).StatusCode)
	}
	if statuses[0] != http.StatusUnauthorized {
		t.Errorf("first wrong password: %d, want 401", statuses[0])
	}
	last := propfindAs(t, attacker, g, g.User, "ancora-sbagliata")
	if last.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after 16 wrong passwords: %d, want 429 (statuses %v)", last.StatusCode, statuses)
	}
	if ra, err := strconv.Atoi(last.Header.Get("Retry-After")); err != nil || ra <= 0 {
		t.Errorf("Retry-After %q", last.Header.Get("Retry-After"))
	}
	// Even the right password waits, from the blocked address.
	if code := propfindAs(t, attacker, g, g.User, g.Pass).StatusCode; code != http.StatusTooManyRequests {
		t.Errorf("right password from the blocked address: %d, want 429", code)
	}
	if code := propfindAs(t, colleague, g, g.User, g.Pass).StatusCode; code != 207 {
		t.Errorf("right password from another address: %d, want 207", code)
	}
	if n := strings.Count(g.Log(), "authentication failed"); n < 10 {
		t.Errorf("%d failures logged, want each one", n)
	}
	if strings.Contains(g.Log(), "sbagliata-3") {
		t.Errorf("a tried password is in the log")
	}
}
