//go:build bench

package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bassareggiana/faldone/scan/render"
	"github.com/bassareggiana/faldone/tests/harness"
)

// TestScanFirstPage measures the first view of page 1 of a 300-page,
// ~400 MB JPEG-compressed TIFF (A4 at 300 dpi) on S3: through the server
// (the image of /_/pagina, cold, and the viewer's page, which counts the
// 300 pages), with the S3 requests each costs; and, in this process, one
// page's render by scan/render over ranged GETs, with the tool's max RSS
// and the Go heap's peak. Run it with
//
//	go test -tags bench ./bench -run TestScanFirstPage -v -timeout 30m
//
// BENCH_SCAN_PAGES (300) sets the pages; BENCH_RUNS (3) the cold views,
// each of another copy of the file.
func TestScanFirstPage(t *testing.T) {
	pages := envInt(t, "BENCH_SCAN_PAGES", 300)
	runs := envInt(t, "BENCH_RUNS", 3)
	work := t.TempDir()
	began := time.Now()
	scan := bigScan(t, work, pages)
	fi, err := os.Stat(scan)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the scan: %d pages, %.0f MB, made in %v", pages, float64(fi.Size())/1e6, time.Since(began).Round(time.Second))

	s3srv := harness.StartS3(t)
	s3srv.CreateBucket(t, bucket)
	sd := &seeder{root: filepath.Join(s3srv.Dir, bucket), client: s3srv.Client()}
	sd.folder(t, comune+"/")
	sd.folder(t, comune+"/scansioni/")
	for i := range runs + 1 {
		f, err := os.Open(scan)
		if err != nil {
			t.Fatal(err)
		}
		sd.object(t, fmt.Sprintf("%s/scansioni/scansione-%d.tif", comune, i), f)
		f.Close()
	}
	vgw, err := findPID(s3srv.Dir)
	if err != nil {
		t.Fatal(err)
	}
	counter := s3srv.Counting(t)
	fal := startFaldone(t, s3srv, counter, vgw, "")
	defer fal.stop()
	host := strings.TrimSuffix(fal.base, "/"+comune)
	c := signIn(t, host, davUser, davPass)

	fetch := func(path string) (time.Duration, int, map[string]int) {
		counter.Reset()
		start := time.Now()
		resp, err := c.Get(host + path)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(start)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d\n%s", path, resp.StatusCode, tail(fal.proc.log))
		}
		return d, int(n), counter.Counts()
	}
	for i := 1; i <= runs; i++ {
		p := fmt.Sprintf("/%s/scansioni/scansione-%d.tif", comune, i)
		d, n, reqs := fetch("/_/pagina" + p + "?n=1&w=1024")
		t.Logf("run %d, first page at 1024 px, cold: %v, %d bytes, S3 %v", i, d.Round(time.Millisecond), n, reqs)
		d, _, reqs = fetch("/_/vista" + p)
		t.Logf("run %d, the viewer (counting %d pages), cold: %v, S3 %v", i, pages, d.Round(time.Millisecond), reqs)
		d, _, reqs = fetch("/_/pagina" + p + fmt.Sprintf("?n=%d&w=1024", pages))
		t.Logf("run %d, page %d at 1024 px after the count: %v, S3 %v", i, pages, d.Round(time.Millisecond), reqs)
		d, _, reqs = fetch("/_/pagina" + p + "?n=1&w=1024")
		t.Logf("run %d, first page again (cached): %v, S3 %v", i, d.Round(time.Millisecond), reqs)
	}
	t.Logf("the server's peak RSS: %d MiB", fal.proc.peakRSS(t)>>20)

	// In this process: scan/render alone over ranged GETs, for the tool's
	// memory and the Go heap.
	r, err := render.New(render.Config{Dir: filepath.Join(work, "render")})
	if err != nil {
		t.Fatal(err)
	}
	key := comune + "/scansioni/scansione-0.tif"
	src := render.Source{Path: key, Version: "bench", Size: fi.Size(), Type: "image/tiff",
		Data: &s3Ranges{client: s3srv.Client(), key: key}}
	var peakHeap atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
		}
	}()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	img, err := r.Render(context.Background(), src, 1, 1024)
	d := time.Since(start)
	close(stop)
	if err != nil {
		t.Fatal(err)
	}
	img.File.Close()
	st := r.Stats()
	gets := src.Data.(*s3Ranges).gets.Load()
	t.Logf("scan/render, page 1 at 1024 px: %v, %d ranged GETs; vips max RSS %.1f MiB; Go heap in use %.1f MiB before, %.1f MiB at its peak",
		d.Round(time.Millisecond), gets, float64(st.PeakRSS)/(1<<20), float64(before.HeapInuse)/(1<<20), float64(peakHeap.Load())/(1<<20))
	if st.PeakRSS > 64<<20 {
		t.Errorf("the tool's max RSS is %d MiB, past 64 MiB", st.PeakRSS>>20)
	}
}

// bigScan writes a TIFF of n A4 pages at 300 dpi, 8-bit gray with a
// scanner's noise, JPEG-compressed (about 1.37 MB a page): ten pages
// drawn, written by libvips, cycled by tiffcp.
func bigScan(t *testing.T, dir string, n int) string {
	t.Helper()
	const w, h = 2480, 3508
	var distinct []string
	for i := range min(n, 10) {
		pgm := filepath.Join(dir, fmt.Sprintf("p%d.pgm", i))
		b := make([]byte, 0, w*h+32)
		b = append(b, fmt.Sprintf("P5\n%d %d\n255\n", w, h)...)
		r := rand.New(rand.NewSource(int64(i)))
		for y := range h {
			for x := range w {
				v := 235 + r.Intn(17) - 8
				if ((x+i*97)/40+y/60)%7 == 0 {
					v = 30 + r.Intn(17)
				}
				b = append(b, byte(v))
			}
		}
		if err := os.WriteFile(pgm, b, 0o600); err != nil {
			t.Fatal(err)
		}
		tif := filepath.Join(dir, fmt.Sprintf("p%d.tif", i))
		if out, err := exec.Command("vips", "tiffsave", pgm, tif, "--compression", "jpeg", "--Q", "85").CombinedOutput(); err != nil {
			t.Fatalf("vips: %v\n%s", err, out)
		}
		os.Remove(pgm)
		distinct = append(distinct, tif)
	}
	args := make([]string, 0, n+1)
	for i := range n {
		args = append(args, distinct[i%len(distinct)])
	}
	out := filepath.Join(dir, "scansione.tif")
	if b, err := exec.Command("tiffcp", append(args, out)...).CombinedOutput(); err != nil {
		t.Fatalf("tiffcp: %v\n%s", err, b)
	}
	return out
}

// s3Ranges reads an object of the bench's bucket with ranged GETs, as the
// S3 backend does.
type s3Ranges struct {
	client *s3.Client
	key    string
	gets   atomic.Int64
}

func (s *s3Ranges) ReadAt(p []byte, off int64) (int, error) {
	s.gets.Add(1)
	out, err := s.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(s.key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(p))-1))})
	if err != nil {
		return 0, err
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF
	}
	return n, err
}

var benchCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn returns a client with a session of the local account user.
func signIn(t *testing.T, host, user, pass string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 5 * time.Minute}
	resp, err := c.Get(host + "/_/accedi")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := benchCSRF.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on the sign-in page")
	}
	resp, err = c.PostForm(host+"/_/accedi/locale", url.Values{"utente": {user}, "parola": {pass}, "csrf": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	return c
}
