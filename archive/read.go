package archive

import (
	"iter"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
)

// Reads: the person must be allowed to read the path; a path they may not
// see answers as a missing one. Listings keep only what the person may
// see, decided in memory: a listing costs the storage the same for
// everyone.

// Info returns the entry at p.
func (o *Op) Info(p string) (backends.Entry, error) {
	p, err := Path(p)
	if err != nil {
		return backends.Entry{}, err
	}
	if err := o.Allow(access.Read, p); err != nil {
		return backends.Entry{}, err
	}
	return o.Stat(p)
}

// Open opens the file at p, or the range r of it when r is set. The caller
// closes the body.
func (o *Op) Open(p string, r *backends.Range) (*backends.Object, error) {
	p, err := Path(p)
	if err != nil {
		return nil, err
	}
	if err := o.Allow(access.Read, p); err != nil {
		return nil, err
	}
	return o.s.fs.Open(o.ctx, backendPath(p), r)
}

// Page is one page of a listing: the entries the person may see, and how
// many the storage listed (for a caller that bounds its work).
type Page struct {
	Entries []backends.Entry
	Listed  int
}

// Pages yields the listing of the folder p a page at a time: what it holds,
// or, when recursive, everything below it. Each page costs one List of the
// backend, made when the loop asks for it; an error ends the sequence.
func (o *Op) Pages(p string, recursive bool) iter.Seq2[Page, error] {
	return func(yield func(Page, error) bool) {
		p, err := Path(p)
		if err == nil {
			err = o.Allow(access.Read, p)
		}
		if err != nil {
			yield(Page{}, err)
			return
		}
		for page, err := range backends.Pages(o.ctx, o.s.fs, backendPath(p), backends.ListOptions{Recursive: recursive}) {
			if err != nil {
				yield(Page{}, err)
				return
			}
			if !yield(Page{Entries: o.visible(page.Entries), Listed: len(page.Entries)}, nil) {
				return
			}
		}
	}
}

// List yields the entries of Pages one by one, and its error, if any, last.
func (o *Op) List(p string, recursive bool) iter.Seq2[backends.Entry, error] {
	return func(yield func(backends.Entry, error) bool) {
		for page, err := range o.Pages(p, recursive) {
			if err != nil {
				yield(backends.Entry{}, err)
				return
			}
			for _, e := range page.Entries {
				if !yield(e, nil) {
					return
				}
			}
		}
	}
}

// What the person may do, by the rules the operations apply: for the
// controls a page shows, so that none can only fail.

// MayWrite reports whether the person may write the file or make the
// folder p.
func (o *Op) MayWrite(p string) bool { return o.c.Policy.Decide(access.Write, p) == access.Allow }

// MayMove reports whether the person may move or rename p within its
// folder: p and its folder must be writable.
func (o *Op) MayMove(p string) bool {
	return p != "/" && o.MayWrite(p) && o.MayWrite(parentOf(p))
}

// MayDelete reports whether the person may delete p, a folder with all it
// holds when dir.
func (o *Op) MayDelete(p string, dir bool) bool {
	if p == "/" || o.c.Policy.Decide(access.Delete, p) != access.Allow {
		return false
	}
	return !dir || o.c.Policy.Decide(access.DeleteTree, p) == access.Allow
}

// Listing begins the listing of the folder p for a reader that writes each
// page while the next is fetched (WebDAV's PROPFIND). It returns the first
// page — its Self says, mostly, what the folder is, so that a listing
// needs no Stat first — and the sequence of every page from the first on,
// each next one asked for as soon as the one before it is yielded
// (backends.Ahead). Entries keep what the person may see. An error of the
// first page is Listing's; a file at p is backends.ErrNotDir.
func (o *Op) Listing(p string, recursive bool) (backends.Page, iter.Seq2[backends.Page, error], error) {
	p, err := Path(p)
	if err != nil {
		return backends.Page{}, nil, err
	}
	if err := o.Allow(access.Read, p); err != nil {
		return backends.Page{}, nil, err
	}
	opts := backends.ListOptions{Recursive: recursive}
	first, err := o.s.fs.List(o.ctx, backendPath(p), opts)
	if err != nil {
		return backends.Page{}, nil, err
	}
	o.listed(p)
	first.Entries = o.visible(first.Entries)
	pages := func(yield func(backends.Page, error) bool) {
		for page, err := range backends.Ahead(o.ctx, o.s.fs, backendPath(p), opts, first) {
			if err == nil {
				page.Entries = o.visible(page.Entries)
			}
			if !yield(page, err) || err != nil {
				return
			}
		}
	}
	return first, pages, nil
}

// visible keeps the entries the person may see, in a new slice.
func (o *Op) visible(entries []backends.Entry) []backends.Entry {
	out := entries[:0:0]
	for _, e := range entries {
		if o.Visible(namespacePath(e.Path)) {
			out = append(out, e)
		}
	}
	return out
}
