package integration

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// loadAnswer is what a client of the load got for one request.
type loadAnswer struct {
	method   string
	id       string // X-Request-Id; "" when no answer came
	status   int
	start    time.Time
	duration time.Duration
	err      error
}

// load runs clients that loop over reads, listings and small uploads until
// stop is closed, and returns every answer.
func load(g *harness.Gateway, clients int, stop <-chan struct{}) []loadAnswer {
	var (
		mu  sync.Mutex
		all []loadAnswer
		wg  sync.WaitGroup
	)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				var req *http.Request
				switch n % 3 {
				case 0:
					req, _ = http.NewRequest("GET", fmt.Sprintf("%s/guastalla/carico-%d.pdf", g.URL, n%10), nil)
				case 1:
					req, _ = http.NewRequest("PROPFIND", g.URL+"/guastalla/", nil)
					req.Header.Set("Depth", "1")
				case 2:
					req, _ = http.NewRequest("PUT", fmt.Sprintf("%s/guastalla/c%02d-%d.pdf", g.URL, c, n), bytes.NewReader(bytes.Repeat([]byte("x"), 1024)))
				}
				req.SetBasicAuth(g.User, g.Pass)
				a := loadAnswer{method: req.Method, start: time.Now()}
				resp, err := hc.Do(req)
				a.duration = time.Since(a.start)
				if err != nil {
					a.err = err
				} else {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					a.status, a.id = resp.StatusCode, resp.Header.Get("X-Request-Id")
				}
				mu.Lock()
				all = append(all, a)
				mu.Unlock()
				if a.status == http.StatusServiceUnavailable {
					time.Sleep(50 * time.Millisecond) // as a client that honours Retry-After, briefly
				}
			}
		}()
	}
	wg.Wait()
	return all
}

// TestFaultsUnderLoad: under the load of 20 clients, PostgreSQL goes away
// for 15 s (every connection to it cut and new ones refused, by a TCP gate
// in front of it), then S3 freezes for 15 s (SIGSTOP). Every request is
// answered, 2xx or 503, never 500 or 400, and within the configured
// timeouts; within 2 s of each dependency's return every request succeeds
// again. Then, with PostgreSQL away again, requests are answered 503 and
// the replica is killed (SIGKILL) before their records reach the store;
// started again with PostgreSQL back, it ships them. The audit then holds
// exactly one record per request sent, none missing, none twice.
func TestFaultsUnderLoad(t *testing.T) {
	const (
		timeout = 2 * time.Second
		outage  = 15 * time.Second
		settle  = 2 * time.Second
	)
	gate, stateURL := gatedPostgres(t)
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	g := harness.StartServe(t, stateURL+s3Yaml(srv, fmt.Sprintf("s3:\n  request_timeout: %v\n  stall_timeout: %v\n", timeout, timeout)))
	var ids []string // of every answer
	send := func(method, path, body string) int {
		resp := g.Do(method, path, nil, strings.NewReader(body))
		resp.Body.Close()
		ids = append(ids, resp.Header.Get("X-Request-Id"))
		return resp.StatusCode
	}
	for i := range 10 {
		if code := send("PUT", fmt.Sprintf("/guastalla/carico-%d.pdf", i), strings.Repeat("p", 64<<10)); code != http.StatusCreated {
			t.Fatalf("PUT: %d", code)
		}
	}

	stop := make(chan struct{})
	done := make(chan []loadAnswer)
	go func() { done <- load(g, 20, stop) }()
	type window struct {
		name              string
		down, up, settled time.Time
	}
	var windows []window
	// Between faults, time to settle and then a second of requests that
	// must all succeed, which end before the next fault begins.
	fault := func(name string, down, up func()) {
		time.Sleep(settle + 2*time.Second)
		w := window{name: name, down: time.Now()}
		down()
		time.Sleep(outage)
		w.up = time.Now()
		up()
		w.settled = w.up.Add(settle)
		windows = append(windows, w)
	}
	fault("PostgreSQL away", func() { gate.set(false) }, func() { gate.set(true) })
	fault("S3 frozen", func() { srv.Freeze(t) }, func() { srv.Thaw(t) })
	time.Sleep(settle + 2*time.Second)
	close(stop)
	answers := <-done

	limit := 2*timeout + 1500*time.Millisecond
	counts := map[int]int{}
	var slowest time.Duration
	for _, a := range answers {
		if a.err != nil {
			t.Errorf("%s at %v: no answer: %v", a.method, a.start.Format("15:04:05.000"), a.err)
			continue
		}
		ids = append(ids, a.id)
		counts[a.status]++
		slowest = max(slowest, a.duration)
		if a.status/100 != 2 && a.status != http.StatusServiceUnavailable {
			t.Errorf("%s at %v: %d, want 2xx or 503", a.method, a.start.Format("15:04:05.000"), a.status)
		}
		if a.duration > limit {
			t.Errorf("%s at %v: answered after %v, beyond %v", a.method, a.start.Format("15:04:05.000"), a.duration, limit)
		}
	}
	t.Logf("%d requests: %v; slowest answer %v", len(answers), counts, slowest)

	for _, w := range windows {
		var during, after, failedAfter int
		for _, a := range answers {
			switch {
			case a.start.After(w.down) && a.start.Before(w.up) && a.status == http.StatusServiceUnavailable:
				during++
			case a.start.After(w.settled) && a.start.Add(a.duration).Before(w.settled.Add(time.Second)):
				after++
				if a.status/100 != 2 {
					failedAfter++
					t.Logf("%s: %s begun %v after the return: %d", w.name, a.method, a.start.Sub(w.up), a.status)
				}
			}
		}
		if during == 0 {
			t.Errorf("%s: no request was answered 503: the fault did not happen", w.name)
		}
		if after == 0 || failedAfter > 0 {
			t.Errorf("%s: %d of %d requests begun %v after the return failed", w.name, failedAfter, after, settle)
		}
	}

	// Records that exist only in the spool when the process dies.
	gate.set(false)
	for i := range 30 {
		if code := send("GET", fmt.Sprintf("/guastalla/carico-%d.pdf", i%10), ""); code != http.StatusServiceUnavailable {
			t.Errorf("GET with PostgreSQL away: %d, want 503", code)
		}
	}
	g.Kill()
	gate.set(true)
	g.Restart()

	// Every loadAnswer's record, once.
	want := slices.Clone(ids)
	slices.Sort(want)
	var got []string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		out, err := faldone(t, "", "audit", "--csv", "--config", g.ConfigFile())
		if err != nil {
			t.Fatalf("faldone audit: %v\n%.500s", err, out)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := columns(t, rows[0], "request_id")
		got = got[:0]
		for _, r := range rows[1:] {
			got = append(got, r[col["request_id"]])
		}
		slices.Sort(got)
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
	}
	if !slices.Equal(got, want) {
		missing, twice := 0, 0
		seen := map[string]int{}
		for _, id := range got {
			seen[id]++
		}
		for _, id := range want {
			if seen[id] == 0 {
				missing++
			}
		}
		for _, n := range seen {
			if n > 1 {
				twice++
			}
		}
		t.Fatalf("the audit holds %d records for %d answers: %d missing, %d more than once", len(got), len(want), missing, twice)
	}
	if strings.Contains(g.Log(), "status=500") {
		t.Error("some request was answered 500")
	}
}
