package browser

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/bassareggiana/faldone/scan/scantest"
	"github.com/bassareggiana/faldone/tests/harness"
)

// TestScanViewer: at a tablet's and a PC's size, a folder page shows the
// thumbnails of a scan and a PDF; the scan's page shows its first page
// and leads to the viewer, which shows every page in turn — buttons,
// keys and, on the tablet, a swipe — and zooms.
func TestScanViewer(t *testing.T) {
	g := harness.StartServe(t, "")
	const d = "/guastalla/2019/PC-2019-0042"
	const pages = 4
	tif, err := os.ReadFile(scantest.TIFF(t, t.TempDir(), pages, 620, 877, scantest.G4))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/guastalla/2019", d} {
		if code, body, _ := g.Status("MKCOL", p, nil, ""); code != http.StatusCreated {
			t.Fatalf("MKCOL %s: %d %s", p, code, body)
		}
	}
	for name, data := range map[string][]byte{"scansione.tif": tif, "relazione.pdf": scantest.PDF(t, 3), "note.txt": []byte("appunti")} {
		resp := g.Do("PUT", d+"/"+name, nil, bytes.NewReader(data))
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %d", name, resp.StatusCode)
		}
	}
	loaded := func(sel string) string {
		return fmt.Sprintf(`(() => { const i = document.querySelector(%q); return !!i && i.complete && i.naturalWidth > 0; })()`, sel)
	}
	for _, size := range screens {
		t.Run(size.name, func(t *testing.T) {
			ctx := newBrowser(t)
			var thumbs int
			if err := chromedp.Run(ctx,
				chromedp.EmulateViewport(size.w, size.h),
				harness.SignIn(g.URL, g.User, g.Pass),
				chromedp.Navigate(g.URL+"/_/archivio"+d+"/"),
				chromedp.WaitVisible(`#elenco`, chromedp.ByID),
				chromedp.Poll(`Array.from(document.querySelectorAll("img.miniatura")).every(i => i.complete && i.naturalWidth > 0) && document.querySelectorAll("img.miniatura").length`, &thumbs, chromedp.WithPollingTimeout(30*time.Second)),
			); err != nil {
				t.Fatalf("the folder's thumbnails: %v", err)
			}
			if thumbs != 2 {
				t.Errorf("%d thumbnails, want 2 (the scan and the PDF, not the text)", thumbs)
			}
			screenshot(t, ctx, "scansioni-cartella-"+size.name)

			var ok bool
			if err := chromedp.Run(ctx,
				chromedp.Click(`//a[@class="file" and text()="scansione.tif"]`, chromedp.BySearch),
				chromedp.WaitVisible(`#sfoglia`, chromedp.ByID),
				chromedp.Poll(loaded("#prima-pagina"), &ok, chromedp.WithPollingTimeout(30*time.Second)),
			); err != nil {
				t.Fatalf("the scan's page: %v", err)
			}
			screenshot(t, ctx, "scansione-scheda-"+size.name)

			if err := chromedp.Run(ctx,
				chromedp.Click(`#sfoglia`, chromedp.ByID),
				chromedp.WaitVisible(`#pagina-corrente`, chromedp.ByID),
			); err != nil {
				t.Fatalf("the viewer: %v", err)
			}
			// Every page in turn: the button, the arrow key, and on the
			// tablet a swipe to the left.
			for k := 1; k <= pages; k++ {
				var shown, counter string
				if err := chromedp.Run(ctx,
					chromedp.Poll(fmt.Sprintf(`(() => { const i = document.getElementById("pagina-corrente"); return i.complete && i.naturalWidth > 0 && i.getAttribute("src").includes("n=%d&"); })()`, k), &ok, chromedp.WithPollingTimeout(30*time.Second)),
					chromedp.Evaluate(`document.getElementById("pagina-corrente").alt`, &shown),
					chromedp.Value(`#numero-pagina`, &counter, chromedp.ByID),
				); err != nil {
					t.Fatalf("page %d not shown: %v", k, err)
				}
				if !strings.HasPrefix(shown, fmt.Sprintf("Pagina %d di %d", k, pages)) || counter != fmt.Sprint(k) {
					t.Errorf("page %d: alt %q, counter %q", k, shown, counter)
				}
				if k == 1 || k == pages {
					screenshot(t, ctx, fmt.Sprintf("scansione-vista-%d-%s", k, size.name))
				}
				if k == pages {
					break
				}
				var turn chromedp.Action
				switch {
				case k == 2 && size.name == "tablet":
					turn = swipeLeft(`#pagina-grande`)
				case k == 3:
					turn = chromedp.KeyEvent(kb.ArrowRight)
				default:
					turn = chromedp.Click(`#successiva`, chromedp.ByID)
				}
				if err := chromedp.Run(ctx, turn); err != nil {
					t.Fatalf("turning from page %d: %v", k, err)
				}
			}
			var disabled string
			var width string
			if err := chromedp.Run(ctx,
				chromedp.AttributeValue(`#successiva`, "aria-disabled", &disabled, nil, chromedp.ByID),
				chromedp.Click(`#ingrandisci`, chromedp.ByID),
				chromedp.Poll(loaded("#pagina-corrente"), &ok, chromedp.WithPollingTimeout(30*time.Second)),
				chromedp.Evaluate(`document.getElementById("pagina-corrente").style.width`, &width),
			); err != nil {
				t.Fatalf("zoom: %v", err)
			}
			if disabled != "true" || width != "150%" {
				t.Errorf("on the last page: next disabled %q; zoomed to %q", disabled, width)
			}
			screenshot(t, ctx, "scansione-zoom-"+size.name)
			// A thumbnail leads to its page.
			if err := chromedp.Run(ctx,
				chromedp.Click(`#adatta`, chromedp.ByID),
				chromedp.Click(`#miniature a[data-n="1"]`, chromedp.ByQuery),
				chromedp.Poll(`document.getElementById("pagina-corrente").getAttribute("src").includes("n=1&") && document.querySelector('#miniature a[aria-current]').dataset.n === "1"`, &ok, chromedp.WithPollingTimeout(10*time.Second)),
				chromedp.Poll(loaded(`#miniature a[data-n="1"] img`), &ok, chromedp.WithPollingTimeout(30*time.Second)),
			); err != nil {
				t.Fatalf("thumbnail: %v", err)
			}

			// The PDF's viewer, from its own page's link.
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/scheda"+d+"/relazione.pdf"),
				chromedp.Click(`#sfoglia`, chromedp.ByID),
				chromedp.WaitVisible(`#pagina-corrente`, chromedp.ByID),
				chromedp.Poll(loaded("#pagina-corrente"), &ok, chromedp.WithPollingTimeout(30*time.Second)),
			); err != nil {
				t.Fatalf("the PDF's viewer: %v", err)
			}
			screenshot(t, ctx, "pdf-vista-"+size.name)
		})
	}
}

// swipeLeft drags a finger across the middle of the element sel, from
// right to left.
func swipeLeft(sel string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var mid []float64
		if err := chromedp.Evaluate(fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect(); return [r.x + r.width/2, r.y + Math.min(r.height/2, (innerHeight - r.y)/2)]; })()`, sel), &mid).Do(ctx); err != nil {
			return err
		}
		x, y := int64(mid[0]), mid[1]
		at := func(dx int64) []*input.TouchPoint {
			return []*input.TouchPoint{{X: float64(x + dx), Y: y}}
		}
		if err := input.DispatchTouchEvent(input.TouchStart, at(150)).Do(ctx); err != nil {
			return err
		}
		for dx := int64(100); dx >= -150; dx -= 50 {
			if err := input.DispatchTouchEvent(input.TouchMove, at(dx)).Do(ctx); err != nil {
				return err
			}
		}
		return input.DispatchTouchEvent(input.TouchEnd, []*input.TouchPoint{}).Do(ctx)
	})
}
