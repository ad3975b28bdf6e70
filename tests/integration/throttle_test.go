package integration

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/state/postgres"
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

// memoryBudget is the gateway's budget of resident memory (DESIGN.md §7).
const memoryBudget = 128 << 20

// davStatus sends PROPFIND /guastalla/ (Depth 0) from c with the
// Authorization header authz and returns the status and Retry-After.
func davStatus(t *testing.T, c *http.Client, g *harness.Gateway, authz string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "PROPFIND", g.URL+"/guastalla/", nil)
	req.Header.Set("Depth", "0")
	req.Header.Set("Authorization", authz)
	resp, err := c.Do(req)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// burst sends n requests at once, each on a connection of its own, and
// tallies their statuses; every 429 must say when to retry.
func burst(t *testing.T, n int, send func(i int) (int, string)) map[int]int {
	t.Helper()
	codes := make([]int, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range codes {
		wg.Go(func() {
			<-start
			var ra string
			codes[i], ra = send(i)
			if codes[i] == http.StatusTooManyRequests {
				if s, err := strconv.Atoi(ra); err != nil || s <= 0 {
					t.Errorf("429 with Retry-After %q", ra)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	got := map[int]int{}
	for _, c := range codes {
		got[c]++
	}
	return got
}

// TestBruteForce: against two replicas sharing PostgreSQL and S3, password
// guesses are counted before their slow hash, in the shared store: 200
// simultaneous guesses get at most the allowed 401s and 429 for the rest,
// and memory stays within budget however many arrive at once; ten
// addresses guessing at one account get a few guesses each, yet the owner's
// password and app password still work from a fresh address, and a
// colleague's password, app password or Bearer token from an address full
// of failures (an office behind one NAT address) is never refused.
func TestBruteForce(t *testing.T) {
	const (
		owner, colleague = "operatore", "collega"
		fiscal           = "RSSMRA80A01H223Y"
		audience         = "faldone-dav"
		clientSecret     = "segreto-del-client-faldone-0123456789"
		// The policy (README, "Sign-in"): per account and address 10
		// checks in 15 minutes, 3 while the account (over 50 checks) or
		// the address (10 failures) is under attack.
		pairLimit, pairLimitHot, accountLimit = 10, 3, 50
	)
	op := harness.StartOIDC(t, harness.OIDCConfig{
		Clients: []harness.OIDCClient{{ID: "faldone", Secret: clientSecret,
			RedirectURIs: []string{"http://127.0.0.1/cb"}, DefaultResource: "https://faldone.example/dav"}},
		Users:     []harness.OIDCUser{{ID: "rossi", FiscalNumber: "TINIT-" + fiscal, GivenName: "Mario", FamilyName: "Rossi"}},
		Resources: []harness.OIDCResource{{Indicator: "https://faldone.example/dav", Audience: audience}},
	})
	yaml, dsn, key, _ := replicaConfig(t)
	// The burst opens 200 connections from one address: above the default
	// cap per address (TestConnsPerAddress tests that cap), so it is raised
	// here and the throttle, not the cap, answers every guess.
	yaml += "max_conns_per_address: 512\n"
	yaml += fmt.Sprintf(`oidc:
  issuer: %s
  client_id: faldone
  redirect_url: http://127.0.0.1/cb
  bearer_audience: %s
access:
  admins: [%s]
  assignments:
    - {person: %s, comune: guastalla, role: reader}
    - {person: %s, comune: guastalla, role: reader}
`, op.Issuer, audience, owner, fiscal, colleague)
	env := "FALDONE_OIDC_CLIENT_SECRET=" + clientSecret
	a := harness.StartServe(t, yaml, env)
	b := harness.StartServe(t, yaml, env)
	replicas := []*harness.Gateway{a, b}
	t.Setenv("FALDONE_OIDC_CLIENT_SECRET", clientSecret) // for the command below
	if out, err := faldone(t, pw(colleague)+"\n", "user", "add", colleague, "--config", filepath.Join(a.DataDir, "faldone.yaml")); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	st, err := postgres.Open(context.Background(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	apps, err := auth.NewAppPasswords(st, key, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	appPass := map[string]string{}
	for _, who := range []string{owner, colleague} {
		if appPass[who], _, err = apps.Create(context.Background(), auth.NewAppPassword{Owner: who, Name: "PC ufficio"}); err != nil {
			t.Fatal(err)
		}
	}
	token := op.AccessToken(t, "faldone", "rossi")
	checkMemory := func(t *testing.T) {
		t.Helper()
		for i, g := range replicas {
			if peak := g.PeakRSS(); peak > memoryBudget {
				t.Errorf("replica %d: peak memory %d MiB, budget %d MiB", i, peak>>20, memoryBudget>>20)
			} else {
				t.Logf("replica %d: peak memory %d MiB", i, peak>>20)
			}
		}
	}

	for i, g := range replicas {
		t.Logf("replica %d: peak memory at start %d MiB", i, g.PeakRSS()>>20)
	}
	t.Run("SimultaneousGuesses", func(t *testing.T) {
		// 200 guesses at one account from one address: at most its
		// allowance is checked.
		c := clientFrom("127.0.0.10")
		got := burst(t, 200, func(i int) (int, string) {
			return davStatus(t, c, a, basicAuth(owner, fmt.Sprint("sbagliata-", i)))
		})
		t.Logf("200 simultaneous guesses at one account: %v", got)
		if got[401] > pairLimit || got[401]+got[429] != 200 {
			t.Errorf("200 simultaneous guesses at one account: %v, want at most %d × 401 and 429 for the rest", got, pairLimit)
		}
		// 200 guesses at 200 names, through the other replica: each is
		// checked, but no more than a few hashes run at once.
		c = clientFrom("127.0.0.11")
		got = burst(t, 200, func(i int) (int, string) {
			return davStatus(t, c, b, basicAuth(fmt.Sprintf("RSSMRA80A01H%03d", i), "sbagliata"))
		})
		t.Logf("200 simultaneous guesses at 200 names: %v", got)
		if got[401]+got[429] != 200 {
			t.Errorf("200 simultaneous guesses at 200 names: %v, want only 401 and 429", got)
		}
		checkMemory(t)
	})

	t.Run("DistributedLockOut", func(t *testing.T) {
		// Ten wrong passwords for the owner from each of ten addresses
		// to each replica: what locked her out for 15 minutes.
		got := map[int]int{}
		for n := range 10 {
			c := clientFrom(fmt.Sprint("127.0.0.", 20+n))
			for i := range 20 {
				code, _ := davStatus(t, c, replicas[i%2], basicAuth(owner, fmt.Sprint("sbagliata-", n, "-", i)))
				got[code]++
			}
		}
		t.Logf("200 guesses from 10 addresses: %v", got)
		// Counts kept per replica would let twice as many through.
		if max := accountLimit + 10*pairLimitHot; got[401] > max || got[401]+got[429] != 200 {
			t.Errorf("200 guesses from 10 addresses through 2 replicas: %v, want at most %d × 401 and 429 for the rest", got, max)
		}
		fresh, attacker := clientFrom("127.0.0.50"), clientFrom("127.0.0.20")
		for _, tt := range []struct {
			name  string
			c     *http.Client
			g     *harness.Gateway
			authz string
		}{
			// Replica B has never seen the password: a slow check.
			{"owner's password from a fresh address", fresh, b, basicAuth(owner, b.Pass)},
			{"owner's password from a fresh address, other replica", fresh, a, basicAuth(owner, a.Pass)},
			{"owner's app password from a fresh address", fresh, a, basicAuth(owner, appPass[owner])},
			{"owner's app password from a guessing address", attacker, b, basicAuth(owner, appPass[owner])},
			{"colleague's password from a guessing address", attacker, a, basicAuth(colleague, pw(colleague))},
		} {
			if code, _ := davStatus(t, tt.c, tt.g, tt.authz); code != 207 {
				t.Errorf("%s: %d, want 207", tt.name, code)
			}
		}
		checkMemory(t)
	})

	t.Run("SharedAddress", func(t *testing.T) {
		// One attacker behind the office's NAT address sends 1,000 bad
		// Bearer tokens and bad app passwords.
		nat := clientFrom("127.0.0.30")
		var last int
		for i := range 1000 {
			authz := "Bearer falso-" + strconv.Itoa(i)
			if i%2 == 1 {
				authz = basicAuth(colleague, "fld_falsa"+strconv.Itoa(i))
			}
			last, _ = davStatus(t, nat, replicas[i%2], authz)
		}
		if last != http.StatusTooManyRequests {
			t.Errorf("the 1,000th bad credential from one address: %d, want 429", last)
		}
		for _, tt := range []struct{ name, authz string }{
			{"Bearer token", "Bearer " + token},
			{"app password", basicAuth(colleague, appPass[colleague])},
			{"password", basicAuth(colleague, pw(colleague))},
		} {
			for i, g := range replicas {
				if code, _ := davStatus(t, nat, g, tt.authz); code != 207 {
					t.Errorf("a colleague's valid %s from the shared address, replica %d: %d, want 207", tt.name, i, code)
				}
			}
		}
	})

	for _, g := range replicas {
		log := g.Log()
		if !strings.Contains(log, "authentication throttled") || !strings.Contains(log, "authentication failed") {
			t.Errorf("the log does not show the failures and refusals")
		}
		if strings.Contains(log, "sbagliata-3") || strings.Contains(log, token) {
			t.Errorf("a tried password or a token is in the log")
		}
	}
}
