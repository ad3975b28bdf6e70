package dxf

import (
	"math"
	"strings"
)

// hatch reads a HATCH: its boundaries, as polylines (arcs as bulges,
// elliptic arcs and splines as points), and whether it is a solid fill.
// Its pattern is not drawn: a pattern's region is drawn lightly filled.
//
// A HATCH reuses group codes from one part to the next (10 is its
// elevation, then a boundary's vertex, then a seed point), so it is read
// in order: the entity's groups, 91 and each boundary path, then the rest.
func (p *parser) hatch() (e Entity, paper, keep bool, err error) {
	e = Entity{Kind: Hatch, Color: 256, RGB: -1, Detail: &Detail{}, P: p.scratchP[:0], Bulge: p.scratchB[:0]}
	var invisible bool
	var ext float64 = 1
	paths, done := -1, 0
	var (
		edge          int // the current edge's type: 1 line, 2 arc, 3 elliptic arc, 4 spline
		polyline      bool
		bulges        bool
		a, b          Point
		r, a0, a1     float64
		ccw           bool
		spline        Entity
		inPath, after bool
	)
	// flush adds the current edge to the current boundary.
	flush := func() error {
		if !inPath || polyline || edge == 0 {
			return nil
		}
		var pts []Point
		var bulge float64
		switch edge {
		case 1:
			pts = []Point{a, b}
		case 2, 3:
			// Clockwise arcs keep their angles measured clockwise.
			s0, sweep := a0*math.Pi/180, sweepOf(a0*math.Pi/180, a1*math.Pi/180)
			if !ccw {
				s0, sweep = -s0, -sweep
			}
			if edge == 2 {
				pts = []Point{arcPoint(a, Point{r, 0}, Point{0, r}, s0), arcPoint(a, Point{r, 0}, Point{0, r}, s0+sweep)}
				bulge = math.Tan(sweep / 4)
				break
			}
			v := Point{-b.Y * r, b.X * r}
			for i := 0; i <= 16; i++ {
				pts = append(pts, arcPoint(a, b, v, s0+sweep*float64(i)/16))
			}
		case 4:
			pts = splinePoints(&spline)
		}
		edge = 0
		if len(pts) == 0 {
			return nil
		}
		if err := p.countVertices(len(pts)); err != nil {
			return err
		}
		start := e.Sub[len(e.Sub)-1]
		if n := len(e.P); n == start || e.P[n-1] != pts[0] {
			e.P = append(e.P, pts[0])
			e.Bulge = append(e.Bulge, 0)
		}
		if bulge != 0 {
			e.Bulge[len(e.Bulge)-1] = bulge
		}
		for _, q := range pts[1:] {
			e.P = append(e.P, q)
			e.Bulge = append(e.Bulge, 0)
		}
		return nil
	}
	spline = Entity{Kind: Spline, Detail: &Detail{}}
	for {
		if err := p.next(); err != nil {
			return Entity{}, false, false, err
		}
		c := p.code
		if c == 0 {
			p.unread()
			break
		}
		if after {
			continue // pattern definition and seed points
		}
		if paths < 0 {
			switch c {
			case 8:
				e.Layer = p.intern(strings.TrimSpace(p.text()))
			case 62:
				if v := p.int(); v >= 0 && v <= 256 {
					e.Color = int16(v)
				}
			case 420:
				e.RGB = int32(p.int() & 0xffffff)
			case 67:
				paper = p.int() == 1
			case 60:
				invisible = p.int() == 1
			case 230:
				ext = p.num()
			case 70:
				e.Closed = p.int()&1 != 0
			case 91:
				paths = p.int()
				if paths <= 0 {
					after = true
				}
			}
			continue
		}
		switch {
		case c == 92:
			if err := flush(); err != nil {
				return Entity{}, false, false, err
			}
			polyline, bulges, inPath = p.int()&2 != 0, false, true
			e.Sub = append(e.Sub, len(e.P))
			if err := p.count(1); err != nil {
				return Entity{}, false, false, err
			}
		case !inPath:
		case c == 97:
			// The boundary's source objects: the path is done.
			if err := flush(); err != nil {
				return Entity{}, false, false, err
			}
			inPath = false
			done++
			if done >= paths {
				after = true
			}
		case polyline:
			switch c {
			case 72:
				bulges = p.int() != 0
			case 10:
				if err := p.countVertices(1); err != nil {
					return Entity{}, false, false, err
				}
				e.P = append(e.P, Point{X: p.num()})
				e.Bulge = append(e.Bulge, 0)
			case 20:
				if len(e.P) > e.Sub[len(e.Sub)-1] {
					e.P[len(e.P)-1].Y = p.num()
				}
			case 42:
				if bulges && len(e.P) > e.Sub[len(e.Sub)-1] {
					e.Bulge[len(e.Bulge)-1] = p.num()
				}
			}
		default:
			switch c {
			case 72:
				if err := flush(); err != nil {
					return Entity{}, false, false, err
				}
				edge = p.int()
				spline = Entity{Kind: Spline, Detail: &Detail{}}
			case 10:
				if edge == 4 {
					if err := p.countVertices(1); err != nil {
						return Entity{}, false, false, err
					}
					spline.P = append(spline.P, Point{X: p.num()})
				} else {
					a.X = p.num()
				}
			case 20:
				if edge == 4 {
					if n := len(spline.P); n > 0 {
						spline.P[n-1].Y = p.num()
					}
				} else {
					a.Y = p.num()
				}
			case 11:
				b.X = p.num()
			case 21:
				b.Y = p.num()
			case 40:
				if edge == 4 {
					if err := p.countVertices(1); err != nil {
						return Entity{}, false, false, err
					}
					spline.Knots = append(spline.Knots, p.num())
				} else {
					r = p.num()
				}
			case 42:
				if edge == 4 {
					if err := p.countVertices(1); err != nil {
						return Entity{}, false, false, err
					}
					spline.Weights = append(spline.Weights, p.num())
				}
			case 94:
				spline.Degree = p.int()
			case 50:
				a0 = p.num()
			case 51:
				a1 = p.num()
			case 73:
				ccw = p.int() != 0
			}
		}
	}
	if err := flush(); err != nil {
		return Entity{}, false, false, err
	}
	e.Mirror = ext < 0
	if err := p.count(1); err != nil {
		return Entity{}, false, false, err
	}
	p.settle(&e)
	if invisible || len(e.P) == 0 {
		return Entity{}, paper, false, nil
	}
	return e, paper, true, nil
}
