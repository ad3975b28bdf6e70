package dav

import (
	"path"
	"strings"
	"sync"
	"time"
)

// stormNames are files that macOS and Windows look for again and again in
// every folder they show, and that mostly do not exist. Names starting with
// "._" (AppleDouble) are looked for beside every file.
var stormNames = map[string]bool{
	".DS_Store": true, ".Spotlight-V100": true, ".Trashes": true, ".fseventsd": true, ".hidden": true,
	"Backups.backupdb": true, ".metadata_never_index": true, ".ql_disablethumbnails": true,
	"desktop.ini": true, "Desktop.ini": true, "Thumbs.db": true, "folder.jpg": true, "folder.gif": true, "Autorun.inf": true,
}

func isStormName(p string) bool {
	b := path.Base(p)
	return stormNames[b] || strings.HasPrefix(b, "._")
}

// negCache remembers, for a short time, that such a file does not exist,
// so that the lookups of a folder view cost no storage request. A write
// through this process forgets the entry at once; one through another
// replica is seen at most ttl later.
type negCache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	missing map[string]time.Time // namespace path → until
}

func newNegCache(ttl time.Duration) *negCache {
	return &negCache{ttl: ttl, max: 100000, missing: map[string]time.Time{}}
}

// known reports whether p was found missing less than ttl ago.
func (c *negCache) known(p string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	until, ok := c.missing[p]
	if ok && now.After(until) {
		delete(c.missing, p)
		return false
	}
	return ok
}

func (c *negCache) add(p string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.missing) >= c.max {
		clear(c.missing)
	}
	c.missing[p] = now.Add(c.ttl)
}

// forget drops p, and with tree everything below it: a COPY or MOVE may
// bring a whole folder of such files. Only that case scans the cache.
func (c *negCache) forget(p string, tree bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.missing, p)
	if !tree || len(c.missing) == 0 {
		return
	}
	for k := range c.missing {
		if isWithin(k, p) {
			delete(c.missing, k)
		}
	}
}
