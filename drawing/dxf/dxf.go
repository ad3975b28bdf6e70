// Package dxf reads ASCII DXF drawings — as AutoCAD, BricsCAD, LibreCAD
// and GDAL write them, R12 to R2018 — and draws them as SVG, for a browser
// that cannot open CAD files (a technician's tablet).
//
// The reader streams the file's group code / value pairs and keeps only
// what the drawing shows: the layers, the block definitions and the
// entities of model (or paper) space. Everything it keeps is bounded by
// Limits: the bytes read, the entities kept and the entities drawn once
// block references are expanded, the text. A file beyond them ends in
// ErrTooComplex (or ErrTooLarge) before memory grows with it.
package dxf

import (
	"errors"
	"math"
)

// Errors of Parse and WriteSVG, for the page to say why there is no
// preview.
var (
	// ErrTooLarge: the file is larger than Limits.MaxBytes.
	ErrTooLarge = errors.New("dxf: file too large to preview")
	// ErrTooComplex: the drawing has more entities, text or output than
	// the limits allow.
	ErrTooComplex = errors.New("dxf: drawing too complex to preview")
	// ErrBinary: a binary DXF, which this reader does not read.
	ErrBinary = errors.New("dxf: binary DXF not supported")
	// ErrMalformed: not a DXF file, or a damaged one.
	ErrMalformed = errors.New("dxf: malformed file")
)

// Limits bound the work and the memory of one drawing.
type Limits struct {
	MaxBytes int64 // bytes of the file read
	MaxItems int   // entities kept, and drawn after expanding blocks; four vertices count as one
	MaxText  int   // bytes of text drawn after expanding blocks
	MaxDepth int   // nesting of block references
	MaxSVG   int64 // bytes of SVG written
}

// DefaultLimits are sized for a tablet's browser as much as for the
// gateway: beyond 200,000 elements a page stops panning smoothly.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 64 << 20, MaxItems: 200_000, MaxText: 4 << 20, MaxDepth: 16, MaxSVG: 64 << 20}
}

func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	if l.MaxBytes <= 0 {
		l.MaxBytes = d.MaxBytes
	}
	if l.MaxItems <= 0 {
		l.MaxItems = d.MaxItems
	}
	if l.MaxText <= 0 {
		l.MaxText = d.MaxText
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxSVG <= 0 {
		l.MaxSVG = d.MaxSVG
	}
	return l
}

// Point is a point or a vector of the drawing's plane; Z is dropped.
type Point struct{ X, Y float64 }

// Drawing is what a DXF file shows.
type Drawing struct {
	Version            string // $ACADVER, "AC1032"; "" when the file has no header
	ExtMin, ExtMax     Point  // $EXTMIN, $EXTMAX, when HasExtents
	HasExtents         bool
	Units              int     // $INSUNITS: 4 millimetres, 6 metres…; 0 unknown
	Layers             []Layer // in the order of the layer table
	LineTypes          []LineType
	Blocks             map[string]*Block
	Model, Paper       List // model space; the paper space of R2000 and later files
	lim                Limits
	layerIndex         map[string]int
	ltypeIndex         map[string]int16 // by name in capitals
	items, textBytes   int
	vertices           int
	stringsInterned    map[string]string
	sawEntitiesSection bool
}

// Layer is an entry of the layer table.
type Layer struct {
	Name   string
	Color  int   // ACI 1–255
	RGB    int32 // a true colour, -1 when none
	Off    bool  // switched off (a negative colour in the table)
	Frozen bool
	LType  int16 // its line type: an index of Drawing.LineTypes
}

// LineType is an entry of the line type table: its dashes as the SVG
// draws them, in pixels of the screen (lines keep their width at any
// zoom, and so do their dashes); "" for a continuous line.
type LineType struct {
	Name string
	Dash string
}

// The line types every drawing has, by their indexes.
const (
	ByLayerLine    = 0 // an entity's default
	ByBlockLine    = 1
	ContinuousLine = 2
)

// Block is a block definition: entities drawn wherever it is referenced,
// relative to Base.
type Block struct {
	Name     string
	Base     Point
	Entities List
}

// List is a list of entities kept in chunks, so that a long one grows
// without being copied: a drawing's memory is mostly its entities.
type List struct {
	chunks [][]Entity
	n      int
}

// maxChunk bounds a chunk of a List; the first chunks are small, for the
// many blocks of a few entities each.
const maxChunk = 4096

func (l *List) add(e Entity) {
	k := len(l.chunks) - 1
	if k < 0 || len(l.chunks[k]) == cap(l.chunks[k]) {
		size := 8
		if k >= 0 {
			size = min(2*cap(l.chunks[k]), maxChunk)
		}
		l.chunks = append(l.chunks, make([]Entity, 0, size))
		k++
	}
	l.chunks[k] = append(l.chunks[k], e)
	l.n++
}

// Len is the number of entities in the list.
func (l *List) Len() int { return l.n }

// At is the i-th entity of the list.
func (l *List) At(i int) *Entity {
	// The chunks double from 8 up to maxChunk: the first ones are found
	// by their sizes, the rest by division.
	for k, c := range l.chunks {
		if cap(c) == maxChunk {
			k += (i) / maxChunk
			return &l.chunks[k][i%maxChunk]
		}
		if i < len(c) {
			return &c[i]
		}
		i -= len(c)
	}
	panic("dxf: List index out of range")
}

// Kind is the kind of an entity, as drawn.
type Kind uint8

// The kinds of entity drawn; others are skipped.
const (
	Line      Kind = iota + 1 // P[0]–P[1]
	Polyline                  // P, with Bulge arcs; Closed
	Circle                    // P[0] centre, R radius
	Arc                       // P[0], R, from A0 to A1 radians counter-clockwise
	Ellipse                   // P[0] centre, Axis the major semi-axis, Ratio minor/major, A0–A1 parameters
	Text                      // TEXT, ATTRIB, MTEXT: P[0], R height, Rot degrees, Text (lines split by \n)
	Insert                    // a block reference (INSERT, MINSERT, DIMENSION)
	PointKind                 // POINT
	Solid                     // SOLID, TRACE: a filled polygon P
	Spline                    // P the control points, Knots, Weights, Degree
	Hatch                     // P the boundaries' vertices, each boundary from an index of Sub; Closed: a solid fill
)

// Entity is an entity of the drawing. Its coordinates are in its object
// coordinate system, mirrored when Mirror (an extrusion pointing down, as
// AutoCAD's MIRROR leaves arcs and circles): the renderer applies it.
type Entity struct {
	Kind   Kind
	Mirror bool
	Closed bool
	// Text alignment: H 0 left, 1 centre, 2 right; V 0 baseline, 1 bottom,
	// 2 middle, 3 top. MText: H is the attachment point, 1–9.
	H, V  uint8
	MText bool
	Color int16 // ACI; 256 by layer (the default), 0 by block
	LType int16 // an index of Drawing.LineTypes: by layer (the default), by block, or one
	RGB   int32 // a true colour (group 420), -1 when none
	Layer string
	P     []Point
	Bulge []float64 // Polyline, Hatch: the bulge of each vertex's segment, nil when straight
	R     float64
	A0    float64
	A1    float64
	Rot   float64
	Text  string
	// The rest, for the entities that have it: most are lines and
	// polylines, and a drawing's memory is mostly its entities.
	*Detail
}

// Detail is what inserts, ellipses, splines and hatches have besides.
type Detail struct {
	Axis  Point // Ellipse
	Ratio float64
	// Insert: the block, its scale, and MINSERT's grid.
	Block        string
	Scale        Point
	Cols, Rows   int
	ColSp, RowSp float64
	Identity     bool // a dimension's block: drawn where it is
	// Hatch: where each boundary starts in P.
	Sub []int
	// Spline
	Knots   []float64
	Weights []float64
	Degree  int
}

// finite reports whether every coordinate of p is a number.
func (p Point) finite() bool {
	return !math.IsNaN(p.X) && !math.IsNaN(p.Y) && !math.IsInf(p.X, 0) && !math.IsInf(p.Y, 0)
}
