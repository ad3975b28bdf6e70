package render

import (
	"cmp"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Cache keeps rendered pages on disk, up to a total size, dropping the
// least recently used first. A file is named by the hash of its key, so
// that nothing of a path of the archive appears on the host. Its index is
// in memory, rebuilt from the folder (oldest modification first) when the
// process starts.
type Cache struct {
	dir string
	max int64

	mu    sync.Mutex
	lru   *list.List // of *cached, the most recently used first
	items map[string]*list.Element
	total int64
}

type cached struct {
	name string // file name in dir
	size int64
}

// extensions are the kinds of file the cache holds, by file extension:
// images, and the layouts of TIFFs walked (see storeLayout).
var extensions = map[string]string{".jpg": "image/jpeg", ".png": "image/png", ".idx": "application/octet-stream"}

// OpenCache opens (making it when missing) the cache in dir, of at most
// max bytes.
func OpenCache(dir string, max int64) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("render: make the cache folder: %w", err)
	}
	c := &Cache{dir: dir, max: max, lru: list.New(), items: map[string]*list.Element{}}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("render: read the cache folder: %w", err)
	}
	type found struct {
		cached
		mod int64
	}
	var all []found
	for _, de := range des {
		if _, ok := extensions[filepath.Ext(de.Name())]; !ok || !de.Type().IsRegular() {
			continue
		}
		fi, err := de.Info()
		if err != nil {
			continue
		}
		all = append(all, found{cached{de.Name(), fi.Size()}, fi.ModTime().UnixNano()})
	}
	slices.SortFunc(all, func(a, b found) int { return cmp.Compare(b.mod, a.mod) })
	for _, f := range all {
		c.items[strings.TrimSuffix(f.name, filepath.Ext(f.name))] = c.lru.PushBack(&f.cached)
		c.total += f.size
	}
	c.mu.Lock()
	c.evict()
	c.mu.Unlock()
	return c, nil
}

// hashed is the name of key's file, without its extension.
func hashed(key string) string {
	s := sha256.Sum256([]byte(key))
	return hex.EncodeToString(s[:16])
}

// Get opens the image kept for key, with its content type.
func (c *Cache) Get(key string) (*os.File, string, bool) {
	h := hashed(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[h]
	if !ok {
		return nil, "", false
	}
	it := e.Value.(*cached)
	// Opened under the lock: an eviction cannot remove the file between
	// the lookup and the open (and once open, a removal does not hurt).
	f, err := os.Open(filepath.Join(c.dir, it.name))
	if err != nil {
		c.remove(e)
		return nil, "", false
	}
	c.lru.MoveToFront(e)
	return f, extensions[filepath.Ext(it.name)], true
}

// Put moves the file at tmp, an image of the kind of ext, into the cache
// as key's, and drops the least recently used past the size.
func (c *Cache) Put(key, tmp, ext string) error {
	fi, err := os.Stat(tmp)
	if err != nil {
		return err
	}
	h := hashed(key)
	name := h + ext
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := os.Rename(tmp, filepath.Join(c.dir, name)); err != nil {
		return fmt.Errorf("render: keep a page: %w", err)
	}
	if e, ok := c.items[h]; ok {
		old := e.Value.(*cached)
		c.total -= old.size
		if old.name != name {
			os.Remove(filepath.Join(c.dir, old.name))
		}
		old.name, old.size = name, fi.Size()
		c.total += old.size
		c.lru.MoveToFront(e)
	} else {
		c.items[h] = c.lru.PushFront(&cached{name, fi.Size()})
		c.total += fi.Size()
	}
	c.evict()
	return nil
}

// Size is the bytes the cache holds.
func (c *Cache) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// evict drops the least recently used files past the size, keeping the
// newest even when it alone is larger.
func (c *Cache) evict() {
	for c.total > c.max && c.lru.Len() > 1 {
		c.remove(c.lru.Back())
	}
}

func (c *Cache) remove(e *list.Element) {
	it := c.lru.Remove(e).(*cached)
	delete(c.items, strings.TrimSuffix(it.name, filepath.Ext(it.name)))
	c.total -= it.size
	os.Remove(filepath.Join(c.dir, it.name))
}
