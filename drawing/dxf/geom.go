package dxf

import "math"

// affine maps a point: x' = a·x + c·y + e, y' = b·x + d·y + f, in the
// order of SVG's matrix().
type affine struct{ a, b, c, d, e, f float64 }

var identity = affine{a: 1, d: 1}

func (m affine) apply(p Point) Point {
	return Point{m.a*p.X + m.c*p.Y + m.e, m.b*p.X + m.d*p.Y + m.f}
}

// vec maps a vector: the linear part only.
func (m affine) vec(p Point) Point { return Point{m.a*p.X + m.c*p.Y, m.b*p.X + m.d*p.Y} }

// mul is m∘n: n first, then m.
func (m affine) mul(n affine) affine {
	return affine{
		a: m.a*n.a + m.c*n.b, b: m.b*n.a + m.d*n.b,
		c: m.a*n.c + m.c*n.d, d: m.b*n.c + m.d*n.d,
		e: m.a*n.e + m.c*n.f + m.e, f: m.b*n.e + m.d*n.f + m.f,
	}
}

func (m affine) det() float64 { return m.a*m.d - m.b*m.c }

func translate(x, y float64) affine { return affine{a: 1, d: 1, e: x, f: y} }
func scale(x, y float64) affine     { return affine{a: x, d: y} }
func rotate(rad float64) affine {
	s, c := math.Sincos(rad)
	return affine{a: c, b: s, c: -s, d: c}
}

// flipY turns the drawing's y axis, pointing up, into SVG's, pointing down.
var flipY = scale(1, -1)

// mirrorX is the object coordinate system of an extrusion (0, 0, -1): by
// the arbitrary axis algorithm its x axis is the world's -x.
var mirrorX = scale(-1, 1)

// ellipseAxes returns the semi-axes and the rotation (radians) of the
// ellipse whose conjugate semi-diameters are u and v: the image of a unit
// circle under [u v], by the closed form of a 2×2 singular value
// decomposition.
func ellipseAxes(u, v Point) (rx, ry, rot float64) {
	a, b, c, d := u.X, v.X, u.Y, v.Y
	e, f := (a+d)/2, (a-d)/2
	g, h := (c+b)/2, (c-b)/2
	q, r := math.Hypot(e, h), math.Hypot(f, g)
	a1, a2 := math.Atan2(g, f), math.Atan2(h, e)
	return q + r, math.Abs(q - r), (a2 + a1) / 2
}

// arcPoint is the point at parameter t of the ellipse c + u·cos t + v·sin t.
func arcPoint(c, u, v Point, t float64) Point {
	s, co := math.Sincos(t)
	return Point{c.X + u.X*co + v.X*s, c.Y + u.Y*co + v.Y*s}
}

// bulgeArc is the circle of a polyline segment from p to q with bulge b
// (the tangent of a quarter of the included angle, positive
// counter-clockwise): its centre, radius, start angle and signed sweep.
func bulgeArc(p, q Point, b float64) (c Point, r, start, sweep float64) {
	sweep = 4 * math.Atan(b)
	dx, dy := q.X-p.X, q.Y-p.Y
	chord := math.Hypot(dx, dy)
	r = chord * (1 + b*b) / (4 * math.Abs(b))
	// The centre is off the chord's middle, on its left for a positive
	// bulge, by the sagitta's complement.
	off := chord * (1 - b*b) / (4 * b)
	mx, my := (p.X+q.X)/2, (p.Y+q.Y)/2
	c = Point{mx - dy/chord*off, my + dx/chord*off}
	start = math.Atan2(p.Y-c.Y, p.X-c.X)
	return c, r, start, sweep
}

const maxDegree = 11

// splinePoints samples a B-spline (rational when it has a weight for each
// control point) by de Boor's algorithm; a spline whose knots do not fit
// its control points is drawn as its control polygon.
func splinePoints(e *Entity) []Point {
	n, p, u := len(e.P), e.Degree, e.Knots
	// AutoCAD's splines are of degree 11 at most; a higher one would cost
	// its square at each point.
	if p < 1 || p > maxDegree || p >= n || len(u) != n+p+1 || !(u[p] < u[n]) {
		return e.P
	}
	for i := 1; i < len(u); i++ {
		if u[i] < u[i-1] {
			return e.P
		}
	}
	rational := len(e.Weights) == n
	samples := min(max(8*n, 16), 1024)
	out := make([]Point, 0, samples+1)
	d := make([][3]float64, p+1)
	k := p
	for s := 0; s <= samples; s++ {
		t := u[p] + (u[n]-u[p])*float64(s)/float64(samples)
		for k < n-1 && t >= u[k+1] {
			k++
		}
		for j := 0; j <= p; j++ {
			cp := e.P[j+k-p]
			w := 1.0
			if rational && e.Weights[j+k-p] > 0 {
				w = e.Weights[j+k-p]
			}
			d[j] = [3]float64{cp.X * w, cp.Y * w, w}
		}
		for r := 1; r <= p; r++ {
			for j := p; j >= r; j-- {
				i := j + k - p
				den := u[i+p+1-r] - u[i]
				alpha := 0.0
				if den != 0 {
					alpha = (t - u[i]) / den
				}
				for x := range 3 {
					d[j][x] = (1-alpha)*d[j-1][x] + alpha*d[j][x]
				}
			}
		}
		if d[p][2] == 0 {
			continue
		}
		out = append(out, Point{d[p][0] / d[p][2], d[p][1] / d[p][2]})
	}
	return out
}

// box is a bounding box; empty until a point is added.
type box struct {
	min, max Point
	ok       bool
}

func (b *box) add(p Point) {
	if !p.finite() {
		return
	}
	if !b.ok {
		b.min, b.max, b.ok = p, p, true
		return
	}
	b.min.X, b.min.Y = math.Min(b.min.X, p.X), math.Min(b.min.Y, p.Y)
	b.max.X, b.max.Y = math.Max(b.max.X, p.X), math.Max(b.max.Y, p.Y)
}

func (b box) w() float64 { return b.max.X - b.min.X }
func (b box) h() float64 { return b.max.Y - b.min.Y }
