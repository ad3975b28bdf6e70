package quota

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/backends/local"
)

// TestTracker: a Comune's usage is unknown until counted, then counted
// whole, adjusted by changes, never below zero; a Comune without a quota
// has none.
func TestTracker(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "guastalla", "2019"), 0o755)
	os.WriteFile(filepath.Join(root, "guastalla", "2019", "a.pdf"), make([]byte, 30), 0o644)
	os.WriteFile(filepath.Join(root, "guastalla", "b.pdf"), make([]byte, 10), 0o644)
	fs, err := local.New(root)
	if err != nil {
		t.Fatal(err)
	}
	tr := New(fs, map[string]int64{"guastalla": 100}, time.Hour, slog.New(slog.DiscardHandler))
	if _, _, ok := tr.Quota("/guastalla/x"); ok {
		t.Error("usage known before it was counted")
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { tr.Run(ctx); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, _, ok := tr.Quota("/guastalla"); ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	for _, tt := range []struct {
		delta       int64
		used, avail int64
	}{
		{0, 40, 60},
		{25, 65, 35},
		{50, 115, 0},
		{-200, 0, 100},
	} {
		tr.Add("/guastalla/2019/c.pdf", tt.delta)
		if used, avail, ok := tr.Quota("/guastalla/2019"); !ok || used != tt.used || avail != tt.avail {
			t.Errorf("after %+d: used %d, available %d, %v; want %d, %d", tt.delta, used, avail, ok, tt.used, tt.avail)
		}
	}
	if _, _, ok := tr.Quota("/luzzara/x"); ok {
		t.Error("a Comune without a quota has one")
	}
}
