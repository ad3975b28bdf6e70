package s3

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/backends"
)

// TestLargeRead reads large objects whole and in part, in reads of the size
// a download uses, and then small ones over the same connections: the
// low-water mark that large reads set must not outlive them.
func TestLargeRead(t *testing.T) {
	b := newBackend(t)
	big := randomBytes(8<<20 + 12345)
	put(t, b, "grande.bin", big)
	put(t, b, "piccolo.txt", []byte("ciao"))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for _, r := range []*backends.Range{nil, {Start: 3 << 20, Length: -1}, {Start: 1, Length: 5 << 20}} {
		obj, err := b.Open(ctx, "grande.bin", r)
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		_, err = io.CopyBuffer(struct{ io.Writer }{&got}, struct{ io.Reader }{obj.Body}, make([]byte, 1<<20))
		obj.Body.Close()
		want := big
		if r != nil {
			want = big[r.Start:]
			if r.Length > 0 {
				want = want[:r.Length]
			}
		}
		if err != nil || !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("range %+v: %d bytes, %v; want %d", r, got.Len(), err, len(want))
		}
		for range 3 {
			if string(read(t, b, "piccolo.txt")) != "ciao" {
				t.Fatal("small file read wrong")
			}
		}
	}
	// A download abandoned in the middle.
	obj, err := b.Open(ctx, "grande.bin", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(obj.Body, make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	obj.Body.Close()
	if string(read(t, b, "piccolo.txt")) != "ciao" {
		t.Fatal("small file read wrong")
	}
}
