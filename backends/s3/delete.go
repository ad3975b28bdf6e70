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
// A request that fails as a whole fails Delete with its error; the keys
// that DeleteObjects could not delete make a *backends.DeleteError.
func (b *Backend) Delete(ctx context.Context, paths []string) error {
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
	if err := b.deleteKeys(ctx, files, b.key, failed); err != nil {
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
		if err := b.deleteKeys(ctx, markers, func(p string) string { return b.prefix + p }, failed); err != nil {
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
// could not delete.
func (b *Backend) deleteKeys(ctx context.Context, paths []string, key func(string) string, failed map[string]error) error {
	for batch := range slices.Chunk(paths, pageSize) {
		byKey := make(map[string]string, len(batch))
		objects := make([]types.ObjectIdentifier, 0, len(batch))
		for _, p := range batch {
			k := key(p)
			if _, dup := byKey[k]; !dup {
				objects = append(objects, types.ObjectIdentifier{Key: aws.String(k)})
			}
			byKey[k] = p
		}
		out, err := b.client.DeleteObjects(ctx, &awss3.DeleteObjectsInput{
			Bucket: &b.bucket,
			Delete: &types.Delete{Objects: objects, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return b.mapErr("delete", batch[0], err)
		}
		for _, e := range out.Errors {
			code := aws.ToString(e.Code)
			if code == "NoSuchKey" {
				continue // gone already, which is what was asked
			}
			p := byKey[aws.ToString(e.Key)]
			failed[p] = b.mapErr("delete", p, &smithy.GenericAPIError{Code: code, Message: aws.ToString(e.Message)})
		}
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
