package archive

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// Nothing is lost by a mistake: what a delete removes, and what a copy,
// a move or a write replaces, the storage keeps out of sight (a Keeper:
// bucket versioning, a hidden prefix, a hidden folder on the disk) for
// the retention, recorded in the state store with who, when, from where,
// its dead properties and its digests. A delete is an entry of the
// recycle bin; a replaced file's content is a version of the file.
//
// Save sequences replace a file without a write over it: Office deletes
// it and writes it anew, AutoCAD renames the drawing to name.bak and a
// temporary file to the drawing. A file written where, a moment before
// (TrashOptions.Window), a file was deleted or moved away makes that
// earlier content a version of the new one.

// TrashOptions configure the recycle bin and the versions.
type TrashOptions struct {
	// Off: deletes and overwrites are for good.
	Off bool
	// Retention: how long the recycle bin keeps an entry (default 90 days).
	Retention time.Duration
	// MaxVersions: how many versions a file keeps, the newest (default 20).
	MaxVersions int
	// VersionAge: how long a version is kept (default Retention).
	VersionAge time.Duration
	// Window: how soon a write must follow a delete or move of the same
	// path to make it a save (default 10 minutes).
	Window time.Duration
}

func (t TrashOptions) withDefaults() TrashOptions {
	if t.Retention <= 0 {
		t.Retention = 90 * 24 * time.Hour
	}
	if t.MaxVersions <= 0 {
		t.MaxVersions = 20
	}
	if t.VersionAge <= 0 {
		t.VersionAge = t.Retention
	}
	if t.Window <= 0 {
		t.Window = 10 * time.Minute
	}
	return t
}

// keepConcurrency is how many kept files a restore brings back at once.
const keepConcurrency = 8

// keeper is the storage's Keeper, nil when nothing is kept.
func (s *Service) keeper() backends.Keeper {
	if s.opts.Trash.Off {
		return nil
	}
	k, _ := s.fs.(backends.Keeper)
	return k
}

// newKeptID names a kept resource.
func newKeptID() string { return rand.Text() }

// by and from are how a record names the caller.
func (o *Op) by() string {
	if o.c.Name != "" {
		return o.c.Name
	}
	return o.c.Principal
}

// discard removes the file or folder e into the recycle bin, or for good
// when nothing keeps. Its dead properties, digests and locks go with it;
// the catalogue follows.
func (o *Op) discard(e backends.Entry) error {
	if err := o.discardTree(e); err != nil {
		return err
	}
	o.s.catalogue().Deleted(o.ctx, namespacePath(e.Path), e.IsDir)
	return nil
}

func (o *Op) discardTree(e backends.Entry) error {
	k := o.s.keeper()
	if k == nil {
		return o.removeTree(e)
	}
	if o.pinned(namespacePath(e.Path)) {
		return fmt.Errorf("remove %q: %w", e.Path, backends.ErrPermission)
	}
	p := namespacePath(e.Path)
	var tree []backends.Entry
	if e.IsDir {
		for c, err := range backends.All(o.ctx, o.s.fs, e.Path, backends.ListOptions{Recursive: true}) {
			if err != nil {
				return err
			}
			tree = append(tree, c)
		}
	}
	id := newKeptID()
	locs, derr := k.Discard(o.ctx, e, tree, id)
	if derr != nil && len(locs) == 0 {
		o.changed(p, true)
		return derr
	}
	items, rec, err := o.describe(e, tree, locs)
	if err != nil {
		return o.unrecorded(k, locs, err)
	}
	rec.ID, rec.Kind, rec.Path, rec.At, rec.Storage = id, state.KindDeleted, p, o.s.now().UTC(), k.KeepMode()
	o.changed(p, true)
	if err := o.s.store.PutKept(o.ctx, rec, items); err != nil {
		return o.unrecorded(k, locs, err)
	}
	if derr != nil {
		return fmt.Errorf("delete %s, kept in part as %s: %w", p, id, derr)
	}
	if err := o.s.store.DeleteProps(o.ctx, p); err != nil {
		return err
	}
	if err := o.s.store.DeleteDigests(o.ctx, p); err != nil {
		return err
	}
	return o.s.store.DeleteLocks(o.ctx, p)
}

// unrecorded puts back what was kept but could not be recorded: content
// out of sight that no record names would be lost in all but name.
func (o *Op) unrecorded(k backends.Keeper, locs map[string]string, cause error) error {
	for bp, loc := range locs {
		if _, err := k.Restore(o.ctx, loc, bp); err != nil {
			o.s.log.Error("kept content not recorded, and not put back", "path", namespacePath(bp), "locator", loc, "err", err)
			continue
		}
		if err := k.Purge(o.ctx, []string{loc}); err != nil {
			o.s.log.Error("purge kept content put back", "locator", loc, "err", err)
		}
	}
	o.forget()
	return fmt.Errorf("record of the recycle bin: %w", cause)
}

// describe makes the items of a kept resource: the root e and the tree
// below it, with their dead properties and digests, and the totals.
func (o *Op) describe(e backends.Entry, tree []backends.Entry, locs map[string]string) ([]state.KeptItem, state.Kept, error) {
	var rec state.Kept
	rec.IsDir = e.IsDir
	rec.By, rec.From = o.by(), o.c.From
	all := append([]backends.Entry{e}, tree...)
	items := make([]state.KeptItem, 0, len(all))
	for start := 0; start < len(all); start += digestBatch {
		batch := all[start:min(len(all), start+digestBatch)]
		paths := make([]string, len(batch))
		for i, c := range batch {
			paths[i] = namespacePath(c.Path)
		}
		props, err := o.s.store.PropsOf(o.ctx, paths)
		if err != nil {
			return nil, rec, err
		}
		ds, err := o.s.store.DigestsOf(o.ctx, paths)
		if err != nil {
			return nil, rec, err
		}
		for i, c := range batch {
			it := state.KeptItem{IsDir: c.IsDir, Size: c.Size, ModTime: c.ModTime, Props: props[paths[i]]}
			it.Rel = strings.TrimPrefix(strings.TrimPrefix(c.Path, e.Path), "/")
			if !c.IsDir {
				loc, ok := locs[c.Path]
				if !ok {
					continue // not kept: still in place
				}
				it.Locator = loc
				if d, ok := ds[paths[i]]; ok && current(d, c) {
					it.SHA256, it.HasSHA256 = d.SHA256, true
				}
				rec.Size += c.Size
				rec.Files++
			}
			items = append(items, it)
		}
	}
	return items, rec, nil
}

// preserve sets aside the content the file e has now, which a write is
// about to replace; done records it as a version once the write is made,
// or lets it go when the write failed. Its properties and digest are
// taken now, before the write changes them.
func (o *Op) preserve(e backends.Entry) (done func(written bool), err error) {
	k := o.s.keeper()
	if k == nil {
		return func(bool) {}, nil
	}
	id := newKeptID()
	loc, err := k.Preserve(o.ctx, e, id)
	if err != nil {
		return nil, fmt.Errorf("keep the version of %s: %w", namespacePath(e.Path), err)
	}
	p := namespacePath(e.Path)
	items, rec, derr := o.describe(e, nil, map[string]string{e.Path: loc})
	return func(written bool) {
		if !written {
			o.purge(k, []string{loc})
			return
		}
		o.recordVersion(k, p, id, loc, items, rec, derr)
	}, nil
}

// recordVersion records the kept content loc, described by items and rec
// (or not, with err), as a version of the file p, and lets the oldest
// versions beyond the limit go.
func (o *Op) recordVersion(k backends.Keeper, p, id, loc string, items []state.KeptItem, rec state.Kept, err error) {
	if err == nil {
		rec.ID, rec.Kind, rec.Path, rec.At, rec.Storage = id, state.KindVersion, p, o.s.now().UTC(), k.KeepMode()
		err = o.s.store.PutKept(o.ctx, rec, items)
	}
	if err != nil {
		// The new content is written: the old one cannot be named, and goes.
		o.s.log.Error("version not recorded", "path", p, "err", err)
		o.purge(k, []string{loc})
		return
	}
	o.s.pruneVersions(o, p)
}

// pruneVersions lets go the versions of p beyond the newest MaxVersions.
func (s *Service) pruneVersions(o *Op, p string) {
	t := s.opts.Trash
	old, _, err := s.store.ListKept(o.ctx, state.KeptQuery{Kind: state.KindVersion, Path: p, Offset: t.MaxVersions})
	if err != nil {
		s.log.Error("versions beyond the limit", "path", p, "err", err)
		return
	}
	for _, k := range old {
		if err := s.purgeKept(o.ctx, k.ID); err != nil {
			s.log.Error("purge a version beyond the limit", "path", p, "id", k.ID, "err", err)
		}
	}
}

// purge lets kept content go, logging a failure (the retention's purge
// finds it again only through a record: this content has none).
func (o *Op) purge(k backends.Keeper, locs []string) {
	if err := k.Purge(o.ctx, locs); err != nil {
		o.s.log.Error("purge kept content", "locators", locs, "err", err)
	}
}

// departed records that the file src moved to dst, for a save sequence
// that writes a new file at src in a moment; versions follow the files.
// A move that completed a save (the temporary file made the drawing) is
// no departure: the temporary name written again is no save of it.
func (o *Op) departed(src backends.Entry, dst string, record bool) {
	sp := namespacePath(src.Path)
	if err := o.s.store.MoveVersions(o.ctx, sp, dst); err != nil {
		o.s.log.Error("versions did not follow a move", "from", sp, "to", dst, "err", err)
	}
	if !record || src.IsDir || o.s.keeper() == nil {
		return
	}
	d := state.Departure{From: sp, To: dst, Size: src.Size, At: o.s.now().UTC()}
	if err := o.s.store.PutDeparture(o.ctx, d); err != nil {
		o.s.log.Error("departure not recorded", "from", sp, "err", err)
	}
}

// arrived runs once a file was made at p where there was none: if a save
// sequence removed p's earlier content a moment ago (moved away, or
// deleted), that content becomes a version of p. A failure is logged:
// the new file is written, and the earlier content is still where the
// sequence left it. It reports whether it found a save. A delete counts
// only before a write (Office's sequence): a file moved onto a name just
// deleted is AutoCAD's drawing becoming name.bak, which the delete of the
// older name.bak preceded, and is no save of name.bak.
func (o *Op) arrived(p string, written bool) bool {
	k := o.s.keeper()
	if k == nil {
		return false
	}
	since := o.s.now().Add(-o.s.opts.Trash.Window)
	d, ok, err := o.s.store.TakeDeparture(o.ctx, p, since)
	if err != nil {
		o.s.log.Error("departure lookup", "path", p, "err", err)
		return false
	}
	if ok {
		return o.fromDeparture(k, p, d)
	}
	if !written {
		return false
	}
	gone, _, err := o.s.store.ListKept(o.ctx, state.KeptQuery{Kind: state.KindDeleted, Path: p, Limit: 1})
	if err != nil {
		o.s.log.Error("recycle bin lookup", "path", p, "err", err)
		return false
	}
	if len(gone) == 1 && !gone[0].IsDir && !gone[0].At.Before(since) {
		if err := o.s.store.ReclassifyKept(o.ctx, gone[0].ID, state.KindVersion, p); err != nil {
			o.s.log.Error("deleted file not made a version", "path", p, "err", err)
			return false
		}
		o.s.pruneVersions(o, p)
		return true
	}
	return false
}

// fromDeparture keeps, as a version of p, the content that moved from p
// to d.To, if it is still there: the versions that followed it come back.
func (o *Op) fromDeparture(k backends.Keeper, p string, d state.Departure) bool {
	e, err := o.s.fs.Stat(o.ctx, backendPath(d.To))
	if err != nil || e.IsDir || e.Size != d.Size {
		return false
	}
	if err := o.s.store.MoveVersions(o.ctx, d.To, p); err != nil {
		o.s.log.Error("versions did not come back", "from", d.To, "to", p, "err", err)
	}
	id := newKeptID()
	loc, err := k.Preserve(o.ctx, e, id)
	if err != nil {
		o.s.log.Error("earlier content of a save not kept", "path", p, "at", d.To, "err", err)
		return false
	}
	// The version is p's, with what the file had at d.To (its properties
	// and digest moved there with it).
	items, rec, err := o.describe(e, nil, map[string]string{e.Path: loc})
	o.recordVersion(k, p, id, loc, items, rec, err)
	return true
}

// Kept lists the recycle bin's entries or the versions that q selects,
// of those the person may change (an entry of the bin is an editor's to
// see); total counts them all, before Limit and Offset.
func (o *Op) Kept(q state.KeptQuery) ([]state.Kept, int, error) {
	if q.Path != "" {
		p, err := Path(q.Path)
		if err != nil {
			return nil, 0, err
		}
		q.Path = p
	}
	if q.Path == "" || q.Path == "/" {
		q.Path, q.Tree = "", false
	}
	// The store pages; the policy narrows. A person who may not change
	// every Comune asked about sees what their page holds of theirs.
	limit, offset := q.Limit, q.Offset
	q.Limit, q.Offset = 0, 0
	all, _, err := o.s.store.ListKept(o.ctx, q)
	if err != nil {
		return nil, 0, err
	}
	var mine []state.Kept
	for _, k := range all {
		if o.c.Policy.Decide(access.Write, k.Path) == access.Allow {
			mine = append(mine, k)
		}
	}
	total := len(mine)
	mine = mine[min(offset, len(mine)):]
	if limit > 0 && len(mine) > limit {
		mine = mine[:limit]
	}
	return mine, total, nil
}

// Versions lists the versions of the file p, newest first: a reader's to
// see, as the file is.
func (o *Op) Versions(p string) ([]state.Kept, error) {
	p, err := Path(p)
	if err != nil {
		return nil, err
	}
	if err := o.Allow(access.Read, p); err != nil {
		return nil, err
	}
	vs, _, err := o.s.store.ListKept(o.ctx, state.KeptQuery{Kind: state.KindVersion, Path: p})
	return vs, err
}

// KeptEntry returns the kept resource id, if the person may see it: a
// version to its file's readers, an entry of the bin to its editors.
func (o *Op) KeptEntry(id string) (state.Kept, error) {
	k, err := o.s.store.KeptByID(o.ctx, id)
	if errors.Is(err, state.ErrNotFound) {
		return state.Kept{}, fmt.Errorf("kept %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return state.Kept{}, err
	}
	a := access.Write
	if k.Kind == state.KindVersion {
		a = access.Read
	}
	if err := o.Allow(a, k.Path); err != nil {
		if errors.Is(err, ErrForbidden) {
			return state.Kept{}, err
		}
		return state.Kept{}, fmt.Errorf("kept %s: %w", id, ErrNotFound)
	}
	return k, nil
}

// OpenVersion reads the kept file id (a version, or a file in the bin),
// or part of it when r is not nil.
func (o *Op) OpenVersion(id string, r *backends.Range) (*backends.Object, state.KeptItem, error) {
	k, err := o.KeptEntry(id)
	if err != nil {
		return nil, state.KeptItem{}, err
	}
	if k.IsDir {
		return nil, state.KeptItem{}, fmt.Errorf("kept %s: %w", id, backends.ErrIsDir)
	}
	it, err := o.keptFile(id)
	if err != nil {
		return nil, it, err
	}
	kp := o.s.keeper()
	if kp == nil {
		return nil, it, fmt.Errorf("kept %s: %w", id, backends.ErrUnavailable)
	}
	obj, err := kp.OpenKept(o.ctx, it.Locator, r)
	if err != nil {
		return nil, it, err
	}
	obj.Path = backendPath(k.Path)
	obj.ContentType = backends.ContentType(path.Base(k.Path))
	return obj, it, nil
}

// keptFile is the one item of a kept file.
func (o *Op) keptFile(id string) (state.KeptItem, error) {
	var it state.KeptItem
	err := o.s.store.KeptItems(o.ctx, id, func(i state.KeptItem) error {
		if i.Rel == "" {
			it = i
		}
		return nil
	})
	if err == nil && it.Locator == "" {
		err = fmt.Errorf("kept %s has no content: %w", id, ErrNotFound)
	}
	return it, err
}

// Restore brings the kept resource id back, at its place or at as (a
// namespace path): a file as it was, a folder with every file, folder,
// dead property and digest it held. What is at the destination is never
// replaced (ErrDestinationExists: choose another name), except by a
// version restored at its own file, whose current content becomes a
// version in turn. Missing folders on the way are made again. It returns
// where it restored.
func (o *Op) Restore(id, as string) (string, error) {
	k, err := o.KeptEntry(id)
	if err != nil {
		return "", err
	}
	dst := k.Path
	if as != "" {
		if dst, err = Path(as); err != nil {
			return "", err
		}
	}
	if err := o.Allow(access.Write, dst); err != nil {
		return "", err
	}
	if err := o.Allow(access.Write, k.Path); err != nil {
		return "", err
	}
	if strings.Count(dst, "/") < 2 {
		return "", fmt.Errorf("restore at %s, outside a Comune's folder: %w", dst, ErrForbidden)
	}
	kp := o.s.keeper()
	if kp == nil {
		return "", fmt.Errorf("restore %s: %w", id, backends.ErrUnavailable)
	}
	at, err := o.look(dst)
	if err != nil {
		return "", err
	}
	overVersion := k.Kind == state.KindVersion && dst == k.Path && at.File != nil
	if (at.File != nil || at.Dir) && !overVersion {
		return "", fmt.Errorf("%s: %w", dst, ErrDestinationExists)
	}
	if err := o.CheckWrite(Target{Path: dst, Member: !overVersion}); err != nil {
		return "", err
	}
	if err := o.makeParents(dst); err != nil {
		return "", err
	}
	var done func(bool)
	if overVersion {
		if done, err = o.preserve(*at.File); err != nil {
			return "", err
		}
	}
	restored, err := o.restoreItems(kp, k, dst)
	if done != nil {
		done(err == nil)
	}
	o.changed(dst, true)
	if err != nil {
		return "", err
	}
	o.s.folders.saw(parentOf(dst), o.s.now())
	if k.Kind == state.KindDeleted {
		o.s.catalogue().Restored(o.ctx, k.Path, dst, k.IsDir, o.by())
	} else {
		o.s.catalogue().Written(o.ctx, dst)
	}
	o.purge(kp, restored)
	if err := o.s.store.DeleteKept(o.ctx, id); err != nil && !errors.Is(err, state.ErrNotFound) {
		return dst, err
	}
	return dst, nil
}

// makeParents makes the folders missing above p, from the Comune down.
func (o *Op) makeParents(p string) error {
	var missing []string
	for dir := parentOf(p); strings.Count(dir, "/") >= 2; dir = parentOf(dir) {
		e, err := o.Stat(dir)
		if err == nil {
			if !e.IsDir {
				return fmt.Errorf("restore under the file %s: %w", dir, ErrConflict)
			}
			break
		}
		if !errors.Is(err, backends.ErrNotFound) {
			return err
		}
		missing = append(missing, dir)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := o.Allow(access.Write, missing[i]); err != nil {
			return err
		}
		if err := o.s.fs.Mkdir(o.ctx, backendPath(missing[i])); err != nil && !errors.Is(err, backends.ErrExist) {
			return err
		}
	}
	return nil
}

// restoreItems brings back each item of k below dst: folders first, in
// order, then the files several at once, then their properties and
// digests. It returns the locators restored, for the caller to purge.
func (o *Op) restoreItems(kp backends.Keeper, k state.Kept, dst string) ([]string, error) {
	var items []state.KeptItem
	if err := o.s.store.KeptItems(o.ctx, k.ID, func(it state.KeptItem) error {
		items = append(items, it)
		return nil
	}); err != nil {
		return nil, err
	}
	at := func(rel string) string {
		if rel == "" {
			return dst
		}
		return dst + "/" + rel
	}
	for _, it := range items {
		if it.IsDir {
			if err := o.s.fs.Mkdir(o.ctx, backendPath(at(it.Rel))); err != nil && !errors.Is(err, backends.ErrExist) {
				return nil, err
			}
		}
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		sem      = make(chan struct{}, keepConcurrency)
		failed   = map[string]error{}
		restored []string
		digests  []state.Digest
	)
	for _, it := range items {
		if it.IsDir {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			p := at(it.Rel)
			e, err := kp.Restore(o.ctx, it.Locator, backendPath(p))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed[p] = err
				return
			}
			restored = append(restored, it.Locator)
			if it.HasSHA256 && e.Size == it.Size {
				digests = append(digests, state.Digest{Path: p, SHA256: it.SHA256, Size: e.Size, ETag: Version(e), Recorded: o.s.now()})
			}
		})
	}
	wg.Wait()
	for _, it := range items {
		if len(it.Props) == 0 || failed[at(it.Rel)] != nil {
			continue
		}
		if err := o.s.store.PatchProps(o.ctx, at(it.Rel), it.Props, nil); err != nil {
			return restored, fmt.Errorf("restore properties: %w", err)
		}
	}
	for len(digests) > 0 {
		n := min(len(digests), digestBatch)
		if err := o.s.store.PutDigests(o.ctx, digests[:n]); err != nil {
			o.s.log.Error("digests of a restore not recorded; `faldone verify --fill` records them", "err", err)
		}
		digests = digests[n:]
	}
	if len(failed) > 0 {
		return restored, &PartialError{Failed: failed}
	}
	return restored, nil
}

// Purge lets the kept resource id go for good: a manager's decision (the
// right to delete a folder's whole tree where it was).
func (o *Op) Purge(id string) (state.Kept, error) {
	k, err := o.KeptEntry(id)
	if err != nil {
		return k, err
	}
	if err := o.Allow(access.DeleteTree, k.Path); err != nil {
		return k, err
	}
	return k, o.s.purgeKept(o.ctx, id)
}

// MayPurge reports whether the person may let what was kept from p go
// for good: the rule Purge applies, for a page to offer it or not.
func (o *Op) MayPurge(p string) bool { return o.Allow(access.DeleteTree, p) == nil }

// purgeKept lets the kept resource id go: its content, then its record;
// the catalogue follows.
func (s *Service) purgeKept(ctx context.Context, id string) error {
	k, err := s.store.KeptByID(ctx, id)
	if errors.Is(err, state.ErrNotFound) {
		return nil // another purge was first
	}
	if err != nil {
		return err
	}
	var locs []string
	err = s.store.KeptItems(ctx, id, func(it state.KeptItem) error {
		if it.Locator != "" {
			locs = append(locs, it.Locator)
		}
		return nil
	})
	if errors.Is(err, state.ErrNotFound) {
		return nil // another purge was first
	}
	if err != nil {
		return err
	}
	if kp, ok := s.fs.(backends.Keeper); ok && len(locs) > 0 {
		if err := kp.Purge(ctx, locs); err != nil {
			return fmt.Errorf("purge %s: %w", id, err)
		}
	}
	if err := s.store.DeleteKept(ctx, id); err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	if k.Kind == state.KindDeleted {
		s.catalogue().Purged(ctx, k.Path, k.IsDir)
	}
	return nil
}

// PurgeExpired lets go what the retention no longer keeps at now: the
// recycle bin's entries older than Retention and the versions older than
// VersionAge. One replica runs it at a time (the caller holds a lease);
// each purge is once, whoever runs it. It returns how many went.
func (s *Service) PurgeExpired(ctx context.Context, now time.Time) (int, error) {
	t := s.opts.Trash
	n := 0
	for _, q := range []state.KeptQuery{
		{Kind: state.KindDeleted, Before: now.Add(-t.Retention), Limit: 500},
		{Kind: state.KindVersion, Before: now.Add(-t.VersionAge), Limit: 500},
	} {
		for {
			ks, _, err := s.store.ListKept(ctx, q)
			if err != nil {
				return n, err
			}
			for _, k := range ks {
				// One that cannot go (held by the storage, in a closed
				// dossier) stays, and the next pages go on without it.
				if err := s.purgeKept(ctx, k.ID); err != nil {
					s.log.Error("retention: purge", "id", k.ID, "path", k.Path, "err", err)
					q.Offset++
					continue
				}
				n++
			}
			if len(ks) < q.Limit {
				break
			}
		}
	}
	return n, nil
}

// PurgeKept lets the kept resource id go, for a command run by the
// archive's operator.
func (s *Service) PurgeKept(ctx context.Context, id string) error {
	if _, err := s.store.KeptByID(ctx, id); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return fmt.Errorf("kept %s: %w", id, ErrNotFound)
		}
		return err
	}
	return s.purgeKept(ctx, id)
}

// From names a way in and the client's address ("WebDAV 10.1.2.3"), for
// the recycle bin's "from where"; remoteAddr is an http.Request's.
func From(way, remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	if host == "" {
		return way
	}
	return way + " " + host
}
