package demo_test

import (
	"bytes"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/gateway/demo"
	"github.com/bassareggiana/faldone/signature"
	"github.com/bassareggiana/faldone/signature/trust"
)

// TestDemoSignature: the demo's envelopes verify against the authority it
// trusts, the same one after a restart.
func TestDemoSignature(t *testing.T) {
	dir := t.TempDir()
	s, err := demo.Authority(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := demo.Authority(dir) // a restart over the same folder
	if err != nil {
		t.Fatal(err)
	}
	doc := []byte("%PDF-1.4 domanda")
	for _, signer := range []*demo.Signer{s, again} {
		p7m, err := signer.Sign(doc, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		store, err := trust.New(trust.Sources{Dir: filepath.Join(dir, "ca")}, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		rep, err := (&signature.Inspector{Trust: store}).Read(bytes.NewReader(p7m), &out)
		if err != nil {
			t.Fatal(err)
		}
		if r := rep.Signers(); len(r) != 1 || !r[0].Valid() || !bytes.Equal(out.Bytes(), doc) {
			t.Fatalf("%+v", r)
		}
	}
}
