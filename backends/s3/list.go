package s3

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bassareggiana/faldone/backends"
)

// List returns a page of the folder dir with one ListObjectsV2: its objects
// and, with the delimiter "/", its subfolders as common prefixes, merged in
// the order of their keys. Every entry's metadata comes from the listing.
// A folder's own marker is not an entry of it.
//
// A direct listing pages with S3's continuation token. A recursive one
// pages with the key of its last entry, since it adds entries of its own:
// S3 lists no folder that has no marker, so a recursive listing adds one
// before the first key under such a folder.
//
// An empty first page costs one more request, to tell an empty folder
// from a missing one or a file.
func (b *Backend) List(ctx context.Context, dir string, opts backends.ListOptions) (backends.Page, error) {
	if err := ctx.Err(); err != nil {
		return backends.Page{}, err
	}
	if err := checkPath(dir); err != nil {
		return backends.Page{}, err
	}
	in := &awss3.ListObjectsV2Input{
		Bucket:  &b.bucket,
		Prefix:  aws.String(b.dirKey(dir)),
		MaxKeys: aws.Int32(pageSize),
	}
	if opts.Recursive {
		if opts.Token != "" {
			in.StartAfter = aws.String(b.prefix + opts.Token)
		}
	} else {
		in.Delimiter = aws.String("/")
		if opts.Token != "" {
			in.ContinuationToken = aws.String(opts.Token)
		}
	}
	out, err := b.client.ListObjectsV2(ctx, in, fastList(&b.listFallbacks))
	if err != nil {
		return backends.Page{}, b.mapErr("list", dir, err)
	}
	if err := b.dropGhosts(ctx, out); err != nil {
		return backends.Page{}, err
	}
	if opts.Token == "" && dir != "" && len(out.Contents) == 0 && len(out.CommonPrefixes) == 0 {
		return backends.Page{}, b.missingDir(ctx, dir)
	}
	if opts.Recursive {
		return b.recursivePage(dir, opts.Token, out), nil
	}
	return b.directPage(dir, out), nil
}

// missingDir explains why nothing is stored under dir: a file is there, or nothing.
func (b *Backend) missingDir(ctx context.Context, dir string) error {
	_, err := b.head(ctx, "list", dir)
	switch {
	case err == nil:
		return &fs.PathError{Op: "list", Path: dir, Err: backends.ErrNotDir}
	case errors.Is(err, backends.ErrNotFound):
		return &fs.PathError{Op: "list", Path: dir, Err: backends.ErrNotFound}
	}
	return err
}

// directPage makes the page of the direct children of dir.
func (b *Backend) directPage(dir string, out *awss3.ListObjectsV2Output) backends.Page {
	self := b.dirKey(dir)
	entries := make([]backends.Entry, 0, len(out.Contents)+len(out.CommonPrefixes))
	for _, o := range out.Contents {
		key := aws.ToString(o.Key)
		if p, ok := b.relPath(key); ok && key != self {
			entries = append(entries, fileEntry(p, aws.ToInt64(o.Size), o.ETag, o.LastModified))
		}
	}
	for _, cp := range out.CommonPrefixes {
		if p, ok := b.relPath(strings.TrimSuffix(aws.ToString(cp.Prefix), "/")); ok {
			entries = append(entries, backends.Entry{Path: p, IsDir: true})
		}
	}
	// Both lists come in key order: a folder's key is its path and a slash.
	slices.SortFunc(entries, func(x, y backends.Entry) int { return strings.Compare(entryKey(x), entryKey(y)) })
	var page backends.Page
	page.Entries = entries
	if aws.ToBool(out.IsTruncated) {
		page.Next = aws.ToString(out.NextContinuationToken)
	}
	return page
}

// recursivePage makes a page of the descendants of dir from a listing
// without delimiter that started after the key token. Before the first key
// under a folder without a marker it adds the folder, which is after the
// previous entry exactly when that entry is not under the folder too.
func (b *Backend) recursivePage(dir, token string, out *awss3.ListObjectsV2Output) backends.Page {
	self := b.dirKey(dir)
	var page backends.Page
	prev := token // the key of the last entry, in the listing's terms
	add := func(e backends.Entry) bool {
		if len(page.Entries) == pageSize {
			page.Next = prev
			return false
		}
		page.Entries = append(page.Entries, e)
		prev = entryKey(e)
		return true
	}
	for _, o := range out.Contents {
		key := aws.ToString(o.Key)
		p, ok := b.relPath(strings.TrimSuffix(key, "/"))
		if !ok || key == self {
			continue
		}
		// The folders between dir and the entry, outermost first.
		for i := len(dir) + 1; i < len(p); i++ {
			if p[i] != '/' || p[:i+1] <= prev {
				continue
			}
			if !add(backends.Entry{Path: p[:i], IsDir: true}) {
				return page
			}
		}
		e := fileEntry(p, aws.ToInt64(o.Size), o.ETag, o.LastModified)
		if strings.HasSuffix(key, "/") {
			e = backends.Entry{Path: p, IsDir: true, ModTime: aws.ToTime(o.LastModified)}
		}
		if !add(e) {
			return page
		}
	}
	if aws.ToBool(out.IsTruncated) && len(out.Contents) > 0 {
		// The last key may have been skipped: continue after it.
		last := aws.ToString(out.Contents[len(out.Contents)-1].Key)
		page.Next = strings.TrimPrefix(last, b.prefix)
		if backends.InKeepFolder(page.Next) {
			// Past the kept content at once: the ids of its sets sort
			// before "~".
			page.Next = backends.KeepFolder + "/~"
		}
	}
	return page
}

// relPath is the path of the key, relative to the backend's prefix, and
// whether it is a valid one.
func (b *Backend) relPath(key string) (string, bool) {
	p, ok := strings.CutPrefix(key, b.prefix)
	return p, ok && p != "" && checkPath(p) == nil
}

// entryKey is the key that orders an entry in a listing: its path, with a
// slash after a folder's.
func entryKey(e backends.Entry) string {
	if e.IsDir {
		return e.Path + "/"
	}
	return e.Path
}
