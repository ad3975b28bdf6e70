package s3

import (
	"context"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bassareggiana/faldone/backends"
)

// probeKeys bounds the keys a probe lists: the names that share a file's
// stem (a drawing's backup, lock and temporary files) and those that sort
// between the file and its folder ("tavola.dwg.bak" < "tavola.dwg/"), a
// handful at most.
const probeKeys = 100

// Probe looks at p with one ListObjectsV2, with the delimiter "/", of the
// keys that start with p's stem: its key up to the last dot of its name
// ("pratica/tavola." for "pratica/tavola.dwg"), or all of it when the name
// has none (backends.Prober). The file at p is the key itself, a folder at
// p the common prefix "p/", and any key or prefix listed is something in
// p's parent folder, which shows that it exists: so does a drawing's backup
// for the temporary file that AutoCAD writes beside it. When the page ends
// before p's key, the keys of p itself are listed; when it ends between the
// key and the folder, the folder is looked for: one more listing each, only
// past probeKeys names. The file's entry is the listing's, without the
// headers that a HeadObject reads (Entry.Attrs).
func (b *Backend) Probe(ctx context.Context, p string) (backends.Probe, error) {
	if err := ctx.Err(); err != nil {
		return backends.Probe{}, err
	}
	if err := checkPath(p); err != nil {
		return backends.Probe{}, err
	}
	if p == "" {
		return backends.Probe{Dir: true, Parent: true}, nil
	}
	key, stem := b.key(p), b.key(p)
	if name := path.Base(p); strings.LastIndexByte(name, '.') > 0 {
		stem = key[:len(key)-len(name)+strings.LastIndexByte(name, '.')+1]
	}
	pr, last, cut, err := b.probeList(ctx, p, stem)
	if err != nil {
		return backends.Probe{}, err
	}
	if cut && last < key && stem != key {
		// Cut before the file: look from the file on.
		seen := pr.Parent
		if pr, last, cut, err = b.probeList(ctx, p, key); err != nil {
			return backends.Probe{}, err
		}
		pr.Parent = pr.Parent || seen
	}
	if cut && !pr.Dir && last < b.dirKey(p) {
		// Cut before the folder's place: look there.
		first, err := b.firstUnder(ctx, "probe", p)
		if err != nil {
			return backends.Probe{}, err
		}
		pr.Dir = first != nil
	}
	return pr, nil
}

// probeList lists a page of the keys under prefix, with the delimiter "/",
// and reads in it what Probe looks for at p; last is the greatest key or
// prefix listed, and cut tells that the page was not the last.
func (b *Backend) probeList(ctx context.Context, p, prefix string) (pr backends.Probe, last string, cut bool, err error) {
	out, err := b.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
		Bucket:    &b.bucket,
		Prefix:    aws.String(prefix),
		Delimiter: aws.String("/"),
		MaxKeys:   aws.Int32(probeKeys),
	}, fastList(&b.listFallbacks))
	if err != nil {
		return backends.Probe{}, "", false, b.mapErr("probe", p, err)
	}
	if err := b.dropGhosts(ctx, out); err != nil {
		return backends.Probe{}, "", false, err
	}
	key, dirKey := b.key(p), b.dirKey(p)
	// The root holds everything: it needs no sighting.
	pr.Parent = parent(p) == "" || len(out.Contents) > 0 || len(out.CommonPrefixes) > 0
	for _, o := range out.Contents {
		k := aws.ToString(o.Key)
		if k == key {
			e := fileEntry(p, aws.ToInt64(o.Size), o.ETag, o.LastModified)
			pr.File = &e
		}
		last = max(last, k)
	}
	for _, cp := range out.CommonPrefixes {
		k := aws.ToString(cp.Prefix)
		pr.Dir = pr.Dir || k == dirKey
		last = max(last, k)
	}
	return pr, last, aws.ToBool(out.IsTruncated), nil
}

var _ backends.Prober = (*Backend)(nil)
