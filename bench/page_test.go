//go:build bench

package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/tests/harness"
)

// pageTiming is what Chromium's Navigation and Paint Timing say of one
// visit, in milliseconds from the start of the navigation.
type pageTiming struct {
	ResponseStart, ResponseEnd, FirstPaint, DOMReady, Load float64
	Bytes                                                  float64
}

// TestArchivePageRender measures the first render of the archive page of a
// 2,000-entry folder on S3 in headless Chromium, and the S3 requests it
// costs beside a Depth-1 PROPFIND of the same folder. Run it with
//
//	go test -tags bench ./bench -run TestArchivePageRender -v
func TestArchivePageRender(t *testing.T) {
	const entries = 2000
	runs := envInt(t, "BENCH_RUNS", 5)
	began, load := time.Now(), loadAverage()
	s3srv := harness.StartS3(t)
	s3srv.CreateBucket(t, bucket)
	sd := &seeder{root: filepath.Join(s3srv.Dir, bucket), client: s3srv.Client()}
	sd.folder(t, comune+"/")
	dir := fmt.Sprintf("pagina-%d/", entries)
	sd.files(t, comune+"/"+dir, entries, 256, smallName)
	vgw, err := findPID(s3srv.Dir)
	if err != nil {
		t.Fatal(err)
	}
	// The thumbnails beside the files load after the page, each of its
	// own requests (TestScanFirstPage measures them): off, so that the
	// page's figures are the listing's.
	fal := startFaldone(t, s3srv, s3srv.Counting(t), vgw, "previews:\n  disabled: true\n")
	defer fal.stop()
	host := strings.TrimSuffix(fal.base, "/"+comune)
	page := host + "/_/archivio/" + comune + "/" + dir

	ctx := harness.Chromium(t, 10*time.Minute)
	if err := chromedp.Run(ctx,
		chromedp.EmulateViewport(1366, 900),
		harness.SignIn(host, davUser, davPass),
	); err != nil {
		t.Fatalf("sign in: %v\n%s", err, tail(fal.proc.log))
	}

	var visits []pageTiming
	var pageReqs, davReqs []int
	var count string
	for r := range runs {
		var tm pageTiming
		smp := fal.measure(t, func() {
			if err := chromedp.Run(ctx,
				chromedp.Navigate(page),
				chromedp.WaitVisible(`#elenco`, chromedp.ByID),
				chromedp.Text(`#conteggio`, &count, chromedp.ByID),
				// The paint entry is there once the page has painted: wait
				// for the load event and a frame after it.
				chromedp.Poll(`(function(){var n=performance.getEntriesByType("navigation")[0];
					var p=performance.getEntriesByName("first-contentful-paint")[0];
					if(!n||!p||n.loadEventEnd===0) return null;
					return {ResponseStart:n.responseStart,ResponseEnd:n.responseEnd,FirstPaint:p.startTime,
						DOMReady:n.domContentLoadedEventEnd,Load:n.loadEventEnd,Bytes:n.decodedBodySize};})()`, &tm,
					chromedp.WithPollingTimeout(30*time.Second)),
			); err != nil {
				t.Fatalf("open the page: %v", err)
			}
		})
		if !strings.Contains(count, fmt.Sprintf("%d elementi", entries)) {
			t.Fatalf("the page counts %q, want %d entries", count, entries)
		}
		visits = append(visits, tm)
		pageReqs = append(pageReqs, total(smp.reqs))
		prop := fal.propfind(t, "/"+dir, "", entries)
		davReqs = append(davReqs, total(prop.reqs))
		t.Logf("run %d: first paint %.0f ms, DOM ready %.0f ms, load %.0f ms; S3 requests: page %v, PROPFIND %v",
			r+1, tm.FirstPaint, tm.DOMReady, tm.Load, smp.reqs, prop.reqs)
	}

	med := func(f func(pageTiming) float64) string {
		v := make([]float64, len(visits))
		for i, x := range visits {
			v[i] = f(x)
		}
		slices.Sort(v)
		all := make([]string, len(visits))
		for i, x := range visits {
			all[i] = fmt.Sprintf("%.0f", f(x))
		}
		return fmt.Sprintf("%.0f ms | %s", v[(len(v)-1)/2], strings.Join(all, ", "))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s; Chromium headless at 1366×900; benchmark took %v; load average %s at its start, %s at its end.\n\n",
		machine(t, nil), time.Since(began).Round(time.Second), load, loadAverage())
	fmt.Fprintf(&b, "| Archive page of a %s-entry folder on S3 (median of %d visits) | median | all visits |\n|---|---|---|\n", thousands(entries), runs)
	fmt.Fprintf(&b, "| First byte of the page (server: session, authorization, whole listing, sorting, first 100 rows) | %s |\n", med(func(p pageTiming) float64 { return p.ResponseStart }))
	fmt.Fprintf(&b, "| Page received | %s |\n", med(func(p pageTiming) float64 { return p.ResponseEnd }))
	fmt.Fprintf(&b, "| **First contentful paint** (budget: under 1 s) | %s |\n", med(func(p pageTiming) float64 { return p.FirstPaint }))
	fmt.Fprintf(&b, "| DOM ready | %s |\n", med(func(p pageTiming) float64 { return p.DOMReady }))
	fmt.Fprintf(&b, "| Load event | %s |\n", med(func(p pageTiming) float64 { return p.Load }))
	fmt.Fprintf(&b, "\nPage size %.0f bytes. S3 requests per visit: %v; per Depth-1 PROPFIND of the same folder: %v.\n",
		visits[0].Bytes, pageReqs, davReqs)
	fmt.Fprint(os.Stdout, "\n"+b.String())
	if !slices.Equal(pageReqs, davReqs) {
		t.Errorf("the page costs %v S3 requests, PROPFIND %v", pageReqs, davReqs)
	}
}
