package archive

import (
	"strings"
	"sync"
	"time"
)

// folderMemory is how long the service remembers a folder it saw exist.
// Within it, a file written into the folder is handed to the storage as
// one whose parent exists, which on S3 spares a listing per write (a batch
// of files dropped into a folder, each save of a drawing). A change made
// through this process forgets what it may have removed at once; a folder
// removed through another replica, or by another tool on the bucket, can
// still receive a file here for at most this long, which makes it a folder
// again, as a write that came just before the removal would have found it.
const folderMemory = 10 * time.Second

// maxFolders bounds what the memory holds; beyond, it starts afresh.
const maxFolders = 4096

// folders remembers the folders that this process saw exist in the last
// folderMemory, by namespace path. Safe for concurrent use.
type folders struct {
	mu   sync.Mutex
	seen map[string]time.Time // until when each is known
}

func newFolders() *folders { return &folders{seen: map[string]time.Time{}} }

// saw records that the folder p exists at now.
func (f *folders) saw(p string, now time.Time) {
	if p == "/" {
		return // always there
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.seen) >= maxFolders {
		clear(f.seen)
	}
	f.seen[p] = now.Add(folderMemory)
}

// known reports whether the folder p was seen to exist less than
// folderMemory before now.
func (f *folders) known(p string, now time.Time) bool {
	if p == "/" {
		return true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	until, ok := f.seen[p]
	if ok && !now.Before(until) {
		delete(f.seen, p)
		return false
	}
	return ok
}

// forget drops what a change at p may have made untrue: p itself, with
// tree everything below it, and p's parent, which a removal may have left
// empty, and so gone on object storage when it had no marker.
func (f *folders) forget(p string, tree bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p == "/" && tree {
		clear(f.seen)
		return
	}
	delete(f.seen, p)
	delete(f.seen, parentOf(p))
	if !tree || len(f.seen) == 0 {
		return
	}
	for q := range f.seen {
		if strings.HasPrefix(q, p+"/") {
			delete(f.seen, q)
		}
	}
}
