package gateway

import (
	"log/slog"
	"path/filepath"

	"github.com/bassareggiana/faldone/gateway/config"
	"github.com/bassareggiana/faldone/gateway/web"
	"github.com/bassareggiana/faldone/scan/render"
)

// Previews is the renderer of the pages' previews, or nil when they are
// off: by the configuration, or because a tool they need is missing —
// the archive serves without them, and the log says why.
func Previews(cfg config.Config, log *slog.Logger) web.Previews {
	p := cfg.Previews
	if p.Disabled {
		return nil
	}
	dir := p.CacheDir
	if dir == "" {
		dir = filepath.Join(cfg.DataDir, "previews")
	}
	r, err := render.New(render.Config{Dir: dir, CacheSize: p.CacheSizeBytes, MaxFileSize: p.MaxFileSizeBytes,
		MaxThumbnailCopy: p.ThumbnailMaxCopyBytes,
		Concurrency:      p.Concurrency, Timeout: p.Timeout, Memory: p.MemoryBytes, Log: log})
	if err != nil {
		log.Error("previews off", "err", err)
		return nil
	}
	log.Info("previews on", "cache_dir", dir, "cache_size", p.CacheSizeBytes, "concurrency", p.Concurrency)
	return r
}
