package integration

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// svgElements reads an SVG as XML and counts its elements by name, with
// the layers of its groups and its text.
func svgElements(t *testing.T, b []byte) (map[string]int, map[string]bool, string) {
	t.Helper()
	count, layers := map[string]int{}, map[string]bool{}
	var text strings.Builder
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return count, layers, text.String()
		}
		if err != nil {
			t.Fatalf("the SVG is not XML: %v\n%.2000s", err, b)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			count[v.Name.Local]++
			for _, a := range v.Attr {
				if a.Name.Local == "data-layer" {
					layers[a.Value] = true
				}
				if strings.HasPrefix(a.Name.Local, "on") || a.Name.Local == "href" {
					t.Errorf("attribute %s=%q in the SVG", a.Name.Local, a.Value)
				}
			}
			if v.Name.Local == "script" || v.Name.Local == "foreignObject" {
				t.Errorf("element %s in the SVG", v.Name.Local)
			}
		case xml.CharData:
			text.WriteString(strings.ReplaceAll(string(v), "\u00a0", " "))
			text.WriteByte(' ')
		}
	}
}

// TestDrawingPages: a DXF drawing's page previews it from /_/disegno, an
// SVG served with its own policy, kept while the file is unchanged; a
// drawing made by GDAL and one with nested blocks are drawn with their
// lines, text and layers (and read alike by GDAL's own reader); a drawing
// too complex, a binary DXF and a file that is no drawing say why they
// have no preview while the page works; a DWG's page names its AutoCAD
// release; each says where the drive shows the file; a person without
// access to the file gets no drawing of it.
func TestDrawingPages(t *testing.T) {
	g := harness.StartServe(t, "access:\n  admins: [operatore]\n")
	g.AddUser("estraneo", "estraneo-Pw-42")
	const d = "/guastalla/2019/PC-2019-0042"
	for _, p := range []string{"/guastalla/2019", d} {
		mustStatus(t, g, "MKCOL", p, nil, "", http.StatusCreated)
	}
	plan, gdal := harness.PlanDXF(), harness.GDALDXF(t)
	// GDAL's reader reads the fixture written here as this reader does:
	// its text, its layers, its blocks expanded.
	info := harness.OGRInfo(t, plan)
	for _, want := range []string{"Layer (String) = TESTI", "Soggiorno", "Layer (String) = INFISSI", "Layer (String) = ARREDI", `PEN(c:#ff00ff,p:"31.25g 6.25g 6.25g 6.25g")`} {
		if !strings.Contains(info, want) {
			t.Errorf("ogrinfo of the fixture: no %q in\n%.3000s", want, info)
		}
	}
	files := map[string][]byte{
		"tavola-01-pianta.dxf": plan,
		"tavola-gdal.dxf":      gdal,
		"tavola-complessa.dxf": harness.ComplexDXF(),
		"tavola-binaria.dxf":   []byte("AutoCAD Binary DXF\r\n\x1a\x00\x00\x00\x00"),
		"non-disegno.dxf":      []byte("prospetto nord\n"),
		// The version line reads the first six bytes only.
		"tavola-02.dwg": harness.DWG2018(),
	}
	for name, content := range files {
		mustStatus(t, g, "PUT", d+"/"+name, nil, string(content), http.StatusCreated)
	}
	b := harness.NewBrowser(t, g)
	b.SignIn(g.User, g.Pass)

	get := b.Fetch
	script := map[string]string{"X-Requested-With": "XMLHttpRequest", "Sec-Fetch-Mode": "cors"}

	t.Run("plan", func(t *testing.T) {
		resp, body := get("/_/disegno"+d+"/tavola-01-pianta.dxf", script)
		hd := resp.Header
		if resp.StatusCode != 200 || hd.Get("Content-Type") != "image/svg+xml" || hd.Get("Content-Security-Policy") != "default-src 'none'; style-src 'unsafe-inline'" ||
			hd.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(hd.Get("Cache-Control"), "private") || hd.Get("ETag") == "" {
			t.Fatalf("the plan's SVG: %d %v\n%.500s", resp.StatusCode, hd, body)
		}
		count, layers, text := svgElements(t, body)
		for _, l := range []string{"MURI", "INFISSI", "ARREDI", "TESTI", "QUOTE", "ASSI"} {
			if !layers[l] {
				t.Errorf("no layer %s: %v", l, layers)
			}
		}
		for _, want := range []string{"Soggiorno 32 m±", "Cucina", "H = 2,70 m", "Studio <A&B>"} {
			if !strings.Contains(text, want) {
				t.Errorf("no text %q in %q", want, text)
			}
		}
		// Walls and door, chairs (1 + 2 in the table, 8 in the grid), the
		// table and a circle, an arc: paths and circles.
		if count["path"] < 15 || count["circle"] < 2 || count["text"] != 3 {
			t.Errorf("elements %v", count)
		}
		if !bytes.Contains(body, []byte(`<g data-layer="ASSI" color="#ff00ff" stroke-dasharray="15.0 3.0 3.0 3.0">`)) {
			t.Errorf("no axis in its line type in\n%.3000s", body)
		}
		if !bytes.Contains(body, []byte(`<path d="M600 0L600 -800"/>`)) {
			t.Errorf("no wall line at x 600 in\n%.3000s", body)
		}
		if !regexp.MustCompile(`data-layer="QUOTE" color="#[0-9a-f]{6}" display="none"`).Match(body) {
			t.Errorf("the layer switched off is shown")
		}
		// Unchanged: not sent again.
		resp, _ = get("/_/disegno"+d+"/tavola-01-pianta.dxf", map[string]string{"If-None-Match": hd.Get("ETag")})
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match of its ETag: %d", resp.StatusCode)
		}
		// Compressed for a browser that accepts gzip.
		req, _ := http.NewRequest("GET", g.URL+"/_/disegno"+d+"/tavola-01-pianta.dxf", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		gz, err := b.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(gz.Body)
		if err != nil || gz.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("gzip: %v %v", err, gz.Header)
		}
		unzipped, _ := io.ReadAll(zr)
		gz.Body.Close()
		if !bytes.Equal(unzipped, body) {
			t.Errorf("the gzipped SVG differs")
		}

		code, page := b.Get("/_/scheda" + d + "/tavola-01-pianta.dxf")
		host := strings.TrimPrefix(g.URL, "http://")
		h, port, _ := strings.Cut(host, ":")
		for _, want := range []string{
			`id="versione-cad">AutoCAD 2013-2017 (AC1027)<`,
			`id="unita-cad">centimetri<`,
			`data-src="/_/disegno/guastalla/2019/PC-2019-0042/tavola-01-pianta.dxf"`,
			`id="ingrandisci" aria-label="Ingrandisci il disegno"`,
			`id="apri-cad"`, `Apri con il programma CAD`,
			`id="percorso-unita">Z:\guastalla\2019\PC-2019-0042\tavola-01-pianta.dxf<`,
			`id="percorso-unc">\\` + h + `@` + port + `\DavWWWRoot\guastalla\2019\PC-2019-0042\tavola-01-pianta.dxf<`,
			`id="percorso-cartella">/guastalla/2019/PC-2019-0042/tavola-01-pianta.dxf<`,
			`disegno.js`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the plan's page: %d, no %s", code, want)
			}
		}
	})

	t.Run("made by GDAL", func(t *testing.T) {
		resp, body := get("/_/disegno"+d+"/tavola-gdal.dxf", script)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		count, layers, text := svgElements(t, body)
		if !layers["MURI"] || !layers["LOCALI"] || !layers["TESTI"] || !layers["INFISSI"] || !strings.Contains(text, "Camera <1> & bagno") {
			t.Errorf("layers %v, text %q", layers, text)
		}
		// Walls, the room's hatch, the door block turned by 90°: from
		// (6,4) up, its line 0.9 long.
		if count["path"] < 4 || !bytes.Contains(body, []byte(`<path d="M6 -4L6 -4.9L5.1 -4.9"/>`)) {
			t.Errorf("elements %v\n%s", count, body)
		}
		if _, page := b.Get("/_/scheda" + d + "/tavola-gdal.dxf"); !strings.Contains(page, `id="versione-cad">AutoCAD 2004-2006 (AC1018)<`) {
			t.Errorf("GDAL's drawing's version not shown")
		}
	})

	t.Run("no preview", func(t *testing.T) {
		for _, c := range []struct{ name, page, svg string }{
			{"tavola-complessa.dxf", "troppo complesso", "troppo complesso per l'anteprima: aprilo con il programma CAD"},
			{"tavola-binaria.dxf", "DXF binario", "DXF binario"},
			{"non-disegno.dxf", "non è un disegno DXF leggibile", "non è un disegno DXF leggibile"},
		} {
			resp, body := get("/_/disegno"+d+"/"+c.name, script)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || !strings.Contains(string(body), c.svg) {
				t.Errorf("%s: %d %s %q", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			// Opened in a tab: a page that says so.
			if code, page := b.Get("/_/disegno" + d + "/" + c.name); code != http.StatusUnprocessableEntity || !strings.Contains(page, c.page) || !strings.Contains(page, "Torna alla cartella PC-2019-0042") {
				t.Errorf("%s in a tab: %d\n%.2000s", c.name, code, page)
			}
			code, page := b.Get("/_/scheda" + d + "/" + c.name)
			if code != 200 || !strings.Contains(page, `id="apri-cad"`) || !strings.Contains(page, `id="scarica"`) || (c.name != "tavola-complessa.dxf" && !strings.Contains(page, c.page)) {
				t.Errorf("%s's page: %d\n%.3000s", c.name, code, page)
			}
		}
		if !strings.Contains(g.Log(), `msg="drawing: no preview" path=/guastalla/2019/PC-2019-0042/tavola-complessa.dxf`) {
			t.Errorf("no log line of the drawing too complex")
		}
	})

	t.Run("dwg", func(t *testing.T) {
		code, page := b.Get("/_/scheda" + d + "/tavola-02.dwg")
		if code != 200 || !strings.Contains(page, `id="versione-cad">AutoCAD 2018 o successivo (AC1032)<`) || !strings.Contains(page, `id="apri-cad"`) ||
			!strings.Contains(page, `Z:\guastalla\2019\PC-2019-0042\tavola-02.dwg`) || strings.Contains(page, "data-src=") {
			t.Errorf("the DWG's page: %d\n%.3000s", code, page)
		}
		if resp, _ := get("/_/disegno"+d+"/tavola-02.dwg", script); resp.StatusCode != http.StatusNotFound {
			t.Errorf("a DWG's SVG: %d", resp.StatusCode)
		}
	})

	t.Run("access", func(t *testing.T) {
		other := harness.NewBrowser(t, g)
		other.SignIn("estraneo", "estraneo-Pw-42")
		if code, page := other.Get("/_/disegno" + d + "/tavola-01-pianta.dxf"); code != http.StatusNotFound || strings.Contains(page, "Soggiorno") {
			t.Errorf("a person without access: %d\n%.500s", code, page)
		}
		resp, err := http.Get(g.URL + "/_/disegno" + d + "/tavola-01-pianta.dxf")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), "Soggiorno") || resp.Request.URL.Path != "/_/accedi" {
			t.Errorf("without a session: %d at %s", resp.StatusCode, resp.Request.URL)
		}
	})
}

// TestDemoDrawing: the demo's sample drawing, a DXF without a header,
// previews.
func TestDemoDrawing(t *testing.T) {
	g := harness.StartDemo(t, "")
	b := harness.NewBrowser(t, g)
	b.SignIn(g.User, g.Pass)
	const p = "/guastalla/2019/PC-2019-0042/tavola-01-pianta.dxf"
	code, page := b.Get("/_/scheda" + p)
	if code != 200 || !strings.Contains(page, `data-src="/_/disegno`+p+`"`) || !strings.Contains(page, `id="versione-cad">non indicata nel file (DXF R12 o precedente)<`) {
		t.Fatalf("the demo drawing's page: %d\n%.3000s", code, page)
	}
	code, svg := b.Get("/_/disegno" + p)
	if code != 200 {
		t.Fatalf("the demo drawing's SVG: %d %s", code, svg)
	}
	count, layers, text := svgElements(t, []byte(svg))
	if count["path"] != 4 || !layers["MURI"] || !layers["TESTI"] || !strings.Contains(text, "Pianta piano terra") {
		t.Errorf("the demo drawing: %v %v %q", count, layers, text)
	}
}

// TestDrawingLimits: pages.drawing_preview_max and _entities bound the
// previews.
func TestDrawingLimits(t *testing.T) {
	g := harness.StartServe(t, "pages:\n  drawing_preview_max: 3KiB\n  drawing_preview_entities: 20\n")
	const d = "/guastalla/2019"
	mustStatus(t, g, "MKCOL", d, nil, "", http.StatusCreated)
	mustStatus(t, g, "PUT", d+"/grande.dxf", nil, string(harness.PlanDXF())+strings.Repeat("999\ncommento\n", 200), http.StatusCreated)
	mustStatus(t, g, "PUT", d+"/pianta.dxf", nil, string(harness.PlanDXF()), http.StatusCreated)
	b := harness.NewBrowser(t, g)
	b.SignIn(g.User, g.Pass)
	if code, page := b.Get("/_/scheda" + d + "/grande.dxf"); code != 200 || !strings.Contains(page, "troppo grande per l") || strings.Contains(page, "data-src=") {
		t.Errorf("a drawing beyond drawing_preview_max: %d\n%.3000s", code, page)
	}
	if code, body := b.Get("/_/disegno" + d + "/pianta.dxf"); code != http.StatusUnprocessableEntity || !strings.Contains(body, "troppo complesso") {
		t.Errorf("a drawing beyond drawing_preview_entities: %d\n%.1000s", code, body)
	}
}

// TestDrawingsOfEzdxf: drawings that ezdxf writes as AutoCAD does, R2018
// and R12, with their hatches, attributes, dimensions, splines and layers
// off and frozen, are drawn whole.
func TestDrawingsOfEzdxf(t *testing.T) {
	g := harness.StartServe(t, "")
	const d = "/guastalla/2019"
	mustStatus(t, g, "MKCOL", d, nil, "", http.StatusCreated)
	b := harness.NewBrowser(t, g)
	b.SignIn(g.User, g.Pass)
	for _, c := range []struct {
		version, acadver string
		want             []string
	}{
		{"R2018", "AutoCAD 2018 o successivo (AC1032)", []string{
			`fill-rule="evenodd" stroke="none"/>`,                   // the solid hatch
			`fill-rule="evenodd" stroke="none" fill-opacity="0.25"`, // the pattern's region
			`A500 500 0.000 0 0 4500 -1500`,                         // its boundary's arc
			`color="#c86432"`,                                       // the true colour
			`>Cucina</tspan>`, `>H = 2,70 m</tspan>`,
			`data-layer="Defpoints"`, // the dimension's block
		}},
		{"R12", "AutoCAD R11/R12 (AC1009)", nil},
	} {
		t.Run(c.version, func(t *testing.T) {
			name := "ezdxf-" + c.version + ".dxf"
			mustStatus(t, g, "PUT", d+"/"+name, nil, string(harness.EzdxfDXF(t, c.version)), http.StatusCreated)
			code, page := b.Get("/_/scheda" + d + "/" + name)
			if code != 200 || !strings.Contains(page, `id="versione-cad">`+c.acadver+`<`) {
				t.Errorf("the page: %d, no version %s", code, c.acadver)
			}
			code, svg := b.Get("/_/disegno" + d + "/" + name)
			if code != 200 {
				t.Fatalf("SVG: %d %s", code, svg)
			}
			count, layers, text := svgElements(t, []byte(svg))
			for _, want := range []string{"Soggiorno 32 m²", "Centrato Ø 10", "P1", "P2", "P3"} {
				if !strings.Contains(text, want) {
					t.Errorf("no text %q in %q", want, text)
				}
			}
			if strings.Contains(text, "Cartiglio") || strings.Contains(text, "NUM") {
				t.Errorf("paper space, or an attribute's definition, drawn: %q", text)
			}
			for _, l := range []string{"MURI", "ARREDI", "TESTI", "SPENTO", "CONGELATO"} {
				if !layers[l] {
					t.Errorf("no layer %s in %v", l, layers)
				}
			}
			for _, want := range append(c.want, `data-layer="SPENTO" color="#a4a400" display="none"`, `data-layer="CONGELATO" color="#00c2c2" display="none"`) {
				if !strings.Contains(svg, want) {
					t.Errorf("no %s in\n%s", want, svg)
				}
			}
			// Walls, 3 doors (line and arc), 8 chairs, arcs.
			if count["path"] < 18 || count["circle"] != 1 {
				t.Errorf("elements %v", count)
			}
		})
	}
}

// TestDrawingMillionEntities: a DXF file of a million lines, uploaded,
// ends in the page's message, read no further than its limit's worth; one
// of 190,000 lines, just below the limit, is drawn whole; each twice at
// once, as people might; the gateway stays in its memory budget
// (DESIGN.md §7).
func TestDrawingMillionEntities(t *testing.T) {
	g := harness.StartServe(t, "")
	const d = "/guastalla/2019"
	mustStatus(t, g, "MKCOL", d, nil, "", http.StatusCreated)
	lines := func(n int) []byte {
		var src bytes.Buffer
		src.WriteString("  0\nSECTION\n  2\nENTITIES\n")
		for i := range n {
			fmt.Fprintf(&src, "0\nLINE\n8\nL%d\n10\n%d\n20\n%d\n11\n%d\n21\n%d\n", i%20, i%1000, i/1000, i%1000+1, i/1000+1)
		}
		src.WriteString("0\nENDSEC\n0\nEOF\n")
		return src.Bytes()
	}
	for name, n := range map[string]int{"milione.dxf": 1_000_000, "quasi.dxf": 190_000} {
		resp := g.Do("PUT", d+"/"+name, nil, bytes.NewReader(lines(n)))
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT %s: %d", name, resp.StatusCode)
		}
	}
	base := g.PeakRSS()
	b := harness.NewBrowser(t, g)
	b.SignIn(g.User, g.Pass)
	type answer struct {
		status  int
		size    int
		head    string
		elapsed time.Duration
	}
	get := func(name string, done chan<- answer) {
		start := time.Now()
		req, _ := http.NewRequest("GET", g.URL+"/_/disegno"+d+"/"+name, nil)
		req.Header.Set("X-Requested-With", "XMLHttpRequest")
		resp, err := b.Client().Do(req)
		if err != nil {
			done <- answer{head: err.Error()}
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- answer{resp.StatusCode, len(body), string(body[:min(len(body), 200)]), time.Since(start)}
	}
	done := make(chan answer, 4)
	for _, name := range []string{"milione.dxf", "milione.dxf", "quasi.dxf", "quasi.dxf"} {
		go get(name, done)
	}
	for range 4 {
		a := <-done
		switch a.status {
		case http.StatusUnprocessableEntity:
			if a.head != "Il disegno è troppo complesso per l'anteprima: aprilo con il programma CAD." {
				t.Errorf("a million lines: %q", a.head)
			}
		case http.StatusOK:
			if a.size < 190_000*20 || !strings.Contains(a.head, "<svg") {
				t.Errorf("190,000 lines: %d bytes %q", a.size, a.head)
			}
		default:
			t.Errorf("%d %q", a.status, a.head)
		}
		t.Logf("%d, %d bytes in %v", a.status, a.size, a.elapsed.Round(time.Millisecond))
	}
	peak := g.PeakRSS()
	t.Logf("peak RSS %d MiB before, %d MiB after the previews", base>>20, peak>>20)
	if peak > memoryBudget {
		t.Errorf("peak RSS %d MiB, above the budget of %d MiB", peak>>20, memoryBudget>>20)
	}
}

// TestDrawingOnS3: on S3 the page reads a drawing's start with a ranged
// GET, and the preview the whole drawing once, then answers from its ETag
// without reading it.
func TestDrawingOnS3(t *testing.T) {
	g, _, counter := s3Gateway(t)
	const d = "/guastalla/2019"
	mustStatus(t, g, "MKCOL", d, nil, "", http.StatusCreated)
	mustStatus(t, g, "PUT", d+"/pianta.dxf", nil, string(harness.PlanDXF()), http.StatusCreated)
	mustStatus(t, g, "PUT", d+"/tavola.dwg", nil, string(harness.DWG2018()), http.StatusCreated)
	b := harness.NewBrowser(t, g)
	b.SignIn(g.User, g.Pass)
	if code, page := b.Get("/_/scheda" + d + "/tavola.dwg"); code != 200 || !strings.Contains(page, "AutoCAD 2018 o successivo (AC1032)") {
		t.Errorf("the DWG's page on S3: %d", code)
	}
	if code, page := b.Get("/_/scheda" + d + "/pianta.dxf"); code != 200 || !strings.Contains(page, "AutoCAD 2013-2017 (AC1027)") {
		t.Errorf("the DXF's page on S3: %d", code)
	}
	counter.Reset()
	resp, err := b.Client().Get(g.URL + "/_/disegno" + d + "/pianta.dxf")
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(svg, []byte("Soggiorno")) {
		t.Fatalf("the preview on S3: %d", resp.StatusCode)
	}
	if n := counter.Counts()["GetObject"]; n != 1 {
		t.Errorf("the preview read the drawing %d times: %v", n, counter.Counts())
	}
	counter.Reset()
	req, _ := http.NewRequest("GET", g.URL+"/_/disegno"+d+"/pianta.dxf", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	again, err := b.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	again.Body.Close()
	if again.StatusCode != http.StatusNotModified || counter.Counts()["GetObject"] != 0 {
		t.Errorf("again, unchanged: %d, %v", again.StatusCode, counter.Counts())
	}
}
