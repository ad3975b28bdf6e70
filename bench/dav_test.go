//go:build bench

package bench

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/tests/harness"
)

// davServer is a WebDAV server under test, serving the Comune's folder of
// the bucket through an S3 counting proxy that only it uses.
type davServer struct {
	name       string
	proc       *proc
	base       string // URL of the Comune's folder, without the final slash
	user, pass string
	meter      // on the server's own S3 counting proxy
	// coldList restarts the server before each PROPFIND: rclone caches
	// listings (--dir-cache-time, 5 minutes by default), and a warm cache
	// would hide the requests a first visit costs.
	coldList bool
	idleRSS  int64 // RSS of the process before its first request
}

// httpClient is the client of both WebDAV servers: keep-alive, and no
// compression, so that every byte stored is a byte sent.
var httpClient = &http.Client{Transport: &http.Transport{
	MaxIdleConnsPerHost: 16,
	DisableCompression:  true,
	ReadBufferSize:      256 << 10,
	WriteBufferSize:     256 << 10,
}}

const davUser, davPass = "bench", "bench-Pw-42"

// startFaldone starts `faldone serve` with the Comune on the bucket,
// through counter; extraYAML is more of its configuration.
func startFaldone(t *testing.T, s3 *harness.S3Server, counter *harness.S3Counter, vgwPID, extraYAML string) *davServer {
	dir := t.TempDir()
	hash, err := auth.HashPassword(davPass)
	if err != nil {
		t.Fatal(err)
	}
	storage := fmt.Sprintf("s3://%s/%s?endpoint=%s&region=%s&path_style=true", bucket, comune, counter.Endpoint, s3.Region)
	yaml := fmt.Sprintf("comuni:\n  - id: %s\n    storage: %q\n    access_key_id: %q\n    secret_access_key: %q\n"+
		"users:\n  - name: %s\n    password_hash: %q\n"+
		// The role of the Comune's staff who file dossiers, so that every
		// request and every listed entry goes through authorization.
		"access:\n  assignments:\n    - {person: %s, comune: %s, role: manager}\n"+
		// The text index reads what is written, in the background, through
		// the same counting proxy: off, so that each row counts its own.
		"catalogue:\n  index_disabled: true\n",
		comune, storage, s3.AccessKey, s3.SecretKey, davUser, hash, davUser, comune) + extraYAML
	cfg := filepath.Join(dir, "faldone.yaml")
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := harness.FreePort(t)
	s := &davServer{name: "Faldone", base: "http://" + addr + "/" + comune, user: davUser, pass: davPass}
	// The production log level: one access-log line per request.
	s.proc = &proc{name: "faldone", log: filepath.Join(dir, "faldone.log"),
		argv: []string{harness.Binary(t), "serve", "--config", cfg, "--listen", addr, "--data", dir, "--log-level", "info"},
		env:  childEnv(), ready: s.ready}
	s.meter = meter{s3: counter, server: s.proc, vgwPID: vgwPID}
	s.start(t)
	return s
}

// startRclone starts `rclone serve webdav` on the Comune's folder of the
// bucket, through counter, with rclone's defaults otherwise.
func startRclone(t *testing.T, s3 *harness.S3Server, counter *harness.S3Counter, vgwPID string) *davServer {
	dir := t.TempDir()
	addr := harness.FreePort(t)
	s := &davServer{name: "rclone", base: "http://" + addr, user: davUser, pass: davPass, coldList: true}
	s.proc = &proc{name: "rclone", log: filepath.Join(dir, "rclone.log"),
		argv: []string{rcloneBinary(t), "serve", "webdav", ":s3:" + bucket + "/" + comune,
			"--addr", addr, "--user", davUser, "--pass", davPass,
			"--s3-provider", "Other", "--s3-endpoint", counter.Endpoint, "--s3-region", s3.Region,
			"--s3-force-path-style=true"},
		// The keys go in the environment rather than on a command line
		// that every process can read.
		env: childEnv("RCLONE_CONFIG="+filepath.Join(dir, "rclone.conf"),
			"RCLONE_S3_ACCESS_KEY_ID="+s3.AccessKey, "RCLONE_S3_SECRET_ACCESS_KEY="+s3.SecretKey),
		ready: s.ready}
	s.meter = meter{s3: counter, server: s.proc, vgwPID: vgwPID}
	s.start(t)
	return s
}

// ready succeeds once the server answers HTTP at all.
func (s *davServer) ready() error {
	resp, err := httpClient.Get(s.base + "/")
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// start starts the process and warms it up outside any measurement: the
// first request pays for the password check (argon2id in Faldone, cached
// afterwards) and for the first connections to S3.
func (s *davServer) start(t *testing.T) {
	s.proc.start(t)
	s.idleRSS = s.proc.rss(t)
	if code, _ := s.do(t, "PROPFIND", "/", strings.NewReader(""), 0, "Depth", "0"); code != http.StatusMultiStatus {
		t.Fatalf("%s: warm-up PROPFIND: %d\n%s", s.name, code, tail(s.proc.log))
	}
}

// restart gives a fresh process: its peak RSS then belongs to the work
// that follows, and nothing it cached before is left.
func (s *davServer) restart(t *testing.T) {
	s.proc.stop()
	s.start(t)
}

func (s *davServer) stop() { s.proc.stop() }

// send sends one request and returns the response, whose Close releases
// the request; path is relative to the Comune's folder and starts with a
// slash; hdr holds header names and values in turn; size is the length of
// body. It does not fail the test, so that workers may call it.
func (s *davServer) send(method, path string, body io.Reader, size int64, hdr ...string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, body)
	if err != nil {
		cancel()
		return nil, err
	}
	if body != nil {
		req.ContentLength = size
	}
	req.SetBasicAuth(s.user, s.pass)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("%s %s %s: %w", s.name, method, path, err)
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error {
	defer c.cancel()
	return c.ReadCloser.Close()
}

// exchange sends a request, drains the response and returns its status
// and body.
func (s *davServer) exchange(method, path string, body io.Reader, size int64, hdr ...string) (int, []byte, error) {
	resp, err := s.send(method, path, body, size, hdr...)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s %s: %w", s.name, method, path, err)
	}
	return resp.StatusCode, b, nil
}

// do is exchange for the test's goroutine: it fails the test on an error.
func (s *davServer) do(t *testing.T, method, path string, body io.Reader, size int64, hdr ...string) (int, []byte) {
	t.Helper()
	code, b, err := s.exchange(method, path, body, size, hdr...)
	if err != nil {
		t.Fatal(err)
	}
	return code, b
}

// measureMemory is measure for a big transfer on a fresh process: it also
// reads the process's peak RSS over its life (start, first sign-in, the
// transfer), and its RSS before the first request, before the transfer
// and at the peak during it, which tell where the memory went.
func (s *davServer) measureMemory(t *testing.T, fn func()) sample {
	before, life := s.proc.rss(t), s.proc.peakRSS(t)
	s.proc.resetPeak(t)
	smp := s.meter.measure(t, fn)
	smp.rssIdle, smp.rssBefore, smp.rssDuring = s.idleRSS, before, s.proc.peakRSS(t)
	smp.rss = max(life, smp.rssDuring)
	return smp
}

// propfind lists the folder dir (with its final slash) with Depth 1 and
// body, and checks that it holds want entries.
func (s *davServer) propfind(t *testing.T, dir, body string, want int) sample {
	if s.coldList {
		s.restart(t)
	}
	var (
		code int
		resp []byte
	)
	hdr := []string{"Depth", "1"}
	if body != "" {
		hdr = append(hdr, "Content-Type", `application/xml; charset="utf-8"`)
	}
	smp := s.meter.measure(t, func() {
		code, resp = s.do(t, "PROPFIND", dir, strings.NewReader(body), int64(len(body)), hdr...)
	})
	if code != http.StatusMultiStatus {
		t.Fatalf("%s PROPFIND %s: %d\n%.2000s", s.name, dir, code, resp)
	}
	// The folder itself is the first response.
	if n := countResponses(t, resp) - 1; n != want {
		t.Errorf("%s PROPFIND %s: %d entries, want %d", s.name, dir, n, want)
	}
	smp.size = int64(len(resp))
	return smp
}

// countResponses counts the DAV:response elements of a multistatus.
func countResponses(t *testing.T, body []byte) int {
	d := xml.NewDecoder(bytes.NewReader(body))
	n := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("multistatus: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Space == "DAV:" && se.Name.Local == "response" {
			n++
		}
	}
}

// get reads the file at path whole from a freshly started server.
func (s *davServer) get(t *testing.T, path string, size int64) sample {
	s.restart(t)
	var n int64
	smp := s.measureMemory(t, func() {
		resp, err := s.send("GET", path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s GET %s: %s", s.name, path, resp.Status)
		}
		if n, err = drain(resp.Body); err != nil {
			t.Fatalf("%s GET %s: %v", s.name, path, err)
		}
	})
	if n != size {
		t.Fatalf("%s GET %s: %d bytes, want %d", s.name, path, n, size)
	}
	smp.n = float64(n)
	return smp
}

// getMany reads the files at paths whole, all at once, each of size bytes.
func (s *davServer) getMany(t *testing.T, paths []string, size int64) sample {
	errs := make([]error, len(paths))
	smp := s.meter.measure(t, func() {
		parallel(len(paths), len(paths), func(i int) {
			resp, err := s.send("GET", paths[i], nil, 0)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs[i] = fmt.Errorf("%s", resp.Status)
				return
			}
			if n, err := drain(resp.Body); err != nil || n != size {
				errs[i] = fmt.Errorf("%d bytes of %d: %v", n, size, err)
			}
		})
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s GET %s: %v", s.name, paths[i], err)
		}
	}
	smp.n = float64(size) * float64(len(paths))
	return smp
}

// put writes size bytes to the file at path through a freshly started
// server.
func (s *davServer) put(t *testing.T, path string, size int64) sample {
	s.restart(t)
	var code int
	smp := s.measureMemory(t, func() {
		code, _ = s.do(t, "PUT", path, newNoise(size), size)
	})
	if code != http.StatusCreated && code != http.StatusNoContent {
		t.Fatalf("%s PUT %s: %d", s.name, path, code)
	}
	smp.n = float64(size)
	return smp
}

// putMany creates n files of size bytes each in a new folder dir (with
// its final slash), conc at a time; the MKCOL is not measured.
func (s *davServer) putMany(t *testing.T, dir string, n, size, conc int) sample {
	if code, _ := s.do(t, "MKCOL", dir, nil, 0); code != http.StatusCreated {
		t.Fatalf("%s MKCOL %s: %d", s.name, dir, code)
	}
	var (
		mu     sync.Mutex
		failed []string
	)
	smp := s.meter.measure(t, func() {
		parallel(n, conc, func(i int) {
			body := smallFile(i, size)
			code, _, err := s.exchange("PUT", dir+smallName(i), strings.NewReader(body), int64(len(body)))
			if err != nil || code != http.StatusCreated {
				mu.Lock()
				failed = append(failed, fmt.Sprintf("%s: %d %v", smallName(i), code, err))
				mu.Unlock()
			}
		})
	})
	if len(failed) > 0 {
		t.Fatalf("%s PUT in %s: %d failed: %v", s.name, dir, len(failed), failed[:min(5, len(failed))])
	}
	smp.n, smp.ops = float64(n), n
	return smp
}

// saves saves the drawing dir+"tavola.dwg" n times, one after the other,
// as AutoCAD saves over WebDAV: the new content written to tavola.tmp, the
// old backup tavola.bak deleted, the drawing moved to the backup, the
// temporary file moved to the drawing. Each save writes size bytes.
func (s *davServer) saves(t *testing.T, dir string, n int, size int64) sample {
	dwg, bak, tmp := dir+"tavola.dwg", dir+"tavola.bak", dir+"tavola.tmp"
	smp := s.meter.measure(t, func() {
		for range n {
			for _, st := range []struct {
				method, path string
				body         io.Reader
				hdr          []string
			}{
				{"PUT", tmp, newNoise(size), nil},
				{"DELETE", bak, nil, nil},
				{"MOVE", dwg, nil, []string{"Destination", s.base + bak, "Overwrite", "T"}},
				{"MOVE", tmp, nil, []string{"Destination", s.base + dwg, "Overwrite", "T"}},
			} {
				var length int64
				if st.body != nil {
					length = size
				}
				code, body := s.do(t, st.method, st.path, st.body, length, st.hdr...)
				if code < 200 || code > 299 {
					t.Fatalf("%s %s %s: %d\n%.2000s", s.name, st.method, st.path, code, body)
				}
			}
		}
	})
	smp.ops = n
	return smp
}

// move moves the folder src to dst, both with their final slash.
func (s *davServer) move(t *testing.T, src, dst string) sample {
	var code int
	var body []byte
	smp := s.meter.measure(t, func() {
		code, body = s.do(t, "MOVE", src, nil, 0, "Destination", s.base+dst, "Overwrite", "T")
	})
	if code != http.StatusCreated {
		t.Fatalf("%s MOVE %s: %d\n%.2000s", s.name, src, code, body)
	}
	return smp
}

// parallel calls fn(i) for every i below n, at most conc at a time.
func parallel(n, conc int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// drain reads r to the end in large reads, as a drive client copying a
// file does, and counts the bytes.
func drain(r io.Reader) (int64, error) {
	buf := make([]byte, 1<<20)
	// Hiding io.Discard's ReadFrom keeps the large buffer in use.
	return io.CopyBuffer(struct{ io.Writer }{io.Discard}, r, buf)
}
