package sqlite

import (
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestTakeLeaseAcrossStores has two stores on one file, as two processes on
// one host would be, race for one lease, new and then expired: exactly one
// holder may get it each time.
func TestTakeLeaseAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	stores := []*Store{openClosed(t, path), openClosed(t, path)}
	now := time.Now()
	for round, at := range []time.Time{now, now.Add(time.Hour)} {
		const racers = 20
		var (
			wg   sync.WaitGroup
			wins atomic.Int32
		)
		start := make(chan struct{})
		for i := range racers {
			s := stores[i%len(stores)]
			holder := fmt.Sprintf("process-%d-%02d", round, i)
			wg.Go(func() {
				<-start
				ok, err := s.TakeLease(t.Context(), "scrub:guastalla", holder, time.Hour, at)
				if err != nil {
					t.Errorf("TakeLease by %s: %v", holder, err)
				}
				if ok {
					wins.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if got := wins.Load(); got != 1 {
			t.Errorf("round %d: %d holders got the lease, want exactly 1", round, got)
		}
	}
}
