package render

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// copies are the local copies of files that a tool must read from disk
// (PDFs, images): made once, shared by the renders of their pages, kept
// for ttl after their last use while they fit in max bytes together.
type copies struct {
	dir string
	max int64
	ttl time.Duration

	mu    sync.Mutex
	m     map[string]*localCopy
	total int64
}

type localCopy struct {
	path  string
	size  int64
	refs  int
	used  time.Time
	ready chan struct{}
	err   error
}

func newCopies(dir string, max int64, ttl time.Duration) *copies {
	return &copies{dir: dir, max: max, ttl: ttl, m: map[string]*localCopy{}}
}

// has reports whether a local copy of src is ready.
func (c *copies) has(src Source) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	lc, ok := c.m[src.Path+"\x00"+src.Version]
	if !ok {
		return false
	}
	select {
	case <-lc.ready:
		return lc.err == nil
	default:
		return false
	}
}

// copyChunk is the size of one read of a file being copied: a ranged
// request each.
const copyChunk = 8 << 20

// get returns the path of a local copy of src, made now or before, and a
// function to call when done with it. A file larger than limit is not
// copied.
func (c *copies) get(ctx context.Context, src Source, limit int64) (string, func(), error) {
	if src.Size > limit {
		return "", nil, fmt.Errorf("%w: %d bytes, past the limit of %d", ErrTooLarge, src.Size, limit)
	}
	key := src.Path + "\x00" + src.Version
	c.mu.Lock()
	lc, ok := c.m[key]
	if ok {
		lc.refs++
		c.mu.Unlock()
		select {
		case <-lc.ready:
		case <-ctx.Done():
			c.release(key, lc)
			return "", nil, ctx.Err()
		}
		if lc.err != nil {
			c.release(key, lc)
			return "", nil, lc.err
		}
		return lc.path, func() { c.release(key, lc) }, nil
	}
	lc = &localCopy{refs: 1, size: src.Size, ready: make(chan struct{})}
	c.m[key] = lc
	c.total += src.Size
	c.sweepLocked()
	c.mu.Unlock()
	lc.path, lc.err = c.fetch(ctx, src)
	close(lc.ready)
	if lc.err != nil {
		c.mu.Lock()
		if c.m[key] == lc {
			delete(c.m, key)
			c.total -= lc.size
		}
		c.mu.Unlock()
		return "", nil, lc.err
	}
	return lc.path, func() { c.release(key, lc) }, nil
}

// fetch copies src to a new file, in large ranged reads.
func (c *copies) fetch(ctx context.Context, src Source) (string, error) {
	f, err := os.CreateTemp(c.dir, "copy-*"+filepath.Ext(src.Path))
	if err != nil {
		return "", fmt.Errorf("render: local copy: %w", err)
	}
	buf := make([]byte, min(copyChunk, max(src.Size, 1)))
	for off := int64(0); off < src.Size; {
		if err := ctx.Err(); err != nil {
			f.Close()
			os.Remove(f.Name())
			return "", err
		}
		b := buf[:min(int64(len(buf)), src.Size-off)]
		n, err := src.Data.ReadAt(b, off)
		if n < len(b) {
			if err == nil || err == io.EOF {
				err = fmt.Errorf("%w: the file is shorter than its size", ErrDamaged)
			}
			f.Close()
			os.Remove(f.Name())
			return "", err
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			os.Remove(f.Name())
			return "", fmt.Errorf("render: local copy: %w", err)
		}
		off += int64(n)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("render: local copy: %w", err)
	}
	return f.Name(), nil
}

func (c *copies) release(key string, lc *localCopy) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lc.refs--
	lc.used = time.Now()
	c.sweepLocked()
	time.AfterFunc(c.ttl+time.Second, c.sweep)
}

func (c *copies) sweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweepLocked()
}

// sweepLocked removes the copies no one uses that are older than ttl, and
// then, oldest first, those past the total size.
func (c *copies) sweepLocked() {
	now := time.Now()
	for {
		var oldestKey string
		var oldest *localCopy
		for k, lc := range c.m {
			if lc.refs > 0 {
				continue
			}
			if now.Sub(lc.used) > c.ttl {
				c.drop(k, lc)
				continue
			}
			if oldest == nil || lc.used.Before(oldest.used) {
				oldestKey, oldest = k, lc
			}
		}
		if c.total <= c.max || oldest == nil {
			return
		}
		c.drop(oldestKey, oldest)
	}
}

func (c *copies) drop(key string, lc *localCopy) {
	delete(c.m, key)
	c.total -= lc.size
	os.Remove(lc.path)
}
