package s3

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bassareggiana/faldone/backends"
)

// maxParts is the most parts a multipart upload may have.
const maxParts = 10000

// Copy copies the file src to dst on the server side. Three requests go at
// once first: a HeadObject of src, for its size and headers, and listings
// that check that dst is not a folder and that its parent is. Then one
// CopyObject, or for a source above 5 GiB a multipart upload of
// UploadPartCopy requests.
//
// The copy gets the content type of its own name, and keeps the source's
// user metadata and the headers that say how to read the content.
func (b *Backend) Copy(ctx context.Context, src, dst string) (backends.Entry, error) {
	if err := ctx.Err(); err != nil {
		return backends.Entry{}, err
	}
	if err := checkPath(src); err != nil {
		return backends.Entry{}, err
	}
	if src == "" {
		return backends.Entry{}, &fs.PathError{Op: "copy", Path: src, Err: backends.ErrIsDir}
	}
	if err := checkTarget(dst); err != nil {
		return backends.Entry{}, err
	}
	var head *awss3.HeadObjectOutput
	err := concurrently(
		func() error {
			var err error
			head, err = b.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &b.bucket, Key: aws.String(b.key(src))})
			if err != nil {
				return b.notFile(ctx, "copy", src, b.mapErr("copy", src, err))
			}
			return nil
		},
		func() error { return b.refuseDir(ctx, "copy", dst) },
		func() error { return b.requireDir(ctx, "copy", dst, parent(dst)) },
	)
	if err != nil {
		return backends.Entry{}, err
	}
	size := aws.ToInt64(head.ContentLength)
	if size > b.copyThreshold {
		return b.copyParts(ctx, src, dst, size, head)
	}
	out, err := b.client.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket:     &b.bucket,
		Key:        aws.String(b.key(dst)),
		CopySource: aws.String(copySource(b.bucket, b.key(src))),
		// Only a new content type needs REPLACE, but it also makes the
		// copy of a file onto itself legal, which COPY is not.
		MetadataDirective:  types.MetadataDirectiveReplace,
		ContentType:        aws.String(backends.ContentType(dst)),
		Metadata:           head.Metadata,
		CacheControl:       head.CacheControl,
		ContentDisposition: head.ContentDisposition,
		ContentEncoding:    head.ContentEncoding,
		ContentLanguage:    head.ContentLanguage,
	})
	if err != nil {
		return backends.Entry{}, b.mapErr("copy", dst, err)
	}
	if out.CopyObjectResult == nil {
		return backends.Entry{}, &fs.PathError{Op: "copy", Path: dst, Err: fmt.Errorf("%w: CopyObject answered without a result", backends.ErrUnavailable)}
	}
	return fileEntry(dst, size, out.CopyObjectResult.ETag, out.CopyObjectResult.LastModified), nil
}

// CopyListed copies a file found by a listing with one CopyObject, which
// keeps its metadata (backends.TreeCopier): no lookup of the source, whose
// size the listing gave, nor of the destination, which the caller has just
// made. A file too large for CopyObject takes Copy's way.
func (b *Backend) CopyListed(ctx context.Context, src backends.Entry, dst string) (backends.Entry, error) {
	if err := ctx.Err(); err != nil {
		return backends.Entry{}, err
	}
	if src.IsDir {
		return backends.Entry{}, &fs.PathError{Op: "copy", Path: src.Path, Err: backends.ErrIsDir}
	}
	if err := checkPath(src.Path); err != nil {
		return backends.Entry{}, err
	}
	if err := checkTarget(dst); err != nil {
		return backends.Entry{}, err
	}
	if src.Size > b.copyThreshold {
		return b.Copy(ctx, src.Path, dst)
	}
	out, err := b.client.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket:     &b.bucket,
		Key:        aws.String(b.key(dst)),
		CopySource: aws.String(copySource(b.bucket, b.key(src.Path))),
	})
	if err != nil {
		return backends.Entry{}, b.mapErr("copy", src.Path, err)
	}
	if out.CopyObjectResult == nil {
		return backends.Entry{}, &fs.PathError{Op: "copy", Path: dst, Err: fmt.Errorf("%w: CopyObject answered without a result", backends.ErrUnavailable)}
	}
	return fileEntry(dst, src.Size, out.CopyObjectResult.ETag, out.CopyObjectResult.LastModified), nil
}

// copyParts copies a large file with a multipart upload whose parts are
// ranges of the source, Concurrency at a time. A failure aborts the upload.
func (b *Backend) copyParts(ctx context.Context, src, dst string, size int64, head *awss3.HeadObjectOutput) (backends.Entry, error) {
	key := aws.String(b.key(dst))
	created, err := b.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket:             &b.bucket,
		Key:                key,
		ContentType:        aws.String(backends.ContentType(dst)),
		Metadata:           head.Metadata,
		CacheControl:       head.CacheControl,
		ContentDisposition: head.ContentDisposition,
		ContentEncoding:    head.ContentEncoding,
		ContentLanguage:    head.ContentLanguage,
	})
	if err != nil {
		return backends.Entry{}, b.mapErr("copy", dst, err)
	}
	ranges := copyRanges(size, b.copyPartSize)
	parts := make([]types.CompletedPart, len(ranges))
	errs := make([]error, len(ranges))
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	source := aws.String(copySource(b.bucket, b.key(src)))
	parallel(len(ranges), b.conc, func(i int) {
		if pctx.Err() != nil {
			errs[i] = pctx.Err()
			return
		}
		n := aws.Int32(int32(i + 1))
		out, err := b.client.UploadPartCopy(pctx, &awss3.UploadPartCopyInput{
			Bucket:          &b.bucket,
			Key:             key,
			UploadId:        created.UploadId,
			PartNumber:      n,
			CopySource:      source,
			CopySourceRange: aws.String(ranges[i]),
			// The source must not change between parts.
			CopySourceIfMatch: head.ETag,
		})
		if err != nil {
			errs[i] = err
			cancel()
			return
		}
		parts[i] = types.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: n}
	})
	// The first failure cancels the parts after it: report that failure,
	// not their cancellation.
	err = nil
	for _, e := range errs {
		if e != nil && (err == nil || errors.Is(err, context.Canceled) && !errors.Is(e, context.Canceled)) {
			err = e
		}
	}
	var done *awss3.CompleteMultipartUploadOutput
	if err == nil {
		done, err = b.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
			Bucket:          &b.bucket,
			Key:             key,
			UploadId:        created.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
	}
	if err != nil {
		actx, acancel := context.WithTimeout(context.WithoutCancel(ctx), failTimeout)
		defer acancel()
		_, aerr := b.client.AbortMultipartUpload(actx, &awss3.AbortMultipartUploadInput{
			Bucket: &b.bucket, Key: key, UploadId: created.UploadId,
		})
		if aerr != nil && !isCode(aerr, "NoSuchUpload") {
			err = errors.Join(err, fmt.Errorf("abort: %w", aerr))
		}
		return backends.Entry{}, b.mapErr("copy", dst, err)
	}
	// CompleteMultipartUpload does not say when; the object's headers do.
	e := fileEntry(dst, size, done.ETag, nil)
	if h, err := b.head(ctx, "copy", dst); err == nil && h.ETag == e.ETag {
		e.ModTime = h.ModTime
	}
	return e, nil
}

// copyRanges divides size bytes into the byte ranges of the parts of a
// multipart copy: partSize bytes each but the last, or more when that would
// make more than 10,000 parts.
func copyRanges(size, partSize int64) []string {
	if n := (size + maxParts - 1) / maxParts; partSize < n {
		partSize = n
	}
	var ranges []string
	for start := int64(0); start < size; start += partSize {
		end := min(start+partSize, size) - 1
		ranges = append(ranges, fmt.Sprintf("bytes=%d-%d", start, end))
	}
	return ranges
}

// copySource is the x-amz-copy-source of a key: the bucket and the key,
// URL-encoded, with every character but the unreserved ones and the slashes
// escaped, so that no server reads a "+" as a space.
func copySource(bucket, key string) string {
	segs := strings.Split(bucket+"/"+key, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
	}
	return strings.Join(segs, "/")
}
