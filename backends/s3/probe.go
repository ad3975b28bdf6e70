package s3

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bassareggiana/faldone/backends"
)

// probeKeys bounds the keys a probe lists. Between p's own key and its
// folder's come only the names that continue p with a character below "/"
// ("tavola.dwg.bak", "tavola.dwg-vecchia"): a handful at most.
const probeKeys = 100

// Probe looks at p with one ListObjectsV2 of the keys that start with p's
// key, with the delimiter "/" (backends.Prober). The file at p is the first
// of them, a folder at p is the common prefix "p/" among them, and any of
// them shows that p's parent folder holds something. Only when more than
// probeKeys names sort between p and "p/" does one more listing look for
// the folder. The file's entry is the listing's: without the headers that
// a HeadObject reads (Entry.Attrs).
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
	key, dirKey := b.key(p), b.dirKey(p)
	out, err := b.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
		Bucket:    &b.bucket,
		Prefix:    aws.String(key),
		Delimiter: aws.String("/"),
		MaxKeys:   aws.Int32(probeKeys),
	}, fastList(&b.listFallbacks))
	if err != nil {
		return backends.Probe{}, b.mapErr("probe", p, err)
	}
	// The root holds everything: it needs no sighting.
	pr := backends.Probe{Parent: parent(p) == "" || len(out.Contents) > 0 || len(out.CommonPrefixes) > 0}
	last := "" // the greatest key or prefix listed
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
	if !pr.Dir && aws.ToBool(out.IsTruncated) && last < dirKey {
		// The page ended before the folder's place: look there.
		first, err := b.firstUnder(ctx, "probe", p)
		if err != nil {
			return backends.Probe{}, err
		}
		pr.Dir = first != nil
	}
	return pr, nil
}

var _ backends.Prober = (*Backend)(nil)
