// Package ranged reads a file of the archive as an io.ReaderAt, through
// ranged reads of the storage (a GET with a Range on S3), keeping the last
// few blocks read: walking a TIFF's directories reads a few bytes here and
// there, and each block costs one request instead of one a field.
package ranged

import (
	"container/list"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/bassareggiana/faldone/backends"
)

// ErrChanged: the file changed while it was being read (its ETag is not
// the one it had when the reader was made).
var ErrChanged = errors.New("ranged: the file changed while it was read")

// Opener opens a range of the file at p: archive.Op's Open.
type Opener interface {
	Open(p string, r *backends.Range) (*backends.Object, error)
}

// Reader reads the file at one path. It is safe for concurrent use.
type Reader struct {
	open      Opener
	path      string
	size      int64
	etag      string
	block     int64
	maxBlocks int
	requests  atomic.Int64
	bytes     atomic.Int64

	mu     sync.Mutex
	lru    *list.List // of *block, the most recently used first
	blocks map[int64]*list.Element
}

type block struct {
	index int64
	data  []byte
}

// Options shape a Reader; the zero value is 64 KiB blocks, 16 kept.
type Options struct {
	Block     int64 // bytes of a block
	MaxBlocks int   // blocks kept
}

// New returns a reader of the file at p of size bytes whose ETag is etag
// ("" when the storage gives none: then a change goes unnoticed).
func New(open Opener, p string, size int64, etag string, o Options) *Reader {
	if o.Block <= 0 {
		o.Block = 64 << 10
	}
	if o.MaxBlocks <= 0 {
		o.MaxBlocks = 16
	}
	return &Reader{open: open, path: p, size: size, etag: etag, block: o.Block, maxBlocks: o.MaxBlocks,
		lru: list.New(), blocks: map[int64]*list.Element{}}
}

// Size is the size of the file.
func (r *Reader) Size() int64 { return r.size }

// Requests is the number of ranged reads made so far, and the bytes they
// brought.
func (r *Reader) Requests() (n, bytes int64) { return r.requests.Load(), r.bytes.Load() }

// ReadAt reads len(b) bytes at off. A read of a block or more goes to the
// storage as it is (one request, nothing kept); a smaller one is served
// from the blocks it falls in.
func (r *Reader) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("ranged: negative offset %d", off)
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := len(b)
	if rest := r.size - off; int64(want) > rest {
		b = b[:rest]
	}
	if int64(len(b)) >= r.block {
		if err := r.fetch(b, off); err != nil {
			return 0, err
		}
	} else {
		for n := 0; n < len(b); {
			at := off + int64(n)
			blk, err := r.blockAt(at / r.block)
			if err != nil {
				return n, err
			}
			n += copy(b[n:], blk[at%r.block:])
		}
	}
	if len(b) < want {
		return len(b), io.EOF
	}
	return len(b), nil
}

// blockAt returns block i, read now or kept from before. Two readers of
// the same missing block may both read it: the cost of a rare duplicate
// is lower than that of a lock held across a request.
func (r *Reader) blockAt(i int64) ([]byte, error) {
	r.mu.Lock()
	if e, ok := r.blocks[i]; ok {
		r.lru.MoveToFront(e)
		r.mu.Unlock()
		return e.Value.(*block).data, nil
	}
	r.mu.Unlock()
	start := i * r.block
	data := make([]byte, min(r.block, r.size-start))
	if err := r.fetch(data, start); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.blocks[i]; !ok {
		r.blocks[i] = r.lru.PushFront(&block{i, data})
		for r.lru.Len() > r.maxBlocks {
			old := r.lru.Remove(r.lru.Back()).(*block)
			delete(r.blocks, old.index)
		}
	}
	return data, nil
}

// fetch fills b from off with one ranged read.
func (r *Reader) fetch(b []byte, off int64) error {
	r.requests.Add(1)
	obj, err := r.open.Open(r.path, &backends.Range{Start: off, Length: int64(len(b))})
	if err != nil {
		return fmt.Errorf("ranged: open %d bytes at %d: %w", len(b), off, err)
	}
	defer obj.Body.Close()
	if r.etag != "" && obj.ETag != "" && obj.ETag != r.etag {
		return ErrChanged
	}
	n, err := io.ReadFull(obj.Body, b)
	r.bytes.Add(int64(n))
	if err != nil {
		return fmt.Errorf("ranged: read %d bytes at %d: %w", len(b), off, err)
	}
	return nil
}
