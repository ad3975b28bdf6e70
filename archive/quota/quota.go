// Package quota tracks the space each Comune with a quota uses, for the
// archive service, which refuses uploads beyond it, and for the WebDAV
// adapter, which reports it (RFC 4331).
package quota

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
)

// Tracker tracks how much space each Comune with a quota uses. A full count
// walks the Comune's storage (one listing request per 1,000 objects), so it
// runs in the background (Run), at start and then every interval; between
// counts, the changes through this process adjust it.
type Tracker struct {
	fs       backends.Backend
	quotas   map[string]int64 // Comune id → quota in bytes
	interval time.Duration
	log      *slog.Logger

	mu   sync.Mutex
	used map[string]int64 // Comuni counted at least once
}

// New returns the tracker of the Comuni's quotas (Comune id → bytes) on fs.
func New(fs backends.Backend, quotas map[string]int64, interval time.Duration, log *slog.Logger) *Tracker {
	return &Tracker{fs: fs, quotas: quotas, interval: interval, log: log, used: map[string]int64{}}
}

// Quota returns the bytes used and still available where p lies; ok is
// false where no quota applies or the usage is not counted yet.
func (u *Tracker) Quota(p string) (used, available int64, ok bool) {
	c, _ := access.SplitComune(p)
	q, has := u.quotas[c]
	if !has {
		return 0, 0, false
	}
	u.mu.Lock()
	used, ok = u.used[c]
	u.mu.Unlock()
	return used, max(q-used, 0), ok
}

// Add adjusts the usage of p's Comune after a change of delta bytes.
func (u *Tracker) Add(p string, delta int64) {
	c, _ := access.SplitComune(p)
	u.mu.Lock()
	if n, ok := u.used[c]; ok {
		u.used[c] = max(n+delta, 0)
	}
	u.mu.Unlock()
}

// Run counts every Comune's usage at once and then every interval, until
// ctx ends.
func (u *Tracker) Run(ctx context.Context) {
	if len(u.quotas) == 0 {
		return
	}
	t := time.NewTicker(u.interval)
	defer t.Stop()
	for {
		for c := range u.quotas {
			n, err := u.count(ctx, c)
			if err != nil {
				if ctx.Err() == nil {
					u.log.Error("quota: count usage", "comune", c, "err", err)
				}
				continue
			}
			u.mu.Lock()
			u.used[c] = n
			u.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (u *Tracker) count(ctx context.Context, comune string) (int64, error) {
	var total int64
	for e, err := range backends.All(ctx, u.fs, comune, backends.ListOptions{Recursive: true}) {
		if err != nil {
			return 0, err
		}
		total += e.Size
	}
	return total, nil
}
