package s3

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/bassareggiana/faldone/backends"
)

// Delete removes files and empty folders. Files go first, with one
// DeleteObjects per 1000. Folders go after, deepest first, so that a batch
// naming a folder and everything in it removes them all: each folder costs
// a listing of two keys, which tells whether anything but its marker is
// left in it, and the markers of the empty ones at one depth go in one
// DeleteObjects. A folder with nothing in it and no marker is gone already;
// one with something in it fails with ErrExist.
//
// On a versioned bucket (see keep.go), what Delete removes it removes for
// good: not only would a delete marker leave the deleted version behind,
// taking space that no record points to, but the gateway moves by copying
// and deleting. It finds the current version of the batch's files (and of
// the markers it deletes) as currentVersions does: a ListObjectVersions
// each for one or two, else ListObjectVersions pages over their common prefix, at
// most one for 8 keys, and HeadObjects for what they did not reach. Then
// one DeleteObjects a 1,000 that puts delete markers on the keys that have
// other versions (which a Keeper may hold: they must stay hidden and
// stay), and one that deletes the current versions by id. Other versions
// are never touched. Learning whether the bucket is versioned costs two
// requests, once in the backend's life.
//
// A request that fails as a whole fails Delete with its error; the keys
// that DeleteObjects could not delete make a *backends.DeleteError.
func (b *Backend) Delete(ctx context.Context, paths []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	versioned, _, err := b.learn(ctx)
	if err != nil {
		return err
	}
	return b.delete(ctx, paths, versioned)
}

// delete is Delete, removing the current versions for good when permanent,
// or leaving them behind delete markers.
func (b *Backend) delete(ctx context.Context, paths []string, permanent bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	failed := make(map[string]error)
	var files, dirs []string
	for _, p := range paths {
		name, isDir := strings.CutSuffix(p, "/")
		if err := checkTarget(name); err != nil {
			failed[p] = err
		} else if isDir {
			dirs = append(dirs, p)
		} else {
			files = append(files, p)
		}
	}
	if err := b.deleteKeys(ctx, files, b.key, failed, permanent); err != nil {
		return err
	}
	slices.SortFunc(dirs, func(x, y string) int { return cmp.Compare(depth(y), depth(x)) })
	for level := range chunkBy(dirs, depth) {
		marked := make([]bool, len(level))
		errs := make([]error, len(level))
		parallel(len(level), checkConcurrency, func(i int) { marked[i], errs[i] = b.emptyDir(ctx, level[i]) })
		var markers []string
		for i, p := range level {
			switch {
			case errs[i] != nil:
				failed[p] = errs[i]
			case marked[i]:
				markers = append(markers, p)
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.deleteKeys(ctx, markers, func(p string) string { return b.prefix + p }, failed, permanent); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return &backends.DeleteError{Failed: failed}
	}
	return nil
}

// emptyDir checks that the folder p/ holds nothing but perhaps its marker,
// and reports whether the marker is there to delete. A folder with something
// in it is ErrExist, as a non-empty directory is to os.Remove.
func (b *Backend) emptyDir(ctx context.Context, p string) (marked bool, err error) {
	marker := b.dirKey(strings.TrimSuffix(p, "/"))
	out, err := b.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
		Bucket:  &b.bucket,
		Prefix:  aws.String(marker),
		MaxKeys: aws.Int32(2),
	})
	if err != nil {
		return false, b.mapErr("delete", p, err)
	}
	for _, o := range out.Contents {
		if aws.ToString(o.Key) != marker {
			return false, &fs.PathError{Op: "delete", Path: p, Err: fmt.Errorf("folder not empty: %w", backends.ErrExist)}
		}
		marked = true
	}
	return marked, nil
}

// deleteKeys deletes the objects of paths, whose keys key gives, with one
// DeleteObjects per 1000, and records in failed the paths whose key S3
// could not delete. When permanent, it deletes the current versions for
// good, behind delete markers where other versions are (see Delete).
func (b *Backend) deleteKeys(ctx context.Context, paths []string, key func(string) string, failed map[string]error, permanent bool) error {
	for batch := range slices.Chunk(paths, pageSize) {
		byKey := make(map[string]string, len(batch))
		keys := make([]string, 0, len(batch))
		for _, p := range batch {
			k := key(p)
			if _, dup := byKey[k]; !dup {
				keys = append(keys, k)
			}
			byKey[k] = p
		}
		if !permanent {
			if err := b.deleteObjects(ctx, keys, nil, byKey, failed); err != nil {
				return err
			}
			continue
		}
		current, err := b.currentVersions(ctx, keys)
		if err != nil {
			return err
		}
		var covered, present []string
		for _, k := range keys {
			if v, ok := current[k]; ok {
				present = append(present, k)
				if !v.alone {
					covered = append(covered, k)
				}
			}
		}
		if err := b.deleteObjects(ctx, covered, nil, byKey, failed); err != nil {
			return err
		}
		present = slices.DeleteFunc(present, func(k string) bool { _, bad := failed[byKey[k]]; return bad })
		if err := b.deleteObjects(ctx, present, current, byKey, failed); err != nil {
			return err
		}
	}
	return nil
}

// deleteObjects deletes up to 1000 keys with one DeleteObjects, each in
// the version that versions gives when not nil, and records in failed the
// paths (byKey) of the keys it could not delete.
func (b *Backend) deleteObjects(ctx context.Context, keys []string, versions map[string]version, byKey map[string]string, failed map[string]error) error {
	if len(keys) == 0 {
		return nil
	}
	objects := make([]types.ObjectIdentifier, len(keys))
	for i, k := range keys {
		objects[i] = types.ObjectIdentifier{Key: aws.String(k)}
		if versions != nil {
			objects[i].VersionId = aws.String(versions[k].id)
		}
	}
	out, err := b.client.DeleteObjects(ctx, &awss3.DeleteObjectsInput{
		Bucket: &b.bucket,
		Delete: &types.Delete{Objects: objects, Quiet: aws.Bool(true)},
	})
	if err != nil {
		return b.mapErr("delete", byKey[keys[0]], err)
	}
	for _, e := range out.Errors {
		code := aws.ToString(e.Code)
		if code == "NoSuchKey" || code == "NoSuchVersion" {
			continue // gone already, which is what was asked
		}
		p := byKey[aws.ToString(e.Key)]
		failed[p] = b.mapErr("delete", p, &smithy.GenericAPIError{Code: code, Message: aws.ToString(e.Message)})
	}
	return nil
}

// depth is the number of slashes in p: deeper folders have more.
func depth(p string) int { return strings.Count(p, "/") }

// chunkBy yields the runs of consecutive elements of s that have the same key.
func chunkBy[T any, K comparable](s []T, key func(T) K) func(yield func([]T) bool) {
	return func(yield func([]T) bool) {
		for start := 0; start < len(s); {
			end := start + 1
			for end < len(s) && key(s[end]) == key(s[start]) {
				end++
			}
			if !yield(s[start:end]) {
				return
			}
			start = end
		}
	}
}
