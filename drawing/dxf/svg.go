package dxf

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The SVG is drawn in the page's coordinates: the drawing's, with y
// flipped. Every element carries its layer's group (data-layer, for the
// page to switch layers on and off) and its colour by currentColor, so
// that the page's script and style need nothing else. Nothing in it is
// active: no script, no link, no reference to anything outside it.

// prim is an entity as drawn: where (m maps its coordinates to the SVG's),
// on which layer and in which colour once blocks pass theirs on.
type prim struct {
	e     *Entity
	m     affine
	layer string
	rgb   int32
	lt    int16
}

// walker expands the drawing's block references, within the limits, and
// hands each entity drawn to visit.
type walker struct {
	ctx      context.Context
	d        *Drawing
	items    int
	text     int
	visit    func(prim) error
	visiting map[string]bool
}

// Stats are what WriteSVG drew.
type Stats struct {
	Entities int   // drawn, once block references are expanded
	Bytes    int64 // of SVG written
}

func (w *walker) take(items, text int) error {
	w.items += items
	w.text += text
	if w.items > w.d.lim.MaxItems {
		return fmt.Errorf("%w: more than %d entities drawn", ErrTooComplex, w.d.lim.MaxItems)
	}
	if w.text > w.d.lim.MaxText {
		return fmt.Errorf("%w: more than %d bytes of text drawn", ErrTooComplex, w.d.lim.MaxText)
	}
	if w.items&4095 == 0 {
		return w.ctx.Err()
	}
	return nil
}

// walk draws ents through m; layer and rgb are those of the block
// reference that holds them (layer "0" and colour "by block" take them).
func (w *walker) walk(ents *List, order []int32, m affine, layer string, rgb int32, lt int16, depth int) error {
	for k := range ents.Len() {
		i := k
		if order != nil {
			i = int(order[k])
		}
		e := ents.At(i)
		lay := e.Layer
		if lay == "" || (lay == "0" && depth > 0) {
			lay = cmp.Or(layer, "0")
		}
		col := w.d.color(e, lay, rgb)
		elt := w.d.lineType(e, lay, lt)
		em := m
		if e.Mirror {
			em = m.mul(mirrorX)
		}
		if e.Kind != Insert {
			cost := 1
			switch e.Kind {
			case Polyline, Hatch:
				cost += len(e.P) / verticesPerItem
			case Spline:
				cost += min(max(8*len(e.P), 16), 1024) / verticesPerItem
			}
			if err := w.take(cost, len(e.Text)); err != nil {
				return err
			}
			if err := w.visit(prim{e: e, m: em, layer: lay, rgb: col, lt: elt}); err != nil {
				return err
			}
			continue
		}
		b := w.d.Blocks[e.Block]
		if b == nil || w.visiting[e.Block] || depth >= w.d.lim.MaxDepth || w.d.frozen(lay) {
			// A missing block, a block that holds itself, or one nested
			// too deep: drawn without it. A reference on a frozen layer
			// hides all it holds, as in AutoCAD.
			continue
		}
		w.visiting[e.Block] = true
		base := translate(-b.Base.X, -b.Base.Y)
		for r := range e.Rows {
			for c := range e.Cols {
				// Each copy costs one, so that a grid of empty blocks
				// cannot run unbounded.
				if err := w.take(1, 0); err != nil {
					return err
				}
				t := em
				if !e.Identity {
					t = em.mul(translate(e.P[0].X, e.P[0].Y)).mul(rotate(e.Rot * math.Pi / 180)).
						mul(translate(float64(c)*e.ColSp, float64(r)*e.RowSp)).mul(scale(e.Scale.X, e.Scale.Y)).mul(base)
				}
				if err := w.walk(&b.Entities, nil, t, lay, col, elt, depth+1); err != nil {
					return err
				}
			}
		}
		delete(w.visiting, e.Block)
	}
	return nil
}

// space is what is drawn: model space, or paper space when model space is
// empty (a drawing laid out on its sheet).
func (d *Drawing) space() *List {
	if d.Model.Len() == 0 {
		return &d.Paper
	}
	return &d.Model
}

// byLayer is the order in which the entities are drawn: by layer, in the
// order of the layer table, so that each layer is mostly one group.
func (d *Drawing) byLayer(ents *List) []int32 {
	type key struct {
		rank  int
		layer string
	}
	keys := make([]key, ents.Len())
	order := make([]int32, ents.Len())
	for i := range order {
		order[i] = int32(i)
		l := ents.At(i).Layer
		r, ok := d.layerIndex[l]
		if !ok {
			r = len(d.Layers)
		}
		keys[i] = key{r, l}
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		if c := cmp.Compare(keys[a].rank, keys[b].rank); c != 0 {
			return c
		}
		return strings.Compare(keys[a].layer, keys[b].layer)
	})
	return order
}

func (d *Drawing) walk(ctx context.Context, base affine, visit func(prim) error) (int, error) {
	ents := d.space()
	w := &walker{ctx: ctx, d: d, visit: visit, visiting: map[string]bool{}}
	err := w.walk(ents, d.byLayer(ents), base, "", 0, ContinuousLine, 0)
	return w.items, err
}

// Bounds are the drawing's extents, computed from what it draws; false for
// an empty drawing. Within the limits, as WriteSVG.
func (d *Drawing) bounds(ctx context.Context) (box, int, error) {
	var b box
	n, err := d.walk(ctx, flipY, func(p prim) error {
		// Layers switched off or frozen are not in the extents, as in
		// AutoCAD's.
		if !d.hidden(p.layer) {
			primBounds(&b, p)
		}
		return nil
	})
	return b, n, err
}

// viewBox is the SVG's extents: the header's, when they hold what is drawn
// and are not far larger (AutoCAD leaves them stale, and 1e20 in an empty
// drawing), or else those of what is drawn; with a margin.
func (d *Drawing) viewBox(drawn box) box {
	vb := drawn
	if d.HasExtents {
		var h box
		h.add(flipY.apply(d.ExtMin))
		h.add(flipY.apply(d.ExtMax))
		tol := 0.01 * math.Max(drawn.w(), drawn.h())
		holds := h.min.X <= drawn.min.X+tol && h.min.Y <= drawn.min.Y+tol && h.max.X >= drawn.max.X-tol && h.max.Y >= drawn.max.Y-tol
		if !drawn.ok || (holds && h.w() <= 2*drawn.w()+tol && h.h() <= 2*drawn.h()+tol) {
			vb = h
		}
	}
	if !vb.ok {
		return box{min: Point{0, 0}, max: Point{1, 1}, ok: true}
	}
	size := math.Max(vb.w(), vb.h())
	if size == 0 || math.IsInf(size, 0) {
		size = 1
	}
	m := size * 0.02
	vb.min.X, vb.min.Y, vb.max.X, vb.max.Y = vb.min.X-m, vb.min.Y-m, vb.max.X+m, vb.max.Y+m
	return vb
}

// lineType is the line type an entity is drawn with, on layer inside a
// block reference drawn with byBlock.
func (d *Drawing) lineType(e *Entity, layer string, byBlock int16) int16 {
	switch e.LType {
	case ByBlockLine:
		return byBlock
	case ByLayerLine:
		if i, ok := d.layerIndex[layer]; ok {
			return d.Layers[i].LType
		}
		return ContinuousLine
	}
	return e.LType
}

// frozen reports whether a layer is frozen.
func (d *Drawing) frozen(layer string) bool {
	i, ok := d.layerIndex[layer]
	return ok && d.Layers[i].Frozen
}

// hidden reports whether a layer is switched off or frozen.
func (d *Drawing) hidden(layer string) bool {
	i, ok := d.layerIndex[layer]
	return ok && (d.Layers[i].Off || d.Layers[i].Frozen)
}

// ErrEmpty: nothing in the drawing is drawn.
var ErrEmpty = errors.New("dxf: nothing to draw")

// WriteSVG draws the drawing as SVG on out, within its limits: an
// ErrTooComplex comes before anything is written, but for the rare SVG
// larger than Limits.MaxSVG, which is cut there.
func (d *Drawing) WriteSVG(ctx context.Context, out io.Writer) (Stats, error) {
	drawn, n, err := d.bounds(ctx)
	if err != nil {
		return Stats{}, err
	}
	if !drawn.ok {
		return Stats{}, ErrEmpty
	}
	vb := d.viewBox(drawn)
	// A drawing far from its origin — in map coordinates, as GDAL writes
	// them — is moved near it: browsers draw SVG in single precision,
	// which at 5,000,000 keeps half a unit.
	base := flipY
	if size := math.Max(vb.w(), vb.h()); math.Max(math.Max(math.Abs(vb.min.X), math.Abs(vb.max.X)), math.Max(math.Abs(vb.min.Y), math.Abs(vb.max.Y))) > 10*size {
		o := Point{math.Round(vb.min.X), math.Round(vb.min.Y)}
		base = translate(-o.X, -o.Y).mul(flipY)
		vb.min.X, vb.min.Y, vb.max.X, vb.max.Y = vb.min.X-o.X, vb.min.Y-o.Y, vb.max.X-o.X, vb.max.Y-o.Y
	}
	lw := &limitWriter{w: out, n: d.lim.MaxSVG}
	bw := bufio.NewWriterSize(lw, 32<<10)
	s := &svgOut{w: bw, d: d}
	s.prec = max(0, min(10, 6-int(math.Floor(math.Log10(math.Max(vb.w(), vb.h()))))))
	s.str(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<svg xmlns="http://www.w3.org/2000/svg" viewBox="`)
	s.num(vb.min.X)
	s.sp()
	s.num(vb.min.Y)
	s.sp()
	s.num(vb.w())
	s.sp()
	s.num(vb.h())
	s.str(`" preserveAspectRatio="xMidYMid meet" fill="none" stroke="currentColor" stroke-width="1" stroke-linecap="round" stroke-linejoin="round" font-family="sans-serif" color="#000000"`)
	s.str(` data-entities="` + strconv.Itoa(n) + `">` + "\n")
	// Lines keep their width at any zoom. The page's style sheet says the
	// same, since its policy drops an SVG's own style once inline.
	s.str("<style>*{vector-effect:non-scaling-stroke}</style>\n")
	_, err = d.walk(ctx, base, s.prim)
	if err == nil {
		s.close()
		s.str("</svg>\n")
		err = bw.Flush()
	}
	if errors.Is(err, errSVGFull) {
		err = fmt.Errorf("%w: more than %d bytes of SVG", ErrTooComplex, d.lim.MaxSVG)
	}
	return Stats{Entities: n, Bytes: lw.written}, err
}

var errSVGFull = errors.New("dxf: SVG limit reached")

type limitWriter struct {
	w       io.Writer
	n       int64
	written int64
}

func (l *limitWriter) Write(b []byte) (int, error) {
	if int64(len(b)) > l.n-l.written {
		return 0, errSVGFull
	}
	n, err := l.w.Write(b)
	l.written += int64(n)
	return n, err
}

// svgOut writes the elements, grouping a run of entities of one layer and
// one colour.
type svgOut struct {
	w     *bufio.Writer
	d     *Drawing
	prec  int
	buf   []byte
	open  bool
	layer string
	rgb   int32
	lt    int16
}

func (s *svgOut) str(v string) { s.w.WriteString(v) }
func (s *svgOut) sp()          { s.w.WriteByte(' ') }

func (s *svgOut) num(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		v = 0
	}
	b := strconv.AppendFloat(s.buf[:0], v, 'f', s.prec, 64)
	if s.prec > 0 {
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
		if b[len(b)-1] == '.' {
			b = b[:len(b)-1]
		}
	}
	if string(b) == "-0" {
		b = b[1:]
	}
	s.buf = b
	s.w.Write(b)
}

func (s *svgOut) pt(p Point) {
	s.num(p.X)
	s.sp()
	s.num(p.Y)
}

func (s *svgOut) close() {
	if s.open {
		s.str("</g>\n")
		s.open = false
	}
}

func (s *svgOut) group(layer string, rgb int32, lt int16) {
	if s.open && layer == s.layer && rgb == s.rgb && lt == s.lt {
		return
	}
	s.close()
	s.str(`<g data-layer="`)
	s.escape(layer)
	s.str(`" color="`)
	s.str(hexColor(rgb))
	s.str(`"`)
	if dash := s.d.LineTypes[lt].Dash; dash != "" {
		s.str(` stroke-dasharray="` + dash + `"`)
	}
	if s.d.hidden(layer) {
		s.str(` display="none"`)
	}
	s.str(">\n")
	s.open, s.layer, s.rgb, s.lt = true, layer, rgb, lt
}

// escape writes v as XML text, without the characters XML forbids.
func (s *svgOut) escape(v string) {
	for _, r := range v {
		switch {
		case r == '&':
			s.str("&amp;")
		case r == '<':
			s.str("&lt;")
		case r == '>':
			s.str("&gt;")
		case r == '"':
			s.str("&quot;")
		case r == '\'':
			s.str("&#39;")
		case r < 0x20 && r != '\t', r == 0xfffe, r == 0xffff, r == utf8.RuneError:
		default:
			s.w.WriteRune(r)
		}
	}
}

func (s *svgOut) prim(p prim) error {
	s.group(p.layer, p.rgb, p.lt)
	e, m := p.e, p.m
	switch e.Kind {
	case Line:
		s.str(`<path d="M`)
		s.pt(m.apply(e.P[0]))
		s.str("L")
		s.pt(m.apply(e.P[1]))
		s.str(`"/>` + "\n")
	case Polyline, Solid:
		if len(e.P) == 0 {
			return s.err()
		}
		s.str(`<path d="`)
		s.subpath(m, e.P, e.Bulge, e.Closed)
		s.str(`"`)
		if e.Kind == Solid {
			s.str(` fill="currentColor"`)
		}
		s.str("/>\n")
	case Hatch:
		s.str(`<path d="`)
		for i, start := range e.Sub {
			end := len(e.P)
			if i+1 < len(e.Sub) {
				end = e.Sub[i+1]
			}
			if end-start < 2 {
				continue
			}
			s.subpath(m, e.P[start:end], e.Bulge[start:end], true)
		}
		s.str(`" fill="currentColor" fill-rule="evenodd" stroke="none"`)
		if !e.Closed {
			// A pattern: its region, lightly.
			s.str(` fill-opacity="0.25"`)
		}
		s.str("/>\n")
	case Spline:
		pts := splinePoints(e)
		if len(pts) == 0 {
			return s.err()
		}
		s.str(`<path d="M`)
		s.pt(m.apply(pts[0]))
		for _, q := range pts[1:] {
			s.str("L")
			s.pt(m.apply(q))
		}
		if e.Closed {
			s.str("Z")
		}
		s.str(`"/>` + "\n")
	case Circle:
		u, v := m.vec(Point{e.R, 0}), m.vec(Point{0, e.R})
		rx, ry, _ := ellipseAxes(u, v)
		if circular(rx, ry) {
			c := m.apply(e.P[0])
			s.str(`<circle cx="`)
			s.num(c.X)
			s.str(`" cy="`)
			s.num(c.Y)
			s.str(`" r="`)
			s.num(rx)
			s.str(`"/>` + "\n")
			break
		}
		s.ellipse(m, e.P[0], Point{e.R, 0}, Point{0, e.R}, 0, 2*math.Pi)
	case Arc:
		s.ellipse(m, e.P[0], Point{e.R, 0}, Point{0, e.R}, e.A0, sweepOf(e.A0, e.A1))
	case Ellipse:
		v := Point{-e.Axis.Y * e.Ratio, e.Axis.X * e.Ratio}
		s.ellipse(m, e.P[0], e.Axis, v, e.A0, sweepOf(e.A0, e.A1))
	case PointKind:
		s.str(`<path d="M`)
		s.pt(m.apply(e.P[0]))
		s.str(`h0" stroke-width="3"/>` + "\n")
	case Text:
		s.text(p)
	}
	return s.err()
}

// subpath writes a polyline's vertices, with the arcs of its bulges.
func (s *svgOut) subpath(m affine, pts []Point, bulge []float64, closed bool) {
	s.str("M")
	s.pt(m.apply(pts[0]))
	n := len(pts)
	segs := n - 1
	if closed {
		segs = n
	}
	for i := range segs {
		q := pts[(i+1)%n]
		if bulge != nil && bulge[i] != 0 && pts[i] != q {
			c, r, start, sweep := bulgeArc(pts[i], q, bulge[i])
			s.arcTo(m, c, Point{r, 0}, Point{0, r}, start, sweep)
			continue
		}
		if closed && i == n-1 {
			break // Z draws it
		}
		s.str("L")
		s.pt(m.apply(q))
	}
	if closed {
		s.str("Z")
	}
}

func (s *svgOut) err() error {
	// bufio keeps the first error of the writer beneath, and says it again.
	_, err := s.w.Write(nil)
	return err
}

func circular(rx, ry float64) bool { return math.Abs(rx-ry) <= 1e-9*rx }

// sweepOf is the counter-clockwise sweep from a0 to a1, in (0, 2π].
func sweepOf(a0, a1 float64) float64 {
	s := math.Mod(a1-a0, 2*math.Pi)
	if s <= 1e-12 {
		s += 2 * math.Pi
	}
	return s
}

// ellipse writes the arc of c + u·cos t + v·sin t from t0 over sweep, as a
// path of its own.
func (s *svgOut) ellipse(m affine, c, u, v Point, t0, sweep float64) {
	s.str(`<path d="M`)
	s.pt(m.apply(arcPoint(c, u, v, t0)))
	s.arcTo(m, c, u, v, t0, sweep)
	s.str(`"/>` + "\n")
}

// arcTo continues a path with the arc of c + u·cos t + v·sin t from t0
// over sweep (negative: clockwise), mapped by m: an SVG elliptical arc,
// exact under any affine map, split in two when it is whole.
func (s *svgOut) arcTo(m affine, c, u, v Point, t0, sweep float64) {
	mu, mv := m.vec(u), m.vec(v)
	rx, ry, rot := ellipseAxes(mu, mv)
	if circular(rx, ry) {
		rot = 0
	}
	// In SVG's coordinates the sweep flag is 1 for increasing angles; m's
	// orientation decides which way the parameter turns.
	sweepFlag := (m.det() > 0) == (sweep > 0)
	parts := 1
	if math.Abs(sweep) > 1.5*math.Pi {
		parts = 2
	}
	for i := 1; i <= parts; i++ {
		t := t0 + sweep*float64(i)/float64(parts)
		s.str("A")
		s.num(rx)
		s.sp()
		s.num(ry)
		s.sp()
		s.str(strconv.FormatFloat(rot*180/math.Pi, 'f', 3, 64))
		if math.Abs(sweep)/float64(parts) > math.Pi {
			s.str(" 1 ")
		} else {
			s.str(" 0 ")
		}
		if sweepFlag {
			s.str("1 ")
		} else {
			s.str("0 ")
		}
		s.pt(m.apply(arcPoint(c, u, v, t)))
	}
}

// lineHeight is MTEXT's default spacing of lines, in text heights.
const lineHeight = 5.0 / 3

// emPerHeight is a font's size for a text height: CAD's height is that of
// the capitals, about 0.72 of the em of a sans-serif font.
const emPerHeight = 1.4

// avgCharWidth is the width of an average character, in text heights.
const avgCharWidth = 0.6 * emPerHeight

// textFrame maps the text's own coordinates — x along its baseline, y
// down, in drawing units — to the SVG's.
func textFrame(p prim) affine {
	e := p.e
	sin, cos := math.Sincos(e.Rot * math.Pi / 180)
	local := affine{a: cos, b: sin, c: sin, d: -cos, e: e.P[0].X, f: e.P[0].Y}
	return p.m.mul(local)
}

// textLayout is where the lines of a text start, in its frame: the first
// baseline's y, and the anchor of each line.
func textLayout(e *Entity, lines int) (y0 float64, anchor string) {
	h := e.R
	if e.MText {
		// Attachment 1–9: top, middle, bottom rows; left, centre, right.
		total := float64(lines-1)*lineHeight*h + h
		switch (int(e.H) + 2) / 3 {
		case 2:
			y0 = h - total/2
		case 3:
			y0 = h - total
		default:
			y0 = h
		}
		switch e.H % 3 {
		case 2:
			anchor = "middle"
		case 0:
			if e.H != 0 {
				anchor = "end"
			}
		}
		return y0, anchor
	}
	switch e.V {
	case 1:
		y0 = -0.25 * h
	case 2:
		y0 = 0.5 * h
	case 3:
		y0 = h
	}
	switch e.H {
	case 1:
		anchor = "middle"
	case 2:
		anchor = "end"
	}
	return y0, anchor
}

func (s *svgOut) text(p prim) {
	e := p.e
	if e.R <= 0 || math.IsInf(e.R, 0) {
		return
	}
	lines := strings.Split(e.Text, "\n")
	f := textFrame(p)
	y0, anchor := textLayout(e, len(lines))
	s.str(`<text transform="matrix(`)
	for i, v := range []float64{f.a, f.b, f.c, f.d} {
		if i > 0 {
			s.sp()
		}
		s.str(strconv.FormatFloat(v, 'g', 6, 64))
	}
	s.sp()
	s.pt(Point{f.e, f.f})
	s.str(`)" font-size="`)
	s.str(strconv.FormatFloat(e.R*emPerHeight, 'g', 6, 64))
	s.str(`" fill="currentColor" stroke="none"`)
	if anchor != "" {
		s.str(` text-anchor="` + anchor + `"`)
	}
	s.str(">")
	if len(lines) == 1 {
		s.str(`<tspan x="0" y="`)
		s.str(strconv.FormatFloat(y0, 'g', 6, 64))
		s.str(`">`)
		s.escape(lines[0])
		s.str("</tspan>")
	} else {
		for i, l := range lines {
			s.str(`<tspan x="0" y="`)
			s.str(strconv.FormatFloat(y0+float64(i)*lineHeight*e.R, 'g', 6, 64))
			s.str(`">`)
			s.escape(l)
			s.str("</tspan>")
		}
	}
	s.str("</text>\n")
}

// primBounds adds what p draws to b.
func primBounds(b *box, p prim) {
	e, m := p.e, p.m
	switch e.Kind {
	case Line, Solid, PointKind:
		for _, q := range e.P {
			b.add(m.apply(q))
		}
	case Hatch:
		// Its vertices: the arcs of a boundary bulge little beyond them,
		// and are mostly drawn by lines and arcs of their own too.
		for _, q := range e.P {
			b.add(m.apply(q))
		}
	case Polyline:
		n := len(e.P)
		for i, q := range e.P {
			b.add(m.apply(q))
			if e.Bulge != nil && e.Bulge[i] != 0 && (i+1 < n || e.Closed) && e.P[i] != e.P[(i+1)%n] {
				c, r, start, sweep := bulgeArc(q, e.P[(i+1)%n], e.Bulge[i])
				arcBounds(b, m, c, Point{r, 0}, Point{0, r}, start, sweep)
			}
		}
	case Spline:
		for _, q := range splinePoints(e) {
			b.add(m.apply(q))
		}
	case Circle:
		arcBounds(b, m, e.P[0], Point{e.R, 0}, Point{0, e.R}, 0, 2*math.Pi)
	case Arc:
		arcBounds(b, m, e.P[0], Point{e.R, 0}, Point{0, e.R}, e.A0, sweepOf(e.A0, e.A1))
	case Ellipse:
		v := Point{-e.Axis.Y * e.Ratio, e.Axis.X * e.Ratio}
		arcBounds(b, m, e.P[0], e.Axis, v, e.A0, sweepOf(e.A0, e.A1))
	case Text:
		if e.R <= 0 {
			return
		}
		lines := strings.Split(e.Text, "\n")
		width := 0
		for _, l := range lines {
			width = max(width, utf8.RuneCountInString(l))
		}
		w := avgCharWidth * e.R * float64(width)
		y0, anchor := textLayout(e, len(lines))
		x0 := 0.0
		switch anchor {
		case "middle":
			x0 = -w / 2
		case "end":
			x0 = -w
		}
		f := textFrame(p)
		top, bottom := y0-e.R, y0+float64(len(lines)-1)*lineHeight*e.R+0.25*e.R
		for _, q := range []Point{{x0, top}, {x0 + w, top}, {x0, bottom}, {x0 + w, bottom}} {
			b.add(f.apply(q))
		}
	}
}

// arcBounds adds an arc's extent: its ends and points along it, enough for
// a preview's frame.
func arcBounds(b *box, m affine, c, u, v Point, t0, sweep float64) {
	const steps = 32
	for i := 0; i <= steps; i++ {
		b.add(m.apply(arcPoint(c, u, v, t0+sweep*float64(i)/steps)))
	}
}
