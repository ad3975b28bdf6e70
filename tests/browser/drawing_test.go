package browser

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestDrawingPreview: at a tablet's and a PC's size, a DXF drawing's page
// shows the drawing, which the buttons, the wheel, a drag, two fingers and
// the keyboard zoom and pan, and whose layers switch off; a DWG's page
// names its release and where the drive has it; a drawing too complex says
// so in the page, which works the same.
func TestDrawingPreview(t *testing.T) {
	g := harness.StartServe(t, "")
	const d = "/guastalla/2019/PC-2019-0042"
	for _, p := range []string{"/guastalla/2019", d} {
		if code, _, _ := g.Status("MKCOL", p, nil, ""); code != 201 {
			t.Fatalf("MKCOL %s: %d", p, code)
		}
	}
	for name, content := range map[string][]byte{
		"tavola-01-pianta.dxf": harness.PlanDXF(),
		"tavola-gdal.dxf":      harness.GDALDXF(t),
		"tavola-complessa.dxf": harness.ComplexDXF(),
		"tavola-02.dwg":        harness.DWG2018(),
	} {
		if code, _, _ := g.Status("PUT", d+"/"+name, nil, string(content)); code != 201 {
			t.Fatalf("PUT %s: %d", name, code)
		}
	}
	transform := func(ctx context.Context) string {
		t.Helper()
		var v string
		if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector("#vista-disegno g.vista").getAttribute("transform")`, &v)); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, size := range screens {
		t.Run(size.name, func(t *testing.T) {
			ctx := newBrowser(t)
			var w, h, drawn float64
			var version string
			// Any breach of the pages' policy is kept, to be told (the
			// SVG's own style is dropped before it goes in the page).
			if err := chromedp.Run(ctx, chromedp.ActionFunc(func(ctx context.Context) error {
				_, err := page.AddScriptToEvaluateOnNewDocument(`document.addEventListener("securitypolicyviolation", function (e) { (window.violazioni = window.violazioni || []).push(e.violatedDirective + " " + e.blockedURI); });`).Do(ctx)
				return err
			})); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Run(ctx,
				chromedp.EmulateViewport(size.w, size.h),
				harness.SignIn(g.URL, g.User, g.Pass),
				chromedp.Navigate(g.URL+"/_/archivio"+d+"/"),
				chromedp.WaitVisible(`#elenco`, chromedp.ByID),
				chromedp.Click(`//a[@class="file" and text()="tavola-01-pianta.dxf"]`, chromedp.BySearch),
				chromedp.WaitVisible(`#vista-disegno svg`, chromedp.ByQuery),
				chromedp.Text(`#versione-cad`, &version, chromedp.ByID),
				chromedp.Evaluate(`document.querySelector("#vista-disegno svg").getBoundingClientRect().width`, &w),
				chromedp.Evaluate(`document.querySelector("#vista-disegno svg").getBoundingClientRect().height`, &h),
				// What is drawn has a size on the screen, not only its frame.
				chromedp.Evaluate(`document.querySelector("#vista-disegno g.vista").getBoundingClientRect().width`, &drawn),
				chromedp.ScrollIntoView(`#disegno`, chromedp.ByID),
			); err != nil {
				t.Fatalf("open the drawing's page: %v", err)
			}
			if w < 300 || h < 300 || drawn < 200 || version != "AutoCAD 2013-2017 (AC1027)" {
				t.Errorf("the preview is %.0f×%.0f px, its drawing %.0f px wide; version %q", w, h, drawn, version)
			}
			var violations []string
			if err := chromedp.Run(ctx, chromedp.Evaluate(`window.violazioni || []`, &violations)); err != nil {
				t.Fatal(err)
			}
			// The kit's own (its script's inline style, its sheet's data:
			// fonts) are on every page: a page without a preview has the
			// same.
			var other []string
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/scheda"+d+"/tavola-02.dwg"),
				chromedp.WaitVisible(`#apri-cad`, chromedp.ByID),
				chromedp.Evaluate(`window.violazioni || []`, &other),
			); err != nil {
				t.Fatal(err)
			}
			slices.Sort(violations)
			slices.Sort(other)
			if !slices.Equal(violations, other) {
				t.Errorf("the page's policy refused %q with the preview, %q without", violations, other)
			}
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/scheda"+d+"/tavola-01-pianta.dxf"),
				chromedp.WaitVisible(`#vista-disegno svg`, chromedp.ByQuery),
				chromedp.ScrollIntoView(`#disegno`, chromedp.ByID),
			); err != nil {
				t.Fatal(err)
			}
			screenshot(t, ctx, "disegno-"+size.name)

			fit := transform(ctx)
			if err := chromedp.Run(ctx, chromedp.Click(`#ingrandisci`, chromedp.ByID)); err != nil {
				t.Fatal(err)
			}
			zoomed := transform(ctx)
			if zoomed == fit || !strings.Contains(zoomed, "scale(1.5)") {
				t.Errorf("Ingrandisci: %q, then %q", fit, zoomed)
			}
			screenshot(t, ctx, "disegno-ingrandito-"+size.name)
			if err := chromedp.Run(ctx, chromedp.Click(`#riduci`, chromedp.ByID)); err != nil {
				t.Fatal(err)
			}
			if got := transform(ctx); !strings.Contains(got, "scale(1)") {
				t.Errorf("Riduci after Ingrandisci: %q", got)
			}

			// The middle of the view, where the pointer acts.
			var x, y float64
			if err := chromedp.Run(ctx,
				chromedp.Evaluate(`(function(){var r=document.getElementById("vista-disegno").getBoundingClientRect();return r.left+r.width/2})()`, &x),
				chromedp.Evaluate(`(function(){var r=document.getElementById("vista-disegno").getBoundingClientRect();return r.top+r.height/2})()`, &y),
			); err != nil {
				t.Fatal(err)
			}
			// A drag with the mouse pans.
			before := transform(ctx)
			if err := chromedp.Run(ctx,
				input.DispatchMouseEvent(input.MousePressed, x, y).WithButton(input.Left).WithClickCount(1),
				input.DispatchMouseEvent(input.MouseMoved, x+40, y+20).WithButton(input.Left),
				input.DispatchMouseEvent(input.MouseMoved, x+80, y+40).WithButton(input.Left),
				input.DispatchMouseEvent(input.MouseReleased, x+80, y+40).WithButton(input.Left).WithClickCount(1),
			); err != nil {
				t.Fatal(err)
			}
			dragged := transform(ctx)
			if dragged == before || !strings.Contains(dragged, "scale(1)") {
				t.Errorf("a drag: %q, then %q", before, dragged)
			}
			// The wheel zooms.
			if err := chromedp.Run(ctx, input.DispatchMouseEvent(input.MouseWheel, x, y).WithDeltaX(0).WithDeltaY(-200)); err != nil {
				t.Fatal(err)
			}
			if wheel := transform(ctx); wheel == dragged || strings.Contains(wheel, "scale(1)") {
				t.Errorf("the wheel: %q, then %q", dragged, wheel)
			}
			// Adatta shows the whole drawing again.
			if err := chromedp.Run(ctx, chromedp.Click(`#adatta`, chromedp.ByID)); err != nil {
				t.Fatal(err)
			}
			if got := transform(ctx); got != "translate(0 0) scale(1)" {
				t.Errorf("Adatta: %q", got)
			}
			// Two fingers moving apart zoom in, as on a tablet.
			if err := chromedp.Run(ctx,
				emulation.SetTouchEmulationEnabled(true).WithMaxTouchPoints(2),
				input.DispatchTouchEvent(input.TouchStart, []*input.TouchPoint{{X: x - 20, Y: y, ID: 1}, {X: x + 20, Y: y, ID: 2}}),
				input.DispatchTouchEvent(input.TouchMove, []*input.TouchPoint{{X: x - 40, Y: y, ID: 1}, {X: x + 40, Y: y, ID: 2}}),
				input.DispatchTouchEvent(input.TouchMove, []*input.TouchPoint{{X: x - 80, Y: y, ID: 1}, {X: x + 80, Y: y, ID: 2}}),
				input.DispatchTouchEvent(input.TouchEnd, []*input.TouchPoint{}),
			); err != nil {
				t.Fatal(err)
			}
			pinched := transform(ctx)
			if pinched == "translate(0 0) scale(1)" {
				t.Errorf("a pinch did not zoom: %q", pinched)
			}
			// The keyboard, on the focused view: 0 fits, + zooms.
			if err := chromedp.Run(ctx, chromedp.Focus(`#vista-disegno`, chromedp.ByID), chromedp.KeyEvent("0"), chromedp.KeyEvent("+")); err != nil {
				t.Fatal(err)
			}
			if got := transform(ctx); !strings.Contains(got, "scale(1.5)") {
				t.Errorf("the keys 0 and +: %q", got)
			}

			// A layer switched off disappears; the one off in the drawing
			// starts unticked.
			var shown, quota bool
			var hidden string
			if err := chromedp.Run(ctx,
				chromedp.Click(`#livelli summary`, chromedp.ByQuery),
				chromedp.Evaluate(`document.querySelector('input.livello[value="QUOTE"]').checked`, &quota),
				chromedp.Click(`input.livello[value="ARREDI"]`, chromedp.ByQuery),
				chromedp.Evaluate(`document.querySelector('g[data-layer="ARREDI"]').getAttribute("display") || ""`, &hidden),
				chromedp.Click(`input.livello[value="ARREDI"]`, chromedp.ByQuery),
				chromedp.Evaluate(`document.querySelector('g[data-layer="ARREDI"]').getAttribute("display") === null`, &shown),
			); err != nil {
				t.Fatalf("the layers: %v", err)
			}
			if quota || hidden != "none" || !shown {
				t.Errorf("layers: QUOTE ticked %v; ARREDI off %q, on again %v", quota, hidden, shown)
			}
			screenshot(t, ctx, "disegno-livelli-"+size.name)

			// The SVG by itself, in a tab of its own, under its own policy.
			var root string
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/disegno"+d+"/tavola-01-pianta.dxf"),
				chromedp.Evaluate(`document.documentElement.localName + " " + document.querySelectorAll("path").length`, &root),
			); err != nil {
				t.Fatalf("the SVG by itself: %v", err)
			}
			if !strings.HasPrefix(root, "svg ") || root == "svg 0" {
				t.Errorf("the SVG by itself: %q", root)
			}
			screenshot(t, ctx, "disegno-svg-"+size.name)

			// The drawing GDAL made.
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/scheda"+d+"/tavola-gdal.dxf"),
				chromedp.WaitVisible(`#vista-disegno svg text`, chromedp.ByQuery),
			); err != nil {
				t.Fatalf("GDAL's drawing: %v", err)
			}
			screenshot(t, ctx, "disegno-gdal-"+size.name)

			// Too complex: said in the page, which works.
			var why string
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/scheda"+d+"/tavola-complessa.dxf"),
				chromedp.WaitVisible(`#stato-disegno.alert`, chromedp.ByQuery),
				chromedp.Text(`#stato-disegno`, &why, chromedp.ByID),
				chromedp.WaitVisible(`#scarica`, chromedp.ByID),
			); err != nil {
				t.Fatalf("the drawing too complex: %v", err)
			}
			if why != "Il disegno è troppo complesso per l'anteprima: aprilo con il programma CAD." {
				t.Errorf("too complex: %q", why)
			}
			screenshot(t, ctx, "disegno-complesso-"+size.name)

			// A DWG: its release, and the drive's paths in view.
			var dwgVersion, drive string
			var boxShown bool
			if err := chromedp.Run(ctx,
				chromedp.Navigate(g.URL+"/_/scheda"+d+"/tavola-02.dwg"),
				chromedp.WaitVisible(`#apri-cad`, chromedp.ByID),
				chromedp.Text(`#versione-cad`, &dwgVersion, chromedp.ByID),
				chromedp.Text(`#percorso-unita`, &drive, chromedp.ByID),
				chromedp.ScrollIntoView(`#apri-cad`, chromedp.ByID),
				chromedp.Evaluate(`document.getElementById("apri-cad").checkVisibility()`, &boxShown),
			); err != nil {
				t.Fatalf("the DWG's page: %v", err)
			}
			if dwgVersion != "AutoCAD 2018 o successivo (AC1032)" || drive != `Z:\guastalla\2019\PC-2019-0042\tavola-02.dwg` || !boxShown {
				t.Errorf("the DWG's page: %q, %q, box shown %v", dwgVersion, drive, boxShown)
			}
			// The path copied for the CAD program's Open dialog.
			var copied string
			if err := chromedp.Run(ctx,
				chromedp.Click(`button[data-copia="percorso-unc"]`, chromedp.ByQuery),
				chromedp.Poll(`document.getElementById("copia-esito").textContent`, &copied, chromedp.WithPollingTimeout(5*time.Second)),
			); err != nil {
				t.Fatalf("copy the path: %v", err)
			}
			if copied != "Percorso copiato" && copied != "Seleziona il percorso e copialo" {
				t.Errorf("copy the path: %q", copied)
			}
			screenshot(t, ctx, "disegno-dwg-"+size.name)
		})
	}
}
