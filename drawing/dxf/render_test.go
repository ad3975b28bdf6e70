package dxf

import (
	"context"
	"os"
	"testing"
)

// TestRenderFile draws DXF_FILE into DXF_OUT: a way to look at a drawing.
func TestRenderFile(t *testing.T) {
	in, out := os.Getenv("DXF_FILE"), os.Getenv("DXF_OUT")
	if in == "" || out == "" {
		t.Skip("DXF_FILE and DXF_OUT not set")
	}
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := Parse(context.Background(), f, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	o, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	st, err := d.WriteSVG(context.Background(), o)
	t.Logf("%+v %v version %q layers %d", st, err, d.Version, len(d.Layers))
}
