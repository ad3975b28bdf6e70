package ranged

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/bassareggiana/faldone/backends"
)

// memory opens ranges of data, counting them.
type memory struct {
	data []byte
	etag string
}

func (m *memory) Open(p string, r *backends.Range) (*backends.Object, error) {
	b := m.data[r.Start : r.Start+r.Length]
	return &backends.Object{Entry: backends.Entry{Path: p, Size: int64(len(m.data)), ETag: m.etag},
		Body: io.NopCloser(bytes.NewReader(b)), Start: r.Start, Length: r.Length}, nil
}

func TestReadAt(t *testing.T) {
	data := make([]byte, 10_000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	m := &memory{data: data, etag: "a"}
	r := New(m, "/f", int64(len(data)), "a", Options{Block: 1000, MaxBlocks: 2})
	for _, tc := range []struct {
		name     string
		off, n   int64
		requests int64 // after this read, in all
		eof      bool
	}{
		{"in one block", 10, 20, 1, false},
		{"same block again", 500, 100, 1, false},
		{"across two blocks", 1990, 20, 3, false},
		{"kept", 1995, 5, 3, false},
		{"a large read goes straight", 3000, 2500, 4, false},
		{"the first block was dropped", 0, 4, 5, false},
		{"past the end", 9990, 20, 6, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := make([]byte, tc.n)
			n, err := r.ReadAt(b, tc.off)
			if tc.eof != errors.Is(err, io.EOF) || (!tc.eof && err != nil) {
				t.Fatalf("err = %v", err)
			}
			end := min(tc.off+tc.n, int64(len(data)))
			if !bytes.Equal(b[:n], data[tc.off:end]) {
				t.Errorf("wrong bytes")
			}
			if got, _ := r.Requests(); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
		})
	}
	m.etag = "b"
	if _, err := r.ReadAt(make([]byte, 10), 8000); !errors.Is(err, ErrChanged) {
		t.Errorf("a changed file: %v", err)
	}
}
