//go:build bench

package bench

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/signature/signaturetest"
	"github.com/bassareggiana/faldone/tests/harness"
)

// TestSignatureBenchmark measures a signed file of 200 MiB on S3: the
// file page's signers (the quick path, which seeks past the document),
// the whole verification, and the original document streamed out of the
// envelope against a plain GET of the same bytes.
//
//	go test -tags bench ./bench -run TestSignatureBenchmark -v -timeout 20m
func TestSignatureBenchmark(t *testing.T) {
	runs := envInt(t, "BENCH_RUNS", 5)
	size := int64(envInt(t, "BENCH_P7M_MIB", 200)) * mib
	f := signaturetest.Make(t)
	dir := t.TempDir()
	doc := filepath.Join(dir, "tavola.pdf")
	out, err := os.Create(doc)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(out, "%PDF-1.7\n")
	if _, err := io.Copy(out, io.LimitReader(newNoise(size), size-9)); err != nil {
		t.Fatal(err)
	}
	out.Close()
	p7m := signaturetest.Sign(t, doc, filepath.Join(dir, "tavola.pdf.p7m"), f.RossiCert, f.RossiKey, f.CA, "-nodetach", "-cades")
	trustDir := t.TempDir()
	ca, _ := os.ReadFile(f.CA)
	os.WriteFile(filepath.Join(trustDir, "ca.pem"), ca, 0o644)

	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	counter := srv.Counting(t)
	g := harness.StartServe(t, fmt.Sprintf(`comuni:
  - id: %s
    name: Guastalla
    storage: "s3://%s/%s?endpoint=%s&region=%s&path_style=true"
    access_key_id: %s
    secret_access_key: %s
signatures:
  trust_dir: %s
catalogue:
  index_disabled: true
log:
  level: info
`, comune, bucket, comune, counter.Endpoint, srv.Region, srv.AccessKey, srv.SecretKey, trustDir))
	put := func(name, file string) {
		fh, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		defer fh.Close()
		st, _ := fh.Stat()
		req, _ := http.NewRequest("PUT", g.URL+"/"+comune+"/"+name, fh)
		req.ContentLength = st.Size()
		req.SetBasicAuth(g.User, g.Pass)
		resp, err := httpClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %v %v", name, err, resp)
		}
		resp.Body.Close()
	}
	put("tavola.pdf.p7m", p7m)
	put("tavola.pdf", doc)
	b := harness.NewBrowser(t, g)
	b.SignIn(g.User, g.Pass)
	client := b.Client()

	type row struct {
		name  string
		ds    []time.Duration
		first time.Duration
		n     int64
		reqs  map[string]int
	}
	measure := func(name, path, mustContain string) row {
		r := row{name: name}
		for range runs {
			counter.Reset()
			start := time.Now()
			req, _ := http.NewRequest("GET", g.URL+path, nil)
			if !strings.HasPrefix(path, "/_/") {
				req.SetBasicAuth(g.User, g.Pass)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body strings.Builder
			var n int64
			if mustContain != "" {
				n, err = io.Copy(&body, resp.Body)
			} else {
				n, err = drain(resp.Body)
			}
			resp.Body.Close()
			r.ds = append(r.ds, time.Since(start))
			if len(r.ds) == 1 {
				r.first = r.ds[0]
			}
			if err != nil || resp.StatusCode != 200 || (mustContain != "" && !strings.Contains(body.String(), mustContain)) {
				t.Fatalf("%s: %d %v\n%.2000s", name, resp.StatusCode, err, body.String())
			}
			r.n, r.reqs = n, counter.Counts()
		}
		slices.Sort(r.ds)
		return r
	}
	panel := measure("file page, signers (quick path)", "/_/scheda/"+comune+"/tavola.pdf.p7m", "Mario Rossi")
	whole := measure("file page, whole verification", "/_/scheda/"+comune+"/tavola.pdf.p7m?verifica=1", "Il documento è integro")
	orig := measure("original out of the envelope", "/_/originale/"+comune+"/tavola.pdf.p7m", "")
	plain := measure("plain GET of the same document", "/"+comune+"/tavola.pdf", "")
	if orig.n != size || plain.n != size {
		t.Fatalf("original %d bytes, plain %d, want %d", orig.n, plain.n, size)
	}
	median := func(r row) time.Duration { return r.ds[(len(r.ds)-1)/2] }
	rate := func(r row) float64 { return float64(r.n) / mib / median(r).Seconds() }
	reqs := func(r row) string {
		var parts []string
		for op, n := range r.reqs {
			parts = append(parts, fmt.Sprintf("%s %d", op, n))
		}
		slices.Sort(parts)
		return strings.Join(parts, ", ")
	}
	var md strings.Builder
	fmt.Fprintf(&md, "\n| %d MiB .p7m on S3 (%d runs) | median | min | max | S3 requests (last run) |\n|---|---|---|---|---|\n", size/mib, runs)
	fmt.Fprintf(&md, "| %s | %v | %v | %v | %s |\n", panel.name, median(panel).Round(time.Millisecond), panel.ds[0].Round(time.Millisecond), panel.ds[len(panel.ds)-1].Round(time.Millisecond), reqs(panel))
	// The first reads the file; the others find the verdict kept.
	fmt.Fprintf(&md, "| %s | first %v, then %v | | | %s (later views) |\n", whole.name, whole.first.Round(time.Millisecond), median(whole).Round(time.Millisecond), reqs(whole))
	for _, r := range []row{orig, plain} {
		fmt.Fprintf(&md, "| %s | %v (%.0f MiB/s) | %v | %v | %s |\n", r.name, median(r).Round(time.Millisecond), rate(r), r.ds[0].Round(time.Millisecond), r.ds[len(r.ds)-1].Round(time.Millisecond), reqs(r))
	}
	ratio := rate(orig) / rate(plain)
	fmt.Fprintf(&md, "\nBudgets: signers in < 300 ms: %v (%v); extraction at >= 80 %% of a plain GET: %.0f %% (%s).\n",
		median(panel).Round(time.Millisecond), metText(median(panel) < 300*time.Millisecond), 100*ratio, metText(ratio >= 0.8))
	t.Log(md.String())
}
