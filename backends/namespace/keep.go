package namespace

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/backends"
)

// The namespace keeps content on the mount where it was: Keeper and Holder
// go to the mount's backend, and a mount whose backend lacks them answers
// errors.ErrUnsupported. A locator is the mount's own, after the mount's
// name and a slash ("guastalla/.faldone-cestino/…"), so that OpenKept,
// Restore and Purge find the mount again.

var (
	_ backends.Keeper = (*Namespace)(nil)
	_ backends.Holder = (*Namespace)(nil)
)

// keeperAt resolves p, which must lie inside a mount, to the mount's Keeper.
func (n *Namespace) keeperAt(p string) (string, backends.Keeper, string, error) {
	name, b, rest, err := n.resolveInside(p)
	if err != nil {
		return "", nil, "", err
	}
	k, ok := b.(backends.Keeper)
	if !ok {
		return "", nil, "", fmt.Errorf("mount %q keeps nothing: %w", name, errors.ErrUnsupported)
	}
	return name, k, rest, nil
}

// keeperOf resolves a locator that the namespace gave to the mount's Keeper
// and the mount's own locator.
func (n *Namespace) keeperOf(loc string) (string, backends.Keeper, string, error) {
	if !strings.Contains(loc, "/") {
		return "", nil, "", fmt.Errorf("locator %q names no mount: %w", loc, backends.ErrInvalidPath)
	}
	return n.keeperAt(loc)
}

// Discard discards root on its mount. The tree's entries, the map's keys
// and its locators are namespace paths and locators.
func (n *Namespace) Discard(ctx context.Context, root backends.Entry, tree []backends.Entry, id string) (map[string]string, error) {
	name, k, rest, err := n.keeperAt(root.Path)
	if err != nil {
		return nil, err
	}
	root.Path = rest
	sub := make([]backends.Entry, len(tree))
	for i, e := range tree {
		p, ok := strings.CutPrefix(e.Path, name+"/")
		if !ok {
			return nil, fmt.Errorf("discard: %q is not in mount %q: %w", e.Path, name, backends.ErrInvalidPath)
		}
		e.Path = p
		sub[i] = e
	}
	locs, err := k.Discard(ctx, root, sub, id)
	var out map[string]string
	if locs != nil {
		out = make(map[string]string, len(locs))
		for p, loc := range locs {
			out[name+"/"+p] = name + "/" + loc
		}
	}
	return out, n.seen(ctx, name, err)
}

// Preserve keeps the file e on its mount.
func (n *Namespace) Preserve(ctx context.Context, e backends.Entry, id string) (string, error) {
	name, k, rest, err := n.keeperAt(e.Path)
	if err != nil {
		return "", err
	}
	e.Path = rest
	loc, err := k.Preserve(ctx, e, id)
	if err != nil {
		return "", n.seen(ctx, name, err)
	}
	return name + "/" + loc, nil
}

// OpenKept reads kept content on the locator's mount.
func (n *Namespace) OpenKept(ctx context.Context, loc string, r *backends.Range) (*backends.Object, error) {
	name, k, rest, err := n.keeperOf(loc)
	if err != nil {
		return nil, err
	}
	obj, err := k.OpenKept(ctx, rest, r)
	if obj != nil {
		obj.Entry = prefixed(name, obj.Entry)
	}
	return obj, n.seen(ctx, name, err)
}

// Restore restores on the locator's mount, or, to another mount, streams
// the kept content into a file there (a copy: loc stays kept).
func (n *Namespace) Restore(ctx context.Context, loc, dst string) (backends.Entry, error) {
	name, k, rest, err := n.keeperOf(loc)
	if err != nil {
		return backends.Entry{}, err
	}
	dname, db, drest, err := n.resolveInside(dst)
	if err != nil {
		return backends.Entry{}, err
	}
	if dname == name {
		e, err := k.Restore(ctx, rest, drest)
		return prefixed(name, e), n.seen(ctx, name, err)
	}
	obj, err := k.OpenKept(ctx, rest, nil)
	if err != nil {
		return backends.Entry{}, n.seen(ctx, name, err)
	}
	defer obj.Body.Close()
	up, err := db.Create(ctx, drest, obj.Length, backends.CreateOptions{})
	if err != nil {
		return backends.Entry{}, n.seen(ctx, dname, err)
	}
	if _, err := io.Copy(up, obj.Body); err != nil {
		return backends.Entry{}, errors.Join(fmt.Errorf("restore to another mount: %w", err), up.Abort(ctx))
	}
	e, err := up.Commit(ctx)
	return prefixed(dname, e), n.seen(ctx, dname, err)
}

// Purge purges each locator on its mount, one call a mount.
func (n *Namespace) Purge(ctx context.Context, locs []string) error {
	groups := map[string][]string{}
	keepers := map[string]backends.Keeper{}
	var errs []error
	for _, loc := range locs {
		name, k, rest, err := n.keeperOf(loc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		groups[name] = append(groups[name], rest)
		keepers[name] = k
	}
	for name, rests := range groups {
		if err := n.seen(ctx, name, keepers[name].Purge(ctx, rests)); err != nil {
			errs = append(errs, fmt.Errorf("mount %q: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// KeepMode is "per mount": KeepModes says how each keeps content.
func (n *Namespace) KeepMode() string { return "per mount" }

// KeepModes names how each mount keeps content, for the log at start: a
// mount whose backend is no Keeper is "none".
func (n *Namespace) KeepModes() map[string]string {
	modes := make(map[string]string, len(n.mounts))
	for name, b := range n.mounts {
		modes[name] = "none"
		if k, ok := b.(backends.Keeper); ok {
			modes[name] = k.KeepMode()
		}
	}
	return modes
}

// Holdable reports whether some mount holds objects; Holdables says which.
func (n *Namespace) Holdable() bool {
	for _, ok := range n.Holdables() {
		if ok {
			return true
		}
	}
	return false
}

// Holdables reports, for each mount, whether its storage holds objects.
func (n *Namespace) Holdables() map[string]bool {
	hs := make(map[string]bool, len(n.mounts))
	for name, b := range n.mounts {
		h, ok := b.(backends.Holder)
		hs[name] = ok && h.Holdable()
	}
	return hs
}

// Hold holds the folder dir on its mount; dir may be the mount itself.
func (n *Namespace) Hold(ctx context.Context, dir string, on bool, until time.Time) (int, error) {
	name, b, rest, err := n.resolve(dir)
	if err != nil {
		return 0, err
	}
	h, ok := b.(backends.Holder)
	if !ok {
		return 0, fmt.Errorf("mount %q holds nothing: %w", name, errors.ErrUnsupported)
	}
	count, err := h.Hold(ctx, rest, on, until)
	return count, n.seen(ctx, name, err)
}
