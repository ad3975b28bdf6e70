package dav

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"testing"
	"testing/iotest"
)

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, errors.New("client gone")
	}
	w.after--
	return len(p), nil
}

func TestCopyPipelined(t *testing.T) {
	data := make([]byte, 3<<20+12345)
	rand.New(rand.NewSource(1)).Read(data)
	bufs := func() [][]byte { return [][]byte{make([]byte, 64<<10), make([]byte, 64<<10)} }
	tests := []struct {
		name string
		src  io.Reader
	}{
		{"whole", bytes.NewReader(data)},
		{"one byte at a time", iotest.OneByteReader(bytes.NewReader(data[:200000]))},
		{"empty", bytes.NewReader(nil)},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		n, err := copyPipelined(&out, tt.src, bufs())
		want := data
		if tt.name == "one byte at a time" {
			want = data[:200000]
		}
		if tt.name == "empty" {
			want = nil
		}
		if err != nil || n != int64(len(want)) || !bytes.Equal(out.Bytes(), want) {
			t.Errorf("%s: %d bytes, %v", tt.name, n, err)
		}
	}
	if _, err := copyPipelined(io.Discard, iotest.ErrReader(errors.New("storage gone")), bufs()); err == nil {
		t.Error("a read error was lost")
	}
	if _, err := copyPipelined(&failWriter{after: 3}, bytes.NewReader(data), bufs()); err == nil || err.Error() != "client gone" {
		t.Errorf("a write error: %v", err)
	}
}
