// Package archive owns the operations on the archive — read, list, write a
// file, make a folder, copy, move, delete, lock — for one person at a time,
// so that every way in (WebDAV, the pages, the command line, the importer)
// goes through the same steps in the same order:
//
//  1. the path, already normalized by the protocol adapter (a namespace
//     path: cleaned, composed, within the backends' limits);
//  2. the authorization decision (auth/access), for each path the
//     operation touches;
//  3. the caller's own preconditions (WebDAV's If header, HTTP's If-Match),
//     then the locks that cover what changes;
//  4. the storage call, told what the steps before found (the parent
//     folder, no folder in the way, the source's entry), so that the
//     storage does not look for it again;
//  5. the after-effects: dead properties and locks that follow the
//     resource, the quota, and the hooks told of every change.
//
// Operations return typed errors (errors.go); Status maps them to HTTP
// statuses for every adapter. Reads check only steps 1 and 2; listings
// keep what the person may see; dead properties change as any change does.
package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// Policy decides what the person may do where (see auth/access).
type Policy interface {
	Decide(a access.Action, path string) access.Verdict
}

// Store is what the operations need of the state store: the locks that
// guard a change and those people take, and the dead properties, digests
// and locks that follow a resource when it moves or goes.
type Store interface {
	Locks(ctx context.Context, p string, tree bool, now time.Time) ([]state.Lock, error)
	CreateLock(ctx context.Context, l state.Lock) error
	RefreshLock(ctx context.Context, token string, timeout time.Duration, now time.Time) (state.Lock, error)
	Lock(ctx context.Context, token string) (state.Lock, error)
	DeleteLock(ctx context.Context, token string) error
	PatchProps(ctx context.Context, p string, set []state.Prop, remove []state.PropName) error
	CopyProps(ctx context.Context, src, dst string) error
	MoveProps(ctx context.Context, src, dst string) error
	DeleteProps(ctx context.Context, p string) error
	DeleteLocks(ctx context.Context, p string) error
	// The closed dossiers, which no change may touch.
	ClosedDossiers(ctx context.Context, p string, below bool) ([]state.ClosedDossier, error)
	// The dead properties of many paths, for what the recycle bin keeps.
	PropsOf(ctx context.Context, paths []string) (map[string][]state.Prop, error)
	// The recycle bin and the versions (trash.go).
	state.TrashStore
	// Digests of files (digest.go).
	PutDigests(ctx context.Context, ds []state.Digest) error
	DigestsOf(ctx context.Context, paths []string) (map[string]state.Digest, error)
	MoveDigests(ctx context.Context, src, dst string) error
	DeleteDigests(ctx context.Context, p string) error
}

// Quota reports and tracks the space a path's Comune may use.
type Quota interface {
	// Quota returns the bytes used and still available where p lies; ok is
	// false where no quota applies or the usage is not known yet.
	Quota(p string) (used, available int64, ok bool)
	// Add adjusts the usage after a write changed it by delta bytes.
	Add(p string, delta int64)
}

// Options configure a Service; nil fields do nothing.
type Options struct {
	Quota Quota
	// OnUpload is told when a file's content starts streaming (+1) and
	// when it ends (-1).
	OnUpload func(delta int)
	// Changed is told of every change made, once it is made: p, and with
	// tree everything below it too. Caches of lookups forget what they
	// knew of it.
	Changed func(p string, tree bool)
	// Trash configures the recycle bin and the versions (trash.go).
	Trash TrashOptions
	// Closing configures how the storage keeps a closed dossier (dossier.go).
	Closing ClosingOptions
	// Catalogue follows the changes for the dossier catalogue; nil: none.
	Catalogue Cataloguer
	Log       *slog.Logger
}

// Service runs the operations on one archive: the namespace backend with
// every Comune, and the state store.
type Service struct {
	fs      backends.Backend
	store   Store
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	bufs    chan []byte // copy buffers of uploads, kept for the next one
	folders *folders    // the folders seen to exist lately (folders.go)
}

// New returns the service of fs and store.
func New(fs backends.Backend, store Store, opts Options) *Service {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	opts.Trash = opts.Trash.withDefaults()
	return &Service{fs: fs, store: store, opts: opts, log: log, now: time.Now, bufs: make(chan []byte, 16), folders: newFolders()}
}

// Caller is who asks for an operation, and what they bring to it.
type Caller struct {
	// Principal names the account: locks record it, and only their owner
	// may use their token.
	Principal string
	// Name is how records name the person (the recycle bin's "deleted
	// by"); Principal when empty. From is the way in and the address.
	Name, From string
	Policy     Policy
	// Tokens are the lock tokens the request submitted.
	Tokens map[string]bool
	// Check evaluates the protocol's own preconditions on the request's
	// resource (WebDAV's If header, HTTP's If-Match), before the locks are.
	// It may call the Op's lookups. Nil: none.
	Check func() error
}

// Op is one request's run of operations: its caller, and the lookups it
// made, each made once for the request (its preconditions included) and
// forgotten when the request changes the storage. Not safe for concurrent
// use, but for its own lookups, which an operation may make at once.
type Op struct {
	s      *Service
	ctx    context.Context
	c      Caller
	mu     sync.Mutex // guards the lookups
	stats  map[string]statResult
	sights map[string]sight
	// propsChecked is the path whose property change PatchProps checked.
	propsChecked string
}

type statResult struct {
	e   backends.Entry
	err error
}

// Begin starts the operations of one request by c.
func (s *Service) Begin(ctx context.Context, c Caller) *Op {
	if c.Policy == nil {
		c.Policy = denyAll{}
	}
	return &Op{s: s, ctx: ctx, c: c, stats: map[string]statResult{}, sights: map[string]sight{}}
}

// denyAll is the policy of a caller that brought none.
type denyAll struct{}

func (denyAll) Decide(access.Action, string) access.Verdict { return access.Deny }

// Allow asks the policy about action a on namespace path p: nil, or an
// error that is ErrForbidden where the person may know that p exists and
// ErrNotFound where they may not.
func (o *Op) Allow(a access.Action, p string) error {
	switch o.c.Policy.Decide(a, p) {
	case access.Allow:
		return nil
	case access.Deny:
		return fmt.Errorf("%s %s: %w", a, p, ErrForbidden)
	default:
		return fmt.Errorf("%s %s: %w", a, p, errHidden)
	}
}

// Visible reports whether the person may see p listed.
func (o *Op) Visible(p string) bool {
	return o.c.Policy.Decide(access.Read, p) == access.Allow
}

// Stat looks up a namespace path, once per request. A folder found is
// remembered for the writes that follow (folders.go).
func (o *Op) Stat(p string) (backends.Entry, error) {
	o.mu.Lock()
	s, ok := o.stats[p]
	o.mu.Unlock()
	if ok {
		return s.e, s.err
	}
	e, err := o.s.fs.Stat(o.ctx, backendPath(p))
	o.mu.Lock()
	o.stats[p] = statResult{e, err}
	o.mu.Unlock()
	switch {
	case err != nil:
	case e.IsDir:
		o.s.folders.saw(p, o.s.now())
	default: // a file is in a folder
		o.s.folders.saw(parentOf(p), o.s.now())
	}
	return e, err
}

// listed remembers that the folder p was listed, and so exists: the writes
// that follow may count on it (folders.go).
func (o *Op) listed(p string) { o.s.folders.saw(p, o.s.now()) }

// sight is what a writer learned of a path before writing there.
type sight struct {
	backends.Probe
	// noDir: no folder is at the path, for sure. A Probe's Dir is exact;
	// a Stat that finds a file need not have looked for a folder beside it.
	noDir bool
}

// look tells a writer what is at the namespace path p, once per request:
// one Probe where the storage has it (on S3 one listing finds the file, a
// folder there and the parent, where Stat and the write's own checks would
// cost up to four requests), the path's Stat otherwise, and for the paths
// that exist by configuration (the Comuni), which no write replaces. The
// file found stands as the path's Stat for the rest of the request; a
// parent folder seen is remembered.
func (o *Op) look(p string) (sight, error) {
	o.mu.Lock()
	s, ok := o.sights[p]
	o.mu.Unlock()
	if ok {
		return s, nil
	}
	pr, ok := o.s.fs.(backends.Prober)
	ok = ok && !o.pinned(p)
	bp := backendPath(p)
	if ok {
		got, err := pr.Probe(o.ctx, bp)
		// A Comune that is not there: the write says what that is.
		if err != nil && !errors.Is(err, backends.ErrNotFound) {
			return sight{}, err
		}
		s = sight{Probe: got, noDir: !got.Dir}
		o.mu.Lock()
		switch {
		case got.File != nil:
			o.stats[p] = statResult{e: *got.File}
		case !got.Dir:
			o.stats[p] = statResult{err: &fs.PathError{Op: "stat", Path: bp, Err: backends.ErrNotFound}}
		}
		o.mu.Unlock()
	} else {
		e, err := o.Stat(p)
		switch {
		case errors.Is(err, backends.ErrNotFound):
			s.noDir = true
		case err != nil:
			return sight{}, err
		case e.IsDir:
			s.Dir, s.Parent = true, true
		default:
			s.File, s.Parent = &e, true
		}
	}
	if s.Parent {
		o.s.folders.saw(parentOf(p), o.s.now())
	}
	o.mu.Lock()
	o.sights[p] = s
	o.mu.Unlock()
	return s, nil
}

// pinned reports whether the namespace path p exists by configuration.
func (o *Op) pinned(p string) bool {
	pn, ok := o.s.fs.(backends.Pinner)
	return ok && pn.Pinned(backendPath(p))
}

// parentKnown reports whether the folder that holds p is known to exist:
// seen by this request's look at p, or lately by the service.
func (o *Op) parentKnown(p string, s sight) bool {
	return s.Parent || o.s.folders.known(parentOf(p), o.s.now())
}

// forget drops the lookups after the request changed storage.
func (o *Op) forget() {
	o.mu.Lock()
	defer o.mu.Unlock()
	clear(o.stats)
	clear(o.sights)
}

// Changed runs the after-effects every change shares, for a change an
// adapter made itself: the empty file of a WebDAV LOCK on an unmapped URL,
// until locking moves here.
func (o *Op) Changed(p string, tree bool) { o.changed(p, tree) }

// changed runs the after-effects every change shares.
func (o *Op) changed(p string, tree bool) {
	o.forget()
	o.s.folders.forget(p, tree)
	if o.s.opts.Changed != nil {
		o.s.opts.Changed(p, tree)
	}
}

// Target is a resource an operation is about to change.
type Target struct {
	Path string
	// Tree: the change reaches every descendant (DELETE, MOVE, overwrite).
	Tree bool
	// Member: the change adds or removes Path from its parent's members,
	// which a lock on the parent protects even at depth 0.
	Member bool
}

// CheckWrite runs the caller's preconditions, then enforces the locks
// covering the targets. Preconditions come first: a request whose If
// header is false learns that (412) even where a lock it did not submit
// also stands in its way (423).
func (o *Op) CheckWrite(targets ...Target) error {
	if o.c.Check != nil {
		if err := o.c.Check(); err != nil {
			return err
		}
	}
	if err := o.checkClosed(targets...); err != nil {
		return err
	}
	return o.checkLocks(targets...)
}

// checkClosed refuses a change inside a closed dossier, and a change of a
// tree that holds one (a folder's move or delete).
func (o *Op) checkClosed(targets ...Target) error {
	for _, t := range targets {
		closed, err := o.s.store.ClosedDossiers(o.ctx, t.Path, t.Tree)
		if err != nil {
			return err
		}
		if len(closed) > 0 {
			return &ClosedError{closed[0]}
		}
	}
	return nil
}

// checkLocks enforces the locks covering the targets.
func (o *Op) checkLocks(targets ...Target) error {
	now := o.s.now()
	for _, t := range targets {
		locks, err := o.s.store.Locks(o.ctx, t.Path, t.Tree, now)
		if err != nil {
			return err
		}
		for _, l := range locks {
			applies := l.Covers(t.Path) ||
				(t.Tree && state.IsAncestor(t.Path, l.Root)) ||
				(t.Member && l.Root == parentOf(t.Path))
			if applies && !o.Holds(l) {
				return &LockedError{Root: l.Root, Owner: l.Principal}
			}
		}
	}
	return nil
}

// Holds reports whether the caller submitted the token of l and may use it.
func (o *Op) Holds(l state.Lock) bool {
	return o.c.Tokens[l.Token] && l.Principal == o.c.Principal
}

// buffer returns a copy buffer for an upload; put gives it back.
func (s *Service) buffer() []byte {
	select {
	case b := <-s.bufs:
		return b
	default:
		return make([]byte, 256<<10)
	}
}

func (s *Service) put(b []byte) {
	select {
	case s.bufs <- b:
	default:
	}
}

// bodyReader remembers why a body could not be read, which tells a client
// that sent too little from a storage that took too little.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// backendPath converts a namespace path to the backend's relative form.
func backendPath(p string) string { return strings.TrimPrefix(p, "/") }

// namespacePath converts a backend path to a namespace path.
func namespacePath(bp string) string { return "/" + bp }

// parentOf returns the parent of a namespace path; the root is its own parent.
func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// isWithin reports whether p is a or below a.
func isWithin(p, a string) bool {
	return p == a || a == "/" || strings.HasPrefix(p, a+"/")
}
