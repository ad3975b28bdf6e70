package integration

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestLoadTwoReplicas runs a bounded mixed load — PROPFIND, GET, PUT, LOCK
// — from 50 concurrent clients over two replicas sharing PostgreSQL and S3,
// on loopback, for FALDONE_LOAD_SECONDS (default 20; the figures in
// docs/benchmarks.md come from 60). It must end with no 5xx and every
// acknowledged PUT readable with its content.
func TestLoadTwoReplicas(t *testing.T) {
	seconds := 20
	if v, err := strconv.Atoi(os.Getenv("FALDONE_LOAD_SECONDS")); err == nil && v > 0 && v <= 600 {
		seconds = v
	}
	dsn := postgresDB(t)
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	keyFile := filepath.Join(t.TempDir(), "faldone.key")
	var key [32]byte
	rand.Read(key[:])
	os.WriteFile(keyFile, []byte(hex.EncodeToString(key[:])+"\n"), 0o600)
	yaml := fmt.Sprintf("state_url: %q\nsecret_file: %q\n", dsn, keyFile) + s3Yaml(srv, "log:\n  level: warn\n")
	replicas := []*harness.Gateway{harness.StartServe(t, yaml), harness.StartServe(t, yaml)}
	a := replicas[0]
	mustStatus(t, a, "MKCOL", "/guastalla/carico", nil, "", http.StatusCreated)
	for i := range 200 {
		mustStatus(t, a, "PUT", fmt.Sprintf("/guastalla/carico/base-%03d.pdf", i), nil, strings.Repeat("b", 4096), http.StatusCreated)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	do := func(g *harness.Gateway, method, path string, h map[string]string, body string) (int, time.Duration) {
		req, _ := http.NewRequest(method, g.URL+path, strings.NewReader(body))
		req.SetBasicAuth(g.User, g.Pass)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, time.Since(start)
		}
		buf := make([]byte, 32<<10)
		for {
			if _, err := resp.Body.Read(buf); err != nil {
				break
			}
		}
		resp.Body.Close()
		return resp.StatusCode, time.Since(start)
	}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		byStatus  = map[int]int{}
		written   = map[string]string{}
	)
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup
	for c := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := mrand.New(mrand.NewPCG(uint64(c), 42))
			for n := 0; time.Now().Before(deadline); n++ {
				g := replicas[n%2]
				var code int
				var d time.Duration
				switch r := rng.IntN(100); {
				case r < 35:
					code, d = do(g, "PROPFIND", "/guastalla/carico/", map[string]string{"Depth": "1"}, "")
				case r < 70:
					code, d = do(g, "GET", fmt.Sprintf("/guastalla/carico/base-%03d.pdf", rng.IntN(200)), nil, "")
				case r < 90:
					p := fmt.Sprintf("/guastalla/carico/c%02d-%05d.pdf", c, n)
					body := fmt.Sprintf("client %d write %d %x", c, n, rng.Uint64())
					code, d = do(g, "PUT", p, nil, body)
					if code == http.StatusCreated {
						mu.Lock()
						written[p] = body
						mu.Unlock()
					}
				default:
					p := fmt.Sprintf("/guastalla/carico/base-%03d.pdf", 100+c)
					var h http.Header
					req, _ := http.NewRequest("LOCK", g.URL+p, strings.NewReader(lockExclusive))
					req.SetBasicAuth(g.User, g.Pass)
					req.Header.Set("Timeout", "Second-60")
					start := time.Now()
					resp, err := client.Do(req)
					if err == nil {
						resp.Body.Close()
						code, h = resp.StatusCode, resp.Header
					}
					d = time.Since(start)
					if code == http.StatusOK {
						// Unlock through the other replica.
						do(replicas[(n+1)%2], "UNLOCK", p, map[string]string{"Lock-Token": h.Get("Lock-Token")}, "")
					}
				}
				mu.Lock()
				latencies = append(latencies, d)
				byStatus[code]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	total := len(latencies)
	slices.Sort(latencies)
	pct := func(p float64) time.Duration { return latencies[int(math.Ceil(p*float64(total)))-1] }
	t.Logf("load: %d requests in %d s over 2 replicas, 50 clients: %.0f req/s, p50 %v, p99 %v; statuses %v; %d writes",
		total, seconds, float64(total)/float64(seconds), pct(.50).Round(time.Millisecond), pct(.99).Round(time.Millisecond), byStatus, len(written))
	for code, n := range byStatus {
		if code == 0 || code >= 500 {
			t.Errorf("%d requests answered %d", n, code)
		}
	}
	if len(written) == 0 {
		t.Fatal("no write succeeded")
	}
	lost := 0
	for p, body := range written {
		if code, got, _ := replicas[1].Status("GET", p, nil, ""); code != 200 || got != body {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged writes lost", lost, len(written))
	}
}
