package dxf

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// dxf writes group code / value pairs as a file does, codes right-aligned
// in three columns as AutoCAD writes them.
func dxf(pairs ...any) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(&b, "%3d\n%v\n", pairs[i], pairs[i+1])
	}
	return b.String()
}

func section(name string, body string) string {
	return dxf(0, "SECTION", 2, name) + body + dxf(0, "ENDSEC")
}

func file(sections ...string) string { return strings.Join(sections, "") + dxf(0, "EOF") }

func parse(t *testing.T, s string) *Drawing {
	t.Helper()
	d, err := Parse(context.Background(), strings.NewReader(s), Limits{})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return d
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestParseEntities(t *testing.T) {
	for _, c := range []struct {
		name  string
		body  string
		check func(t *testing.T, e Entity)
	}{
		{"line", dxf(0, "LINE", 8, "MURI", 10, 1, 20, 2, 30, 0, 11, 3, 21, 4, 31, 0), func(t *testing.T, e Entity) {
			if e.Kind != Line || e.Layer != "MURI" || e.P[0] != (Point{1, 2}) || e.P[1] != (Point{3, 4}) || e.Color != 256 {
				t.Errorf("%+v", e)
			}
		}},
		{"lwpolyline with bulge, closed", dxf(0, "LWPOLYLINE", 8, "A", 62, 3, 90, 3, 70, 1, 10, 0, 20, 0, 42, 1, 10, 2, 20, 0, 10, 2, 20, 2), func(t *testing.T, e Entity) {
			if e.Kind != Polyline || !e.Closed || len(e.P) != 3 || e.P[2] != (Point{2, 2}) || len(e.Bulge) != 3 || e.Bulge[0] != 1 || e.Bulge[1] != 0 || e.Color != 3 {
				t.Errorf("%+v", e)
			}
		}},
		{"polyline with vertices", dxf(0, "POLYLINE", 8, "B", 66, 1, 70, 0, 0, "VERTEX", 10, 1, 20, 1, 0, "VERTEX", 10, 5, 20, 1, 42, -0.5, 0, "VERTEX", 10, 5, 20, 5, 0, "SEQEND"), func(t *testing.T, e Entity) {
			if e.Kind != Polyline || e.Closed || len(e.P) != 3 || e.P[1] != (Point{5, 1}) || e.Bulge[1] != -0.5 {
				t.Errorf("%+v", e)
			}
		}},
		{"arc in degrees", dxf(0, "ARC", 10, 1, 20, 1, 40, 2, 50, 90, 51, 180), func(t *testing.T, e Entity) {
			if e.Kind != Arc || e.R != 2 || !near(e.A0, math.Pi/2) || !near(e.A1, math.Pi) {
				t.Errorf("%+v", e)
			}
		}},
		{"mirrored circle", dxf(0, "CIRCLE", 10, 1, 20, 1, 40, 2, 210, 0, 220, 0, 230, -1), func(t *testing.T, e Entity) {
			if e.Kind != Circle || !e.Mirror {
				t.Errorf("%+v", e)
			}
		}},
		{"ellipse", dxf(0, "ELLIPSE", 10, 0, 20, 0, 11, 4, 21, 0, 40, 0.5, 41, 0, 42, math.Pi), func(t *testing.T, e Entity) {
			if e.Kind != Ellipse || e.Axis != (Point{4, 0}) || e.Ratio != 0.5 || !near(e.A1, math.Pi) {
				t.Errorf("%+v", e)
			}
		}},
		{"text centred on its second point", dxf(0, "TEXT", 8, "T", 10, 0, 20, 0, 11, 5, 21, 5, 40, 2.5, 1, "Soggiorno %%c 12", 50, 30, 72, 1), func(t *testing.T, e Entity) {
			if e.Kind != Text || e.Text != "Soggiorno Ø 12" || e.P[0] != (Point{5, 5}) || e.H != 1 || e.Rot != 30 || e.R != 2.5 {
				t.Errorf("%+v", e)
			}
		}},
		{"mtext without its formatting", dxf(0, "MTEXT", 10, 1, 20, 2, 40, 1, 71, 5, 3, `{\fArial|b1|i0;Cucina}\PH = 2,70 m \S1/2; `, 1, `{\C1;rosso}\~fine`), func(t *testing.T, e Entity) {
			if e.Kind != Text || !e.MText || e.Text != "Cucina\nH = 2,70 m 1/2 rosso\u00a0fine" || e.H != 5 {
				t.Errorf("%+v", e)
			}
		}},
		{"mtext wrapped at its width", dxf(0, "MTEXT", 10, 0, 20, 0, 40, 1, 41, 10, 1, `Nota: le quote sono in centimetri\Pe vanno verificate`), func(t *testing.T, e Entity) {
			if e.Text != "Nota: le\nquote sono\nin\ncentimetri\ne vanno\nverificate" { // 11 characters a line
				t.Errorf("%q", e.Text)
			}
		}},
		{"insert grid", dxf(0, "INSERT", 2, "PORTA", 10, 3, 20, 4, 41, 2, 42, 3, 50, 90, 70, 2, 71, 3, 44, 10, 45, 20), func(t *testing.T, e Entity) {
			if e.Kind != Insert || e.Block != "PORTA" || e.Scale != (Point{2, 3}) || e.Rot != 90 || e.Cols != 2 || e.Rows != 3 || e.ColSp != 10 || e.RowSp != 20 {
				t.Errorf("%+v", e)
			}
		}},
		{"leader", dxf(0, "LEADER", 8, "QUOTE", 71, 1, 76, 3, 10, 0, 20, 0, 10, 5, 20, 5, 10, 9, 20, 5), func(t *testing.T, e Entity) {
			if e.Kind != Polyline || len(e.P) != 3 || e.P[2] != (Point{9, 5}) {
				t.Errorf("%+v", e)
			}
		}},
		{"table", dxf(0, "ACAD_TABLE", 2, "*T1", 10, 5, 20, 6, 11, 1, 21, 0, 41, 7, 90, 3, 91, 4), func(t *testing.T, e Entity) {
			if e.Kind != Insert || e.Block != "*T1" || e.P[0] != (Point{5, 6}) || e.Scale != (Point{1, 1}) || e.Cols != 1 {
				t.Errorf("%+v %+v", e, e.Detail)
			}
		}},
		{"true colour", dxf(0, "LINE", 62, 1, 420, 0x336699, 10, 0, 20, 0, 11, 1, 21, 1), func(t *testing.T, e Entity) {
			if e.RGB != 0x336699 {
				t.Errorf("%+v", e)
			}
		}},
		{"solid's corners in drawing order", dxf(0, "SOLID", 10, 0, 20, 0, 11, 1, 21, 0, 12, 0, 22, 1, 13, 1, 23, 1), func(t *testing.T, e Entity) {
			if e.Kind != Solid || e.P[2] != (Point{1, 1}) || e.P[3] != (Point{0, 1}) {
				t.Errorf("%+v", e)
			}
		}},
		{"hatch from polyline and edges", dxf(0, "HATCH", 8, "H", 10, 0, 20, 0, 2, "SOLID", 70, 1, 91, 2,
			92, 2, 72, 0, 73, 1, 93, 3, 10, 0, 20, 0, 10, 4, 20, 0, 10, 4, 20, 4, 97, 0,
			92, 1, 93, 2, 72, 1, 10, 1, 20, 1, 11, 3, 21, 1, 72, 2, 10, 2, 20, 1, 40, 1, 50, 0, 51, 180, 73, 1, 97, 0,
			75, 0, 76, 1, 98, 1, 10, 99, 20, 99), func(t *testing.T, e Entity) {
			if e.Kind != Hatch || !e.Closed || len(e.Sub) != 2 || e.Sub[1] != 3 || e.P[4] != (Point{3, 1}) || !near(e.Bulge[4], 1) {
				t.Errorf("%+v", e)
			}
			for _, q := range e.P {
				if q.X == 99 {
					t.Errorf("a seed point taken for a vertex: %+v", e)
				}
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := parse(t, file(section("ENTITIES", c.body)))
			if d.Model.Len() != 1 {
				t.Fatalf("%d entities: %+v", d.Model.Len(), d.Model)
			}
			c.check(t, *d.Model.At(0))
		})
	}
}

func TestParseAttributes(t *testing.T) {
	d := parse(t, file(section("ENTITIES", dxf(0, "INSERT", 8, "MURI", 66, 1, 2, "PORTA", 10, 5, 20, 6, 41, 2, 42, 2,
		0, "ATTRIB", 8, "TESTI", 10, 5, 20, 7, 40, 1, 1, "P1", 2, "NUM", 70, 0,
		0, "ATTRIB", 8, "TESTI", 10, 5, 20, 7, 40, 1, 1, "nascosto", 2, "X", 70, 1,
		0, "SEQEND",
		0, "LINE", 10, 0, 20, 0, 11, 1, 21, 1))))
	if d.Model.Len() != 3 {
		t.Fatalf("%d entities", d.Model.Len())
	}
	ins, attr := d.Model.At(0), d.Model.At(1)
	if ins.Kind != Insert || ins.Block != "PORTA" || ins.Scale != (Point{2, 2}) || ins.P[0] != (Point{5, 6}) {
		t.Errorf("insert %+v %+v", ins, ins.Detail)
	}
	if attr.Kind != Text || attr.Text != "P1" || attr.Layer != "TESTI" || attr.P[0] != (Point{5, 7}) || d.Model.At(2).Kind != Line {
		t.Errorf("attribute %+v", attr)
	}
}

func TestParseSkips(t *testing.T) {
	d := parse(t, file(section("ENTITIES",
		dxf(0, "VIEWPORT", 10, 1, 20, 1)+
			dxf(0, "LINE", 67, 1, 10, 0, 20, 0, 11, 1, 21, 1)+ // paper space
			dxf(0, "LINE", 60, 1, 10, 0, 20, 0, 11, 1, 21, 1)+ // invisible
			dxf(0, "POLYLINE", 70, 64, 0, "VERTEX", 10, 1, 20, 1, 0, "SEQEND")+ // a polyface mesh
			dxf(0, "TEXT", 10, 0, 20, 0, 40, 1, 1, "")+ // empty
			dxf(0, "LINE", 10, 0, 20, 0, 11, 2, 21, 2))))
	if d.Model.Len() != 2 || d.Paper.Len() != 1 || d.Model.At(1).P[1] != (Point{2, 2}) {
		t.Errorf("model %+v, paper %+v", d.Model, d.Paper)
	}
}

func TestParseHeaderTablesBlocks(t *testing.T) {
	src := file(
		section("HEADER", dxf(9, "$ACADVER", 1, "AC1015", 9, "$INSUNITS", 70, 4, 9, "$EXTMIN", 10, -1, 20, -2, 30, 0, 9, "$EXTMAX", 10, 11, 20, 12, 30, 0)),
		section("CLASSES", dxf(0, "CLASS", 1, "X")),
		section("TABLES", dxf(0, "TABLE", 2, "LTYPE", 0, "LTYPE", 2, "CONTINUOUS", 0, "ENDTAB", 0, "TABLE", 2, "LAYER",
			0, "LAYER", 2, "0", 62, 7, 70, 0, 0, "LAYER", 2, "MURI", 62, 5, 70, 0, 0, "LAYER", 2, "NASCOSTO", 62, -1, 70, 0,
			0, "LAYER", 2, "CONGELATO", 62, 2, 70, 1, 0, "ENDTAB")),
		section("BLOCKS", dxf(0, "BLOCK", 2, "PORTA", 70, 0, 10, 1, 20, 1, 0, "LINE", 10, 0, 20, 0, 11, 1, 21, 0, 0, "ENDBLK", 8, "0")),
		section("ENTITIES", dxf(0, "INSERT", 2, "PORTA", 10, 5, 20, 5)),
		section("OBJECTS", dxf(0, "DICTIONARY", 3, "X")),
	)
	d := parse(t, src)
	if d.Version != "AC1015" || d.Units != 4 || !d.HasExtents || d.ExtMin != (Point{-1, -2}) || d.ExtMax != (Point{11, 12}) {
		t.Errorf("header: %+v", d)
	}
	want := []Layer{{"0", 7, -1, false, false, ContinuousLine}, {"MURI", 5, -1, false, false, ContinuousLine}, {"NASCOSTO", 1, -1, true, false, ContinuousLine}, {"CONGELATO", 2, -1, false, true, ContinuousLine}}
	if fmt.Sprint(d.Layers) != fmt.Sprint(want) {
		t.Errorf("layers %+v", d.Layers)
	}
	b := d.Blocks["PORTA"]
	if b == nil || b.Base != (Point{1, 1}) || b.Entities.Len() != 1 {
		t.Errorf("block %+v", b)
	}
	if h, err := ReadHeader(context.Background(), strings.NewReader(src[:60])); h.Version != "AC1015" || err != nil {
		t.Errorf("ReadHeader of the first bytes: %+v %v", h, err)
	}
	if h, err := ReadHeader(context.Background(), strings.NewReader(src)); h != (Header{"AC1015", 4}) || err != nil || UnitName(h.Units) != "millimetri" {
		t.Errorf("ReadHeader: %+v %v", h, err)
	}
}

func TestParseText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Perch\xe9 30%%d", "Perché 30°"}, // Windows-1252, as files before R2007
		{`\U+00E8 qui`, "è qui"},
		{"già UTF-8", "già UTF-8"},
		{"%%p0,5 %%u100%%% %%x", "±0,5 100% %%x"},
	} {
		d := parse(t, file(section("ENTITIES", dxf(0, "TEXT", 10, 0, 20, 0, 40, 1, 1, c.in))))
		if got := d.Model.At(0).Text; got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	many := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(dxf(0, "LINE", 10, 0, 20, 0, 11, 1, 21, 1))
		}
		return file(section("ENTITIES", b.String()))
	}
	for _, c := range []struct {
		name string
		in   string
		lim  Limits
		want error
	}{
		{"binary", "AutoCAD Binary DXF\r\n\x1a\x00\x00\x00", Limits{}, ErrBinary},
		{"not a DXF", "prospetto nord", Limits{}, ErrMalformed},
		{"a PDF", "%PDF-1.7\n1 0 obj\n", Limits{}, ErrMalformed},
		{"empty", "", Limits{}, ErrMalformed},
		{"code out of range", "  5000\nX\n", Limits{}, ErrMalformed},
		{"line too long", "  0\n" + strings.Repeat("A", 100_000) + "\n", Limits{}, ErrMalformed},
		{"too large", many(100), Limits{MaxBytes: 1000}, ErrTooLarge},
		{"too many entities", many(100), Limits{MaxItems: 50}, ErrTooComplex},
		{"too many vertices", file(section("ENTITIES", dxf(0, "LWPOLYLINE", 90, 1000000)+strings.Repeat(dxf(10, 1, 20, 2), 300))), Limits{MaxItems: 50}, ErrTooComplex},
		{"too much text", file(section("ENTITIES", strings.Repeat(dxf(0, "TEXT", 10, 0, 20, 0, 40, 1, 1, strings.Repeat("x", 200)), 10))), Limits{MaxText: 1000}, ErrTooComplex},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(context.Background(), strings.NewReader(c.in), c.lim)
			if !errors.Is(err, c.want) {
				t.Errorf("Parse: %v, want %v", err, c.want)
			}
		})
	}
	// Cut short after a section: drawn as far as it goes.
	if _, err := Parse(context.Background(), strings.NewReader(section("ENTITIES", dxf(0, "LINE", 10, 0, 20, 0, 11, 1, 21, 1))), Limits{}); err != nil {
		t.Errorf("a file without EOF: %v", err)
	}
	if _, err := Parse(context.Background(), strings.NewReader("  0\nSECTION\n"), Limits{}); !errors.Is(err, ErrMalformed) {
		t.Errorf("a file of one group: %v", err)
	}
}

// svgOf draws src and checks that the SVG is well-formed XML.
func svgOf(t *testing.T, src string, lim Limits) (string, error) {
	t.Helper()
	d, err := Parse(context.Background(), strings.NewReader(src), lim)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if _, err := d.WriteSVG(context.Background(), &b); err != nil {
		return b.String(), err
	}
	checkXML(t, b.Bytes())
	return b.String(), nil
}

func checkXML(t testing.TB, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("SVG not well-formed: %v\n%s", err, b)
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "script", "foreignObject", "a", "image", "use":
				t.Fatalf("active or linking element %s in\n%s", se.Name.Local, b)
			}
			for _, a := range se.Attr {
				if strings.HasPrefix(strings.ToLower(a.Name.Local), "on") || a.Name.Local == "href" {
					t.Fatalf("attribute %s in\n%s", a.Name.Local, b)
				}
			}
		}
	}
}

// plan is a small drawing with what a permit's plan has: walls, a door
// block inserted turned and mirrored, a table of chairs nested in blocks,
// a room's name, dimensions on a layer switched off.
var plan = file(
	section("HEADER", dxf(9, "$ACADVER", 1, "AC1027", 9, "$EXTMIN", 10, 0, 20, 0, 9, "$EXTMAX", 10, 1000, 20, 600)),
	section("TABLES", dxf(0, "TABLE", 2, "LAYER", 0, "LAYER", 2, "MURI", 62, 7, 0, "LAYER", 2, "ARREDI", 62, 3,
		0, "LAYER", 2, "QUOTE", 62, -1, 0, "LAYER", 2, `A&B "<x>"`, 62, 1, 0, "ENDTAB")),
	section("BLOCKS", dxf(0, "BLOCK", 2, "PORTA", 10, 0, 20, 0, 70, 0,
		0, "LINE", 8, "0", 10, 0, 20, 0, 11, 90, 21, 0,
		0, "ARC", 8, "0", 62, 0, 10, 0, 20, 0, 40, 90, 50, 0, 51, 90,
		0, "ENDBLK",
		0, "BLOCK", 2, "SEDIA", 10, 0, 20, 0,
		0, "LWPOLYLINE", 8, "ARREDI", 90, 2, 70, 1, 10, 0, 20, 0, 42, 0.5, 10, 40, 20, 0,
		0, "ENDBLK",
		0, "BLOCK", 2, "TAVOLO", 10, 0, 20, 0,
		0, "CIRCLE", 10, 0, 20, 0, 40, 60,
		0, "INSERT", 2, "SEDIA", 10, -20, 20, 70,
		0, "INSERT", 2, "TAVOLO", 10, 500, 20, 500, // a block within itself: not drawn again
		0, "ENDBLK")),
	section("ENTITIES", dxf(
		0, "LWPOLYLINE", 8, "MURI", 90, 4, 70, 1, 10, 0, 20, 0, 10, 1000, 20, 0, 10, 1000, 20, 600, 10, 0, 20, 600,
		0, "INSERT", 8, "MURI", 62, 1, 2, "PORTA", 10, 100, 20, 0, 50, 90,
		0, "INSERT", 8, "MURI", 2, "PORTA", 10, 300, 20, 0, 41, -1, 42, 1,
		0, "INSERT", 8, "ARREDI", 2, "TAVOLO", 10, 500, 20, 300,
		0, "INSERT", 8, "ARREDI", 2, "SEDIA", 10, 700, 20, 100, 70, 3, 71, 2, 44, 50, 45, 50,
		0, "TEXT", 8, "MURI", 10, 100, 20, 500, 40, 25, 1, "Soggiorno <&> 25 m²",
		0, "MTEXT", 8, `A&B "<x>"`, 10, 600, 20, 550, 40, 20, 71, 1, 1, `Riga 1\PRiga 2`,
		0, "LINE", 8, "QUOTE", 10, 0, 20, -50, 11, 1000, 21, -50,
		0, "ELLIPSE", 8, "ARREDI", 10, 850, 20, 450, 11, 80, 21, 0, 40, 0.5, 41, 0, 42, 6.283185307179586,
	)))

func TestWriteSVG(t *testing.T) {
	out, err := svgOf(t, plan, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`viewBox="-20 -620 1040 640"`, // the header's extents, y flipped, with a margin
		`<g data-layer="MURI" color="#000000">`,
		`<path d="M0 0L1000 0L1000 -600L0 -600Z"/>`,
		`<path d="M100 0L100 -90"/>`, // the door turned by 90°, its line on layer 0 taking the insert's
		`<g data-layer="MURI" color="#ff0000">` + "\n" + `<path d="M100 -90A90 90 0.000 0 0 10 0"/>`, // its arc by block: the insert's colour
		`<path d="M300 0L210 0"/>`, // mirrored
		`<g data-layer="ARREDI" color="#00d500">`,
		`<circle cx="500" cy="-300" r="60"/>`,
		`<g data-layer="QUOTE" color="#ff0000" display="none">`,
		`Soggiorno &lt;&amp;&gt; 25 m²`,
		`data-layer="A&amp;B &quot;&lt;x&gt;&quot;"`,
		`<tspan x="0" y="20">Riga 1</tspan><tspan x="0" y="53.3333">Riga 2</tspan>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
	// The table and its chair once, the chairs' grid six times.
	if n := strings.Count(out, "<circle"); n != 1 {
		t.Errorf("%d circles, want 1 (the table drawn once, not within itself)", n)
	}
	if n := strings.Count(out, "A25 25 "); n != 7 {
		t.Errorf("%d chairs' arcs, want 7\n%s", n, out)
	}
}

// TestLineEnds: Windows' line ends and a byte order mark change nothing.
func TestLineEnds(t *testing.T) {
	want, err := svgOf(t, plan, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"CRLF": strings.ReplaceAll(plan, "\n", "\r\n"),
		"BOM":  "\xef\xbb\xbf" + plan,
	} {
		if got, err := svgOf(t, src, Limits{}); err != nil || got != want {
			t.Errorf("%s: %v\n%s", name, err, got)
		}
	}
}

// TestLineTypes: dashed lines keep their pattern's proportions, on the
// screen, by their layer, their own or their block reference's.
func TestLineTypes(t *testing.T) {
	src := file(
		section("TABLES", dxf(0, "TABLE", 2, "LTYPE",
			0, "LTYPE", 2, "CONTINUOUS", 73, 0,
			0, "LTYPE", 2, "DASHED", 73, 2, 40, 0.75, 49, 0.5, 49, -0.25,
			0, "LTYPE", 2, "CENTER", 73, 4, 40, 2, 49, 1.25, 49, -0.25, 49, 0.25, 49, -0.25,
			0, "LTYPE", 2, "DOT", 73, 2, 40, 0.25, 49, 0, 49, -0.25,
			0, "ENDTAB",
			0, "TABLE", 2, "LAYER", 0, "LAYER", 2, "ASSI", 62, 1, 6, "CENTER", 0, "LAYER", 2, "MURI", 62, 7, 6, "Continuous", 0, "ENDTAB")),
		section("BLOCKS", dxf(0, "BLOCK", 2, "B", 10, 0, 20, 0, 0, "LINE", 6, "BYBLOCK", 10, 0, 20, 0, 11, 1, 21, 0, 0, "ENDBLK")),
		section("ENTITIES", dxf(
			0, "LINE", 8, "ASSI", 10, 0, 20, 0, 11, 10, 21, 0,
			0, "LINE", 8, "MURI", 6, "dashed", 10, 0, 20, 1, 11, 10, 21, 1,
			0, "LINE", 8, "MURI", 6, "DOT", 10, 0, 20, 2, 11, 10, 21, 2,
			0, "INSERT", 8, "MURI", 6, "DASHED", 2, "B", 10, 0, 20, 3,
			0, "LINE", 8, "MURI", 10, 0, 20, 4, 11, 10, 21, 4)))
	out, err := svgOf(t, src, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<g data-layer="ASSI" color="#ff0000" stroke-dasharray="15.0 3.0 3.0 3.0">` + "\n" + `<path d="M0 0L10 0"/>`,
		`<g data-layer="MURI" color="#000000" stroke-dasharray="16.0 8.0">` + "\n" + `<path d="M0 -1L10 -1"/>`,
		`<g data-layer="MURI" color="#000000" stroke-dasharray="0.0 6.0">` + "\n" + `<path d="M0 -2L10 -2"/>`,
		`<g data-layer="MURI" color="#000000" stroke-dasharray="16.0 8.0">` + "\n" + `<path d="M0 -3L1 -3"/>`, // by block
		`<g data-layer="MURI" color="#000000">` + "\n" + `<path d="M0 -4L10 -4"/>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
}

// TestFrozenReference: a block reference on a frozen layer hides what it
// holds, its own layers too; on a layer switched off, only what takes its
// layer.
func TestFrozenReference(t *testing.T) {
	src := file(
		section("TABLES", dxf(0, "TABLE", 2, "LAYER", 0, "LAYER", 2, "GELO", 62, 1, 70, 1, 0, "LAYER", 2, "SPENTO", 62, -1, 0, "LAYER", 2, "PROPRIO", 62, 3, 0, "ENDTAB")),
		section("BLOCKS", dxf(0, "BLOCK", 2, "B", 10, 0, 20, 0, 0, "LINE", 8, "PROPRIO", 10, 0, 20, 0, 11, 1, 21, 0, 0, "LINE", 8, "0", 10, 0, 20, 0, 11, 0, 21, 1, 0, "ENDBLK")),
		section("ENTITIES", dxf(0, "INSERT", 8, "GELO", 2, "B", 10, 1, 20, 0, 0, "INSERT", 8, "SPENTO", 2, "B", 10, 2, 20, 0)))
	out, err := svgOf(t, src, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "M1 ") || !strings.Contains(out, `<g data-layer="PROPRIO" color="#00d500">`+"\n"+`<path d="M2 0L3 0"/>`) ||
		!strings.Contains(out, `<g data-layer="SPENTO" color="#ff0000" display="none">`+"\n"+`<path d="M2 0L2 -1"/>`) {
		t.Errorf("frozen and off references:\n%s", out)
	}
}

// TestFarFromOrigin: a plan in map coordinates (UTM, metres) is drawn
// near the SVG's origin, where single precision keeps millimetres.
func TestFarFromOrigin(t *testing.T) {
	out, err := svgOf(t, file(section("ENTITIES", dxf(0, "LINE", 10, 632000.125, 20, 4960000.5, 11, 632010.125, 21, 4960010.5,
		0, "TEXT", 10, 632001, 20, 4960001, 40, 0.5, 1, "Fg. 12 mapp. 345"))), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`viewBox="-0.075 0.3 10.4 10.4"`, `<path d="M0.125 10.5L10.125 0.5"/>`, `matrix(1 0 0 1 1 10)`} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
}

// TestPaperSpace: a drawing laid out on its sheet only, its model space
// empty, shows the sheet.
func TestPaperSpace(t *testing.T) {
	out, err := svgOf(t, file(section("ENTITIES", dxf(0, "TEXT", 67, 1, 10, 10, 20, 10, 40, 5, 1, "Cartiglio"))), Limits{})
	if err != nil || !strings.Contains(out, ">Cartiglio<") {
		t.Errorf("paper space only: %v\n%s", err, out)
	}
	out, err = svgOf(t, file(section("ENTITIES", dxf(0, "TEXT", 67, 1, 10, 10, 20, 10, 40, 5, 1, "Cartiglio", 0, "LINE", 10, 0, 20, 0, 11, 1, 21, 1))), Limits{})
	if err != nil || strings.Contains(out, "Cartiglio") {
		t.Errorf("model and paper space: %v\n%s", err, out)
	}
}

func TestWriteSVGArcs(t *testing.T) {
	for _, c := range []struct {
		name, body, want string
	}{
		// Counter-clockwise in the drawing is counter-clockwise on the
		// screen: sweep flag 0 once y points down.
		{"arc", dxf(0, "ARC", 10, 0, 20, 0, 40, 10, 50, 0, 51, 90), `<path d="M10 0A10 10 0.000 0 0 0 -10"/>`},
		{"arc over 180°", dxf(0, "ARC", 10, 0, 20, 0, 40, 10, 50, 0, 51, 270), `<path d="M10 0A10 10 0.000 1 0 0 10"/>`},
		{"mirrored arc turns the other way", dxf(0, "ARC", 10, 0, 20, 0, 40, 10, 50, 0, 51, 90, 230, -1), `<path d="M-10 0A10 10 0.000 0 1 0 -10"/>`},
		{"bulge -1: a clockwise half circle", dxf(0, "LWPOLYLINE", 90, 2, 10, 0, 20, 0, 42, -1, 10, 10, 20, 0), `<path d="M0 0A5 5 0.000 0 1 10 0"/>`},
		{"whole ellipse in two arcs", dxf(0, "ELLIPSE", 10, 0, 20, 0, 11, 0, 21, 10, 40, 0.5), `<path d="M0 -10A10 5 -90.000 0 0 0 10A10 5 -90.000 0 0 0 -10"/>`},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := svgOf(t, file(section("ENTITIES", c.body)), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, c.want) {
				t.Errorf("no %s in\n%s", c.want, out)
			}
		})
	}
}

func TestWriteSVGLimits(t *testing.T) {
	// Ten references to a block of ten, nested six deep: a million lines
	// from a file of a few hundred bytes.
	var blocks strings.Builder
	blocks.WriteString(dxf(0, "BLOCK", 2, "B0", 10, 0, 20, 0, 0, "LINE", 10, 0, 20, 0, 11, 1, 21, 1, 0, "ENDBLK"))
	for i := 1; i <= 6; i++ {
		blocks.WriteString(dxf(0, "BLOCK", 2, fmt.Sprintf("B%d", i), 10, 0, 20, 0))
		for j := range 10 {
			blocks.WriteString(dxf(0, "INSERT", 2, fmt.Sprintf("B%d", i-1), 10, j, 20, 0))
		}
		blocks.WriteString(dxf(0, "ENDBLK"))
	}
	bomb := file(section("BLOCKS", blocks.String()), section("ENTITIES", dxf(0, "INSERT", 2, "B6", 10, 0, 20, 0)))
	var b bytes.Buffer
	d, err := Parse(context.Background(), strings.NewReader(bomb), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.WriteSVG(context.Background(), &b); !errors.Is(err, ErrTooComplex) || b.Len() != 0 {
		t.Errorf("a million lines from nested blocks: %v, %d bytes written", err, b.Len())
	}
	// A grid of a billion empty blocks.
	grid := file(section("BLOCKS", dxf(0, "BLOCK", 2, "E", 10, 0, 20, 0, 0, "ENDBLK")),
		section("ENTITIES", dxf(0, "INSERT", 2, "E", 10, 0, 20, 0, 70, 100000, 71, 10000)+dxf(0, "LINE", 10, 0, 20, 0, 11, 1, 21, 1)))
	if _, err := svgOf(t, grid, Limits{}); !errors.Is(err, ErrTooComplex) {
		t.Errorf("a grid of a billion empty blocks: %v", err)
	}
	// Deeper than MaxDepth: drawn down to it.
	if out, err := svgOf(t, bomb, Limits{MaxDepth: 2}); !errors.Is(err, ErrEmpty) {
		t.Errorf("nested beyond the depth: %v\n%s", err, out)
	}
	if _, err := svgOf(t, file(section("ENTITIES", strings.Repeat(dxf(0, "LINE", 10, 0, 20, 0, 11, 1, 21, 1), 100))), Limits{MaxSVG: 1000}); !errors.Is(err, ErrTooComplex) {
		t.Errorf("SVG beyond its limit: %v", err)
	}
	if _, err := svgOf(t, file(section("ENTITIES", dxf(0, "TEXT", 10, 0, 20, 0, 40, 1, 1, "x"))), Limits{}); err != nil {
		t.Errorf("one text: %v", err)
	}
	if _, err := svgOf(t, file(section("ENTITIES", "")), Limits{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("an empty drawing: %v", err)
	}
}

// lines is a DXF file of n lines, made as it is read.
type lines struct {
	n, done int
	buf     []byte
	read    atomic.Int64
}

func (l *lines) Read(p []byte) (int, error) {
	for len(l.buf) < len(p) && l.done <= l.n {
		switch {
		case l.done == 0:
			l.buf = append(l.buf, section("HEADER", dxf(9, "$ACADVER", 1, "AC1032"))...)
			l.buf = append(l.buf, "  0\nSECTION\n  2\nENTITIES\n"...)
		case l.done == l.n:
			l.buf = append(l.buf, dxf(0, "ENDSEC", 0, "EOF")...)
		default:
			l.buf = fmt.Appendf(l.buf, "  0\nLINE\n  8\nL%d\n 10\n%d.5\n 20\n%d.25\n 11\n%d\n 21\n%d\n", l.done%50, l.done%1000, l.done/1000, l.done%1000+3, l.done/1000+2)
		}
		l.done++
	}
	if len(l.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, l.buf)
	l.buf = l.buf[n:]
	l.read.Add(int64(n))
	return n, nil
}

// peakHeap samples the heap while f runs.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load()
}

// TestMillionEntities: a file of a million entities ends in ErrTooComplex
// once the limit's worth is read, in memory bounded by the limit.
func TestMillionEntities(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a million entities")
	}
	src := &lines{n: 1_000_000}
	var err error
	peak := peakHeap(func() { _, err = Parse(context.Background(), src, Limits{MaxBytes: 1 << 30}) })
	if !errors.Is(err, ErrTooComplex) {
		t.Fatalf("Parse: %v", err)
	}
	// Each line is about 60 bytes: stopped near the 200,000th.
	if read := src.read.Load(); read > 20<<20 {
		t.Errorf("read %d bytes before stopping", read)
	}
	if peak > 150<<20 {
		t.Errorf("peak heap %d MiB", peak>>20)
	}
	t.Logf("stopped after %d bytes, peak heap %d MiB", src.read.Load(), peak>>20)
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(plan))
	f.Add([]byte(file(section("ENTITIES", dxf(0, "HATCH", 91, 1, 92, 1, 93, 1, 72, 4, 94, 3, 40, 0, 40, 0, 40, 1, 10, 0, 20, 0, 10, 1, 20, 1, 97, 0)))))
	f.Add([]byte(file(section("ENTITIES", dxf(0, "SPLINE", 71, 2, 40, 0, 40, 0, 40, 0, 40, 1, 40, 1, 40, 1, 10, 0, 20, 0, 10, 1, 20, 2, 10, 2, 20, 0)))))
	f.Add([]byte("AutoCAD Binary DXF\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lim := Limits{MaxBytes: 1 << 20, MaxItems: 5000, MaxText: 1 << 16, MaxDepth: 8, MaxSVG: 4 << 20}
		d, err := Parse(context.Background(), bytes.NewReader(b), lim)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooComplex) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrBinary) {
				t.Fatalf("Parse: unexpected error %v", err)
			}
			return
		}
		var out bytes.Buffer
		if _, err := d.WriteSVG(context.Background(), &out); err != nil {
			if !errors.Is(err, ErrTooComplex) && !errors.Is(err, ErrEmpty) {
				t.Fatalf("WriteSVG: %v", err)
			}
			return
		}
		checkXML(t, out.Bytes())
		ReadHeader(context.Background(), bytes.NewReader(b))
	})
}

// BenchmarkLarge parses and draws a drawing of 100,000 lines.
func BenchmarkLarge(b *testing.B) {
	var src bytes.Buffer
	io.Copy(&src, &lines{n: 100_000})
	b.SetBytes(int64(src.Len()))
	var peak uint64
	for b.Loop() {
		peak = max(peak, peakHeap(func() {
			d, err := Parse(context.Background(), bytes.NewReader(src.Bytes()), Limits{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := d.WriteSVG(context.Background(), io.Discard); err != nil {
				b.Fatal(err)
			}
		}))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
}

// TestSplines: a spline is drawn through its curve, not its control
// polygon; one whose knots do not fit, or of a degree no CAD writes, by
// its control polygon, at no more cost.
func TestSplines(t *testing.T) {
	// A quadratic B-spline with clamped knots: from (0,0) to (2,0) through
	// (1,1) at its middle.
	curve := dxf(0, "SPLINE", 71, 2, 72, 6, 73, 3, 40, 0, 40, 0, 40, 0, 40, 1, 40, 1, 40, 1, 10, 0, 20, 0, 10, 1, 20, 2, 10, 2, 20, 0)
	d := parse(t, file(section("ENTITIES", curve)))
	pts := splinePoints(d.Model.At(0))
	mid := pts[len(pts)/2]
	if len(pts) < 16 || pts[0] != (Point{0, 0}) || !near(pts[len(pts)-1].X, 2) || !near(mid.X, 1) || !near(mid.Y, 1) {
		t.Errorf("spline points %v", pts)
	}
	high := dxf(0, "SPLINE", 71, 50, 10, 0, 20, 0, 10, 1, 20, 2, 10, 2, 20, 0)
	d = parse(t, file(section("ENTITIES", high)))
	if pts := splinePoints(d.Model.At(0)); len(pts) != 3 {
		t.Errorf("a spline of degree 50: %v", pts)
	}
}

func TestList(t *testing.T) {
	var l List
	const n = 3*maxChunk + 100
	for i := range n {
		l.add(Entity{R: float64(i)})
	}
	if l.Len() != n {
		t.Fatalf("Len %d", l.Len())
	}
	for _, i := range []int{0, 7, 8, 23, 24, 4095, 4096, 8000, maxChunk*2 + 1000, n - 1} {
		if got := l.At(i).R; got != float64(i) {
			t.Errorf("At(%d) = %v", i, got)
		}
	}
}

func TestOnPaper(t *testing.T) {
	for _, c := range []struct{ in, want int32 }{
		{0xffffff, 0x000000}, // white, colour 7
		{0xf0f0f0, 0x000000},
		{0xffff00, 0xa4a400}, // yellow, darker
		{0xff0000, 0xff0000},
		{0x0000ff, 0x0000ff},
		{0x808080, 0x808080},
	} {
		if got := onPaper(c.in); got != c.want {
			t.Errorf("onPaper(%06x) = %06x, want %06x", c.in, got, c.want)
		}
	}
}

// TestVerticesKept: the vertices of each entity stay its own, whatever
// the entities around it, as they pass through the parser's scratch space.
func TestVerticesKept(t *testing.T) {
	var body strings.Builder
	var want [][]Point
	for i := range 400 {
		n := 1 + (i*7919)%(arenaChunk/16+100) // some beyond a chunk's share
		if i%5 == 0 {
			n = 2
		}
		var pts []Point
		body.WriteString(dxf(0, "LWPOLYLINE", 90, n))
		for j := range n {
			q := Point{float64(i), float64(j)}
			pts = append(pts, q)
			body.WriteString(dxf(10, q.X, 20, q.Y, 42, 0.1))
		}
		want = append(want, pts)
		switch i % 3 {
		case 0:
			body.WriteString(dxf(0, "INSERT", 66, 1, 2, "B", 10, i, 20, -1, 0, "ATTRIB", 10, i, 20, -2, 40, 1, 1, "a", 0, "SEQEND"))
			want = append(want, []Point{{float64(i), -1}}, []Point{{float64(i), -2}})
		case 1:
			body.WriteString(dxf(0, "POLYLINE", 66, 1, 0, "VERTEX", 10, i, 20, -3, 0, "VERTEX", 10, i, 20, -4, 0, "SEQEND"))
			want = append(want, []Point{{float64(i), -3}, {float64(i), -4}})
		}
	}
	d, err := Parse(context.Background(), strings.NewReader(file(section("ENTITIES", body.String()))), Limits{MaxItems: 10_000_000})
	if err != nil {
		t.Fatal(err)
	}
	if d.Model.Len() != len(want) {
		t.Fatalf("%d entities, want %d", d.Model.Len(), len(want))
	}
	for i, w := range want {
		e := d.Model.At(i)
		if fmt.Sprint(e.P) != fmt.Sprint(w) || (e.Kind == Polyline && len(e.Bulge) != 0 && len(e.Bulge) != len(e.P)) {
			t.Fatalf("entity %d (%v): %v, want %v", i, e.Kind, e.P, w)
		}
	}
}

// BenchmarkMixed parses and draws a plan of 100,000 entities as a
// building's drawings mix them: lines, polylines with arcs, arcs, texts
// and references to a block of five (150,000 drawn in all).
func BenchmarkMixed(b *testing.B) {
	var src strings.Builder
	src.WriteString(section("BLOCKS", dxf(0, "BLOCK", 2, "PORTA", 10, 0, 20, 0,
		0, "LINE", 10, 0, 20, 0, 11, 90, 21, 0, 0, "ARC", 10, 0, 20, 0, 40, 90, 50, 0, 51, 90,
		0, "LINE", 10, 0, 20, 0, 11, 0, 21, 10, 0, "LINE", 10, 90, 20, 0, 11, 90, 21, 10, 0, "CIRCLE", 10, 45, 20, 5, 40, 2, 0, "ENDBLK")))
	src.WriteString("  0\nSECTION\n  2\nENTITIES\n")
	for i := range 100_000 {
		x, y := float64(i%1000)*10, float64(i/1000)*10
		switch i % 10 {
		case 0, 1, 2, 3:
			src.WriteString(dxf(0, "LINE", 8, "MURI", 10, x, 20, y, 11, x+8, 21, y+3))
		case 4, 5:
			src.WriteString(dxf(0, "LWPOLYLINE", 8, "ARREDI", 90, 5, 70, 1, 10, x, 20, y, 10, x+5, 20, y, 42, 0.4, 10, x+5, 20, y+5, 10, x+2, 20, y+7, 10, x, 20, y+5))
		case 6, 7:
			src.WriteString(dxf(0, "TEXT", 8, "TESTI", 10, x, 20, y, 40, 1.5, 1, fmt.Sprintf("Vano %d", i)))
		case 8:
			src.WriteString(dxf(0, "ARC", 8, "ARREDI", 10, x, 20, y, 40, 3, 50, 10, 51, 200))
		case 9:
			src.WriteString(dxf(0, "INSERT", 8, "INFISSI", 2, "PORTA", 10, x, 20, y, 41, 0.05, 42, 0.05, 50, 90))
		}
	}
	src.WriteString(dxf(0, "ENDSEC", 0, "EOF"))
	data := src.String()
	b.SetBytes(int64(len(data)))
	var peak uint64
	var st Stats
	for b.Loop() {
		peak = max(peak, peakHeap(func() {
			d, err := Parse(context.Background(), strings.NewReader(data), Limits{})
			if err != nil {
				b.Fatal(err)
			}
			if st, err = d.WriteSVG(context.Background(), io.Discard); err != nil {
				b.Fatal(err)
			}
		}))
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	b.ReportMetric(float64(st.Bytes)/(1<<20), "svg-MiB")
}
