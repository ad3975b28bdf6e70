package catalogue

import (
	"context"
	"io"
	"log/slog"
	"path"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// The words inside the documents: every write, move and delete queues
// the file (or the folder) in the state store, and an Indexer on any
// replica takes the jobs, reads the files, extracts their text and indexes
// it. A job a replica took and never finished (it stopped) is taken again
// once stale.

// IndexStore is what the indexer needs of the state store.
type IndexStore interface {
	TakeIndexJobs(ctx context.Context, holder string, n int, now, stale time.Time) ([]state.IndexJob, error)
	FinishIndexJob(ctx context.Context, p string, failed bool) error
	QueueIndex(ctx context.Context, paths []string, now time.Time) error
	PutFileText(ctx context.Context, t state.FileText) error
	DeleteFileText(ctx context.Context, p string) error
}

// Files reads the archive for the indexer, past every person's rights.
type Files interface {
	// Stat describes p: a folder, or a file in its version etag; an error
	// that NotFound tells when nothing is there.
	Stat(ctx context.Context, p string) (isDir bool, etag string, err error)
	Open(ctx context.Context, p string) (io.ReadCloser, error)
	// Files calls fn with every file below the folder p.
	Files(ctx context.Context, p string, fn func(p string) error) error
	NotFound(err error) bool
}

// Extractor extracts the text of a file.
type Extractor interface {
	Text(ctx context.Context, name string, r io.Reader) (string, error)
}

// IndexerOptions configure an Indexer.
type IndexerOptions struct {
	Holder    string               // names this replica in the jobs it takes
	Batch     int                  // jobs taken at once (default 8)
	Poll      time.Duration        // the wait when there is no job (default 2 s)
	Stale     time.Duration        // a job taken this long ago is taken again (default 10 min)
	Supported func(string) bool    // whether a file's name has text to extract
	NoText    func(err error) bool // whether an extractor's error means the file has none (a scan, a format without text)
	Log       *slog.Logger
	Now       func() time.Time
}

// Indexer works the queue of the text index.
type Indexer struct {
	store IndexStore
	files Files
	x     Extractor
	rule  Rule
	opts  IndexerOptions
	log   *slog.Logger
}

// NewIndexer returns an indexer of the archive's files into store.
func NewIndexer(store IndexStore, files Files, x Extractor, rule Rule, opts IndexerOptions) *Indexer {
	if opts.Batch <= 0 {
		opts.Batch = 8
	}
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	if opts.Stale <= 0 {
		opts.Stale = 10 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Supported == nil {
		opts.Supported = func(string) bool { return true }
	}
	if opts.NoText == nil {
		opts.NoText = func(error) bool { return false }
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Indexer{store: store, files: files, x: x, rule: rule, opts: opts, log: log}
}

// Run works the queue until ctx is done.
func (x *Indexer) Run(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := x.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			x.log.Error("text index: jobs", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(x.opts.Poll):
		}
	}
}

// RunOnce takes one batch of jobs and works them; it returns how many it
// took.
func (x *Indexer) RunOnce(ctx context.Context) (int, error) {
	now := x.opts.Now()
	jobs, err := x.store.TakeIndexJobs(ctx, x.opts.Holder, x.opts.Batch, now, now.Add(-x.opts.Stale))
	if err != nil {
		return 0, err
	}
	for _, j := range jobs {
		err := x.index(ctx, j.Path)
		if err != nil && ctx.Err() == nil {
			x.log.Warn("text index: a file not indexed", "path", j.Path, "attempt", j.Attempt+1, "err", err)
		}
		if ferr := x.store.FinishIndexJob(ctx, j.Path, err != nil); ferr != nil {
			return len(jobs), ferr
		}
	}
	return len(jobs), nil
}

// index indexes the file p, the files below the folder p, or drops the
// text of what is no longer there.
func (x *Indexer) index(ctx context.Context, p string) error {
	isDir, etag, err := x.files.Stat(ctx, p)
	if x.files.NotFound(err) {
		return x.store.DeleteFileText(ctx, p)
	}
	if err != nil {
		return err
	}
	if isDir {
		var below []string
		err := x.files.Files(ctx, p, func(fp string) error {
			if x.rule.Inside(fp) && x.opts.Supported(path.Base(fp)) {
				below = append(below, fp)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return x.store.QueueIndex(ctx, below, x.opts.Now().UTC())
	}
	dossier, ok := x.rule.DossierOf(p)
	if !ok || !x.rule.Inside(p) || !x.opts.Supported(path.Base(p)) {
		return x.store.DeleteFileText(ctx, p)
	}
	body, err := x.files.Open(ctx, p)
	if x.files.NotFound(err) {
		return x.store.DeleteFileText(ctx, p)
	}
	if err != nil {
		return err
	}
	defer body.Close()
	text, err := x.x.Text(ctx, path.Base(p), body)
	switch {
	case x.opts.NoText(err):
		// Found by its dossier, not by words it does not have.
		return x.store.DeleteFileText(ctx, p)
	case err != nil:
		return err
	}
	return x.store.PutFileText(ctx, state.FileText{Path: p, Dossier: dossier, ETag: etag, Text: text})
}
