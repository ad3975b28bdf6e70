package local

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/bassareggiana/faldone/backends"
)

// pageSize is the most entries a page holds, as on object storage.
const pageSize = 1000

// List returns a page of dir in the order of object keys, a folder's key
// being its path with a trailing slash, so that pages match what an object
// store returns. Next is the key of the last entry; a page starts after the
// key in its Token.
//
// Each page reads the folders it goes through anew, skipping, in a recursive
// listing, the subfolders that lie entirely before the token.
func (b *Backend) List(ctx context.Context, dir string, opts backends.ListOptions) (backends.Page, error) {
	if err := ctx.Err(); err != nil {
		return backends.Page{}, err
	}
	info, err := b.lstat(dir)
	if err != nil {
		return backends.Page{}, err
	}
	if !info.IsDir() {
		return backends.Page{}, &fs.PathError{Op: "list", Path: dir, Err: backends.ErrNotDir}
	}
	l := lister{b: b, ctx: ctx, after: opts.Token, recursive: opts.Recursive}
	if err := l.walk(dir); err != nil && err != errPageFull {
		return backends.Page{}, err
	}
	page := backends.Page{Entries: l.entries}
	if opts.Token == "" {
		self := entry(dir, info)
		page.Self = &self
	}
	if l.more {
		page.Next = key(l.entries[len(l.entries)-1])
	}
	return page, nil
}

// errPageFull stops a walk once the page is full and another entry follows.
var errPageFull = errors.New("page full")

type lister struct {
	b         *Backend
	ctx       context.Context
	after     string // the key the page starts after
	recursive bool
	entries   []backends.Entry
	more      bool // an entry follows the page
}

// walk adds the entries of dir, and of its subfolders when recursive, that
// come after l.after, until the page is full.
func (l *lister) walk(dir string) error {
	if err := l.ctx.Err(); err != nil {
		return err
	}
	children, err := l.b.readDir(dir)
	if err != nil {
		return err
	}
	for _, c := range children {
		if c.key > l.after {
			if len(l.entries) == pageSize {
				l.more = true
				return errPageFull
			}
			info, err := c.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed since the folder was read
			}
			if err != nil {
				return l.b.mapErr(err)
			}
			if !info.Mode().IsRegular() && !info.IsDir() {
				continue
			}
			l.entries = append(l.entries, entry(c.path, info))
		}
		// Skip the subfolders whose keys, and so their descendants', all
		// come before the token.
		if !l.recursive || !c.dir || (c.key <= l.after && !strings.HasPrefix(l.after, c.key)) {
			continue
		}
		err := l.walk(c.path)
		if err != nil && !errors.Is(err, backends.ErrNotFound) { // a subfolder removed meanwhile
			return err
		}
	}
	return nil
}

// child is an entry of a folder as read from the disk.
type child struct {
	fs.DirEntry
	path string
	key  string
	dir  bool
}

// readDir returns the children of dir that belong to the archive, sorted by
// key. It stats none of them: ReadDir gives their types.
func (b *Backend) readDir(dir string) ([]child, error) {
	f, err := b.root.Open(osName(dir))
	if err != nil {
		return nil, b.mapErr(err)
	}
	defer f.Close()
	des, err := f.ReadDir(-1)
	if err != nil {
		return nil, b.mapErr(err)
	}
	children := make([]child, 0, len(des))
	for _, de := range des {
		name := de.Name()
		p := path.Join(dir, name)
		// Temporary uploads and kept content are hidden; a name with a
		// backslash could not be asked for.
		if hidden(p) || strings.Contains(name, `\`) {
			continue
		}
		switch t := de.Type(); {
		case t.IsDir():
			children = append(children, child{de, p, p + "/", true})
		case t.IsRegular():
			children = append(children, child{de, p, p, false})
		}
	}
	slices.SortFunc(children, func(x, y child) int { return strings.Compare(x.key, y.key) })
	return children, nil
}

// key is the key of e on object storage, by which listings are ordered.
func key(e backends.Entry) string {
	if e.IsDir {
		return e.Path + "/"
	}
	return e.Path
}
