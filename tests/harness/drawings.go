package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Drawings for the tests of the CAD previews: one made by GDAL's DXF
// writer (ogr2ogr, a real tool), one written here with what GDAL does not
// write (nested blocks, arcs, bulges, MINSERT, dimensions' blocks), one too
// complex to preview, and a DWG header.

// dxfPairs writes group code / value pairs as AutoCAD does.
func dxfPairs(pairs ...any) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(&b, "%3d\n%v\n", pairs[i], pairs[i+1])
	}
	return b.String()
}

// PlanDXF is a ground-floor plan of an R2013 file: walls with a rounded
// corner, a door block (line and arc) inserted turned, a table block that
// holds a chair block, a grid of chairs, room names in TEXT and MTEXT, a
// circle and an arc, an axis in a dash-dot line type, and dimensions on a
// layer switched off.
func PlanDXF() []byte {
	var b strings.Builder
	sec := func(name, body string) {
		b.WriteString(dxfPairs(0, "SECTION", 2, name) + body + dxfPairs(0, "ENDSEC"))
	}
	sec("HEADER", dxfPairs(9, "$ACADVER", 1, "AC1027", 9, "$INSUNITS", 70, 5,
		9, "$EXTMIN", 10, 0, 20, 0, 30, 0, 9, "$EXTMAX", 10, 1200, 20, 800, 30, 0))
	sec("TABLES", dxfPairs(0, "TABLE", 2, "LTYPE", 70, 2,
		0, "LTYPE", 2, "CONTINUOUS", 70, 0, 3, "Solid line", 72, 65, 73, 0, 40, 0.0,
		0, "LTYPE", 2, "CENTER", 70, 0, 3, "Center ____ _ ____ _", 72, 65, 73, 4, 40, 50.0, 49, 31.25, 49, -6.25, 49, 6.25, 49, -6.25,
		0, "ENDTAB",
		0, "TABLE", 2, "LAYER", 70, 6,
		0, "LAYER", 2, "0", 70, 0, 62, 7, 6, "CONTINUOUS",
		0, "LAYER", 2, "MURI", 70, 0, 62, 7, 6, "CONTINUOUS",
		0, "LAYER", 2, "INFISSI", 70, 0, 62, 4, 6, "CONTINUOUS",
		0, "LAYER", 2, "ARREDI", 70, 0, 62, 3, 6, "CONTINUOUS",
		0, "LAYER", 2, "TESTI", 70, 0, 62, 1, 6, "CONTINUOUS",
		0, "LAYER", 2, "QUOTE", 70, 0, 62, -2, 6, "CONTINUOUS",
		0, "LAYER", 2, "ASSI", 70, 0, 62, 6, 6, "CENTER",
		0, "ENDTAB"))
	sec("BLOCKS", dxfPairs(
		0, "BLOCK", 8, "0", 2, "PORTA", 70, 0, 10, 0, 20, 0, 30, 0, 3, "PORTA",
		0, "LINE", 8, "0", 10, 0, 20, 0, 30, 0, 11, 90, 21, 0, 31, 0,
		0, "ARC", 8, "0", 10, 0, 20, 0, 30, 0, 40, 90, 50, 0, 51, 90,
		0, "ENDBLK", 8, "0",
		0, "BLOCK", 8, "0", 2, "SEDIA", 70, 0, 10, 0, 20, 0, 30, 0, 3, "SEDIA",
		0, "LWPOLYLINE", 8, "ARREDI", 90, 4, 70, 1, 10, 0, 20, 0, 10, 40, 20, 0, 10, 40, 20, 40, 42, 0.4, 10, 0, 20, 40,
		0, "ENDBLK", 8, "0",
		0, "BLOCK", 8, "0", 2, "TAVOLO", 70, 0, 10, 0, 20, 0, 30, 0, 3, "TAVOLO",
		0, "CIRCLE", 8, "ARREDI", 10, 0, 20, 0, 30, 0, 40, 60,
		0, "INSERT", 8, "ARREDI", 2, "SEDIA", 10, -20, 20, 70, 30, 0,
		0, "INSERT", 8, "ARREDI", 2, "SEDIA", 10, 20, 20, -70, 30, 0, 50, 180,
		0, "ENDBLK", 8, "0"))
	sec("ENTITIES", dxfPairs(
		0, "LWPOLYLINE", 8, "MURI", 90, 5, 70, 1, 10, 0, 20, 0, 10, 1200, 20, 0, 10, 1200, 20, 700, 42, 0.414213562, 10, 1100, 20, 800, 10, 0, 20, 800,
		0, "LINE", 8, "MURI", 10, 600, 20, 0, 30, 0, 11, 600, 21, 800, 31, 0,
		0, "INSERT", 8, "INFISSI", 2, "PORTA", 10, 600, 20, 300, 30, 0, 50, 90,
		0, "INSERT", 8, "INFISSI", 2, "PORTA", 10, 200, 20, 0, 30, 0, 41, -1, 42, 1, 43, 1,
		0, "INSERT", 8, "ARREDI", 2, "TAVOLO", 10, 300, 20, 450, 30, 0,
		0, "INSERT", 8, "ARREDI", 2, "SEDIA", 10, 800, 20, 100, 30, 0, 70, 4, 71, 2, 44, 60, 45, 80,
		0, "CIRCLE", 8, "ARREDI", 10, 1000, 20, 600, 30, 0, 40, 50,
		0, "ARC", 8, "ARREDI", 10, 1000, 20, 600, 30, 0, 40, 80, 50, 200, 51, 340,
		0, "TEXT", 8, "TESTI", 10, 100, 20, 700, 30, 0, 40, 30, 1, "Soggiorno 32 m%%p",
		0, "MTEXT", 8, "TESTI", 10, 700, 20, 750, 30, 0, 40, 25, 71, 1, 1, `{\fArial|b1;Cucina}\PH = 2,70 m`,
		0, "TEXT", 8, "TESTI", 10, 900, 20, 300, 30, 0, 40, 20, 50, 90, 72, 1, 11, 900, 21, 300, 31, 0, 1, "Studio <A&B>",
		0, "LINE", 8, "QUOTE", 10, 0, 20, -60, 30, 0, 11, 1200, 21, -60, 31, 0,
		0, "LINE", 8, "ASSI", 10, -50, 20, 400, 30, 0, 11, 1250, 21, 400, 31, 0))
	b.WriteString(dxfPairs(0, "EOF"))
	return []byte(b.String())
}

// ComplexDXF is a few hundred bytes that draw a million lines: six levels
// of blocks each holding ten references to the one below.
func ComplexDXF() []byte {
	var b strings.Builder
	b.WriteString(dxfPairs(0, "SECTION", 2, "BLOCKS", 0, "BLOCK", 2, "B0", 70, 0, 10, 0, 20, 0, 0, "LINE", 8, "0", 10, 0, 20, 0, 11, 1, 21, 1, 0, "ENDBLK"))
	for i := 1; i <= 6; i++ {
		b.WriteString(dxfPairs(0, "BLOCK", 2, fmt.Sprintf("B%d", i), 70, 0, 10, 0, 20, 0))
		for j := range 10 {
			b.WriteString(dxfPairs(0, "INSERT", 8, "0", 2, fmt.Sprintf("B%d", i-1), 10, j*2, 20, 0))
		}
		b.WriteString(dxfPairs(0, "ENDBLK"))
	}
	b.WriteString(dxfPairs(0, "ENDSEC", 0, "SECTION", 2, "ENTITIES", 0, "INSERT", 8, "0", 2, "B6", 10, 0, 20, 0, 0, "ENDSEC", 0, "EOF"))
	return []byte(b.String())
}

// DWG2018 stands for a DWG file of AutoCAD 2018 or later: the version line
// reads only the first six bytes, so the rest need not be a drawing.
func DWG2018() []byte {
	return append([]byte("AC1032"), 0, 0, 0, 0, 0, 0x1f, 0x06, 0x01, 0x00, 0x00)
}

// GDALDXF makes a drawing with GDAL's ogr2ogr (Debian's gdal-bin): walls
// and a room as lines and a polygon (a HATCH), a label (an MTEXT), and a
// door block inserted turned, from GeoJSON layers joined by a VRT, for
// ogr2ogr writes a "blocks" layer as DXF blocks.
func GDALDXF(t testing.TB) []byte {
	t.Helper()
	if _, err := exec.LookPath("ogr2ogr"); err != nil {
		t.Fatal("ogr2ogr is needed (apt-get install gdal-bin): ", err)
	}
	dir := t.TempDir()
	files := map[string]string{
		// GDAL 3.6 names a block by "Block", later releases by "BlockName".
		"blocchi.geojson": `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"Block":"PORTA","BlockName":"PORTA","Layer":"0"},"geometry":{"type":"LineString","coordinates":[[0,0],[0.9,0],[0.9,0.9]]}}]}`,
		"tavola.geojson": `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"Layer":"MURI"},"geometry":{"type":"LineString","coordinates":[[0,0],[12,0],[12,8],[0,8],[0,0]]}},
{"type":"Feature","properties":{"Layer":"MURI"},"geometry":{"type":"LineString","coordinates":[[6,0],[6,8]]}},
{"type":"Feature","properties":{"Layer":"LOCALI"},"geometry":{"type":"Polygon","coordinates":[[[0.5,0.5],[5.5,0.5],[5.5,3],[0.5,3],[0.5,0.5]]]}},
{"type":"Feature","properties":{"Layer":"TESTI","OGR_STYLE":"LABEL(f:\"Arial\",t:\"Camera <1> & bagno\",s:0.5g,c:#ff0000)"},"geometry":{"type":"Point","coordinates":[1,5]}},
{"type":"Feature","properties":{"Layer":"INFISSI","BlockName":"PORTA","BlockAngle":90},"geometry":{"type":"Point","coordinates":[6,4]}}]}`,
		"tavola.vrt": `<OGRVRTDataSource>
<OGRVRTLayer name="blocks"><SrcDataSource relativeToVRT="1">blocchi.geojson</SrcDataSource><SrcLayer>blocchi</SrcLayer></OGRVRTLayer>
<OGRVRTLayer name="entities"><SrcDataSource relativeToVRT="1">tavola.geojson</SrcDataSource><SrcLayer>tavola</SrcLayer></OGRVRTLayer>
</OGRVRTDataSource>`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "tavola.dxf")
	cmd := exec.Command("ogr2ogr", "-f", "DXF", out, filepath.Join(dir, "tavola.vrt"), "blocks", "entities")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ogr2ogr: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// OGRInfo is what GDAL's ogrinfo, a DXF reader of its own, reads of a
// drawing: every feature, block references expanded.
func OGRInfo(t testing.TB, dxf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("ogrinfo"); err != nil {
		t.Fatal("ogrinfo is needed (apt-get install gdal-bin): ", err)
	}
	f := filepath.Join(t.TempDir(), "disegno.dxf")
	if err := os.WriteFile(f, dxf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ogrinfo", "-ro", "-al", "-q", f).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	return string(out)
}

// ezdxfScript writes, with ezdxf (Debian's python3-ezdxf), a drawing of
// what AutoCAD's files hold and GDAL does not write: hatches with edges,
// attributes of block references, dimensions with their blocks, splines,
// ellipses, an arc mirrored by its extrusion, true colours, layers off and
// frozen, a MINSERT grid, paper space.
const ezdxfScript = `
import sys, ezdxf
version, out = sys.argv[1], sys.argv[2]
doc = ezdxf.new(version, setup=True)
msp = doc.modelspace()
for name, color in [("MURI", 7), ("ARREDI", 3), ("TESTI", 1), ("QUOTE", 5)]:
    doc.layers.add(name, color=color)
doc.layers.add("SPENTO", color=2).off()
doc.layers.add("CONGELATO", color=4).freeze()
walls = [(0, 0, 0, 0, 0), (10000, 0, 0, 0, 0), (10000, 6000, 0, 0, 0.4142), (8000, 8000, 0, 0, 0), (0, 8000, 0, 0, 0)]
if version == "R12":
    msp.add_polyline2d(walls, format="xyseb", close=True, dxfattribs={"layer": "MURI"})
else:
    msp.add_lwpolyline(walls, format="xyseb", close=True, dxfattribs={"layer": "MURI"})
msp.add_line((5000, 0), (5000, 8000), dxfattribs={"layer": "MURI"})
blk = doc.blocks.new("PORTA", base_point=(0, 0))
blk.add_line((0, 0), (900, 0))
blk.add_arc((0, 0), 900, 0, 90, dxfattribs={"color": 0})
blk.add_attdef("NUM", (100, 100), dxfattribs={"height": 150})
for i, (x, rot) in enumerate([(1000, 0), (5000, 90), (7000, 180)]):
    ref = msp.add_blockref("PORTA", (x, 0), dxfattribs={"layer": "MURI", "rotation": rot, "color": 1})
    ref.add_auto_attribs({"NUM": "P%d" % (i + 1)})
msp.add_circle((2500, 4000), 600, dxfattribs={"layer": "ARREDI"})
msp.add_arc((7500, 4000), 800, 30, 150, dxfattribs={"layer": "ARREDI"})
msp.add_arc((-7500, 2000), 500, 0, 90, dxfattribs={"layer": "ARREDI", "extrusion": (0, 0, -1)})
msp.add_text("Soggiorno 32 m²", dxfattribs={"layer": "TESTI", "height": 250}).set_placement((500, 7000))
msp.add_text("Centrato %%c 10", dxfattribs={"layer": "TESTI", "height": 200, "rotation": 30}).set_placement((7500, 4500), align=ezdxf.enums.TextEntityAlignment.MIDDLE_CENTER)
msp.add_line((0, -700), (10000, -700), dxfattribs={"layer": "CONGELATO"})
msp.add_line((0, -500), (10000, -500), dxfattribs={"layer": "SPENTO"})
msp.add_point((9000, 1000), dxfattribs={"layer": "ARREDI"})
if version != "R12":
    msp.add_ellipse((2500, 6500), major_axis=(1000, 300), ratio=0.4, dxfattribs={"layer": "ARREDI"})
    msp.add_spline([(6000, 6000), (6500, 7000), (7000, 6200), (7500, 7200), (8000, 6500)], dxfattribs={"layer": "ARREDI"})
    msp.add_mtext("{\\fArial|b1;Cucina}\\PH = 2,70 m", dxfattribs={"layer": "TESTI", "char_height": 200, "insert": (5500, 7500), "attachment_point": 1})
    h = msp.add_hatch(color=8, dxfattribs={"layer": "ARREDI"})
    h.paths.add_polyline_path([(500, 500), (2000, 500), (2000, 1500), (500, 1500)], is_closed=True)
    h2 = msp.add_hatch(dxfattribs={"layer": "ARREDI"})
    h2.set_pattern_fill("ANSI31", scale=10)
    ep = h2.paths.add_edge_path()
    ep.add_line((3000, 500), (4500, 500))
    ep.add_arc((4500, 1000), 500, -90, 90)
    ep.add_line((4500, 1500), (3000, 1500))
    ep.add_line((3000, 1500), (3000, 500))
    msp.add_line((0, -900), (10000, -900), dxfattribs={"layer": "ARREDI", "true_color": ezdxf.rgb2int((200, 100, 50))})
    msp.add_linear_dim(base=(0, 9000), p1=(0, 8000), p2=(10000, 8000), dxfattribs={"layer": "QUOTE"}).render()
    doc.layout("Layout1").add_text("Cartiglio", dxfattribs={"height": 5}).set_placement((10, 10))
sedia = doc.blocks.new("SEDIA")
sedia.add_lwpolyline([(0, 0), (400, 0), (400, 400), (0, 400)], close=True) if version != "R12" else sedia.add_polyline2d([(0, 0), (400, 0), (400, 400), (0, 400)], close=True)
msp.add_blockref("SEDIA", (6000, 1000), dxfattribs={"layer": "ARREDI"}).grid(size=(2, 4), spacing=(600, 600))
doc.saveas(out)
`

// EzdxfDXF writes the drawing of ezdxfScript in the DXF version given
// ("R2018", "R12").
func EzdxfDXF(t testing.TB, version string) []byte {
	t.Helper()
	// Debian's Python, where Debian's package installs ezdxf.
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import ezdxf").Run(); err != nil {
		t.Fatal("ezdxf is needed (apt-get install python3-ezdxf): ", err)
	}
	out := filepath.Join(t.TempDir(), "disegno.dxf")
	if msg, err := exec.Command(python, "-c", ezdxfScript, version, out).CombinedOutput(); err != nil {
		t.Fatalf("ezdxf: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
