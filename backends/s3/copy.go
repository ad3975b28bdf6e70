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
// that check that dst is not a folder and that its parent is. Each is left
// out when opts tell it (backends.CopyOptions): the HeadObject when the
// source's entry comes from this backend's Stat, which read the headers.
// Then one CopyObject, or for a source above 5 GiB a multipart upload of
// UploadPartCopy requests.
//
// The copy gets the content type of its own name, and keeps the source's
// user metadata and the headers that say how to read the content.
func (b *Backend) Copy(ctx context.Context, src, dst string, opts backends.CopyOptions) (backends.Entry, error) {
	if err := ctx.Err(); err != nil {
		return backends.Entry{}, err
	}
	if err := checkPath(src); err != nil {
		return backends.Entry{}, err
	}
	if src == "" || opts.Source != nil && opts.Source.IsDir {
		return backends.Entry{}, &fs.PathError{Op: "copy", Path: src, Err: backends.ErrIsDir}
	}
	return b.copyFrom(ctx, "copy", source{path: src, key: b.key(src)}, dst, opts)
}

// source is what a copy reads: the file at path, or kept content (a key
// of the kept folder, or a version of a file's key).
type source struct {
	path    string // the file's path, or the kept content's locator
	key     string
	version string // "" for the current version
	kept    bool
}

// copySource is the x-amz-copy-source of s.
func (s source) copySource(bucket string) string {
	cs := copySource(bucket, s.key)
	if s.version != "" {
		cs += "?versionId=" + url.QueryEscape(s.version)
	}
	return cs
}

// copyFrom is Copy from src, whose path has been checked, for op.
func (b *Backend) copyFrom(ctx context.Context, op string, s source, dst string, opts backends.CopyOptions) (backends.Entry, error) {
	src := s.path
	if err := checkTarget(dst); err != nil {
		return backends.Entry{}, err
	}
	var (
		h    *headers
		size int64
	)
	etag := ""
	if s := opts.Source; s != nil && s.Path == src {
		if told, ok := parseAttrs(s.Attrs); ok {
			h, size, etag = told, s.Size, `"`+s.ETag+`"`
		}
	}
	var checks []func() error
	if h == nil {
		checks = append(checks, func() error {
			out, err := b.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &b.bucket, Key: aws.String(s.key), VersionId: optional(s.version)})
			if err != nil && s.kept {
				return b.mapErr(op, src, err)
			}
			if err != nil {
				return b.notFile(ctx, op, src, b.mapErr(op, src, err))
			}
			h, size, etag = headersOf(out), aws.ToInt64(out.ContentLength), aws.ToString(out.ETag)
			return nil
		})
	}
	if !opts.NoDir {
		checks = append(checks, func() error { return b.refuseDir(ctx, op, dst) })
	}
	if !opts.ParentExists {
		checks = append(checks, func() error { return b.requireDir(ctx, op, dst, parent(dst)) })
	}
	if err := concurrently(checks...); err != nil {
		return backends.Entry{}, err
	}
	if size > b.copyThreshold {
		return b.copyParts(ctx, s, dst, size, etag, h)
	}
	out, err := b.client.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket:     &b.bucket,
		Key:        aws.String(b.key(dst)),
		CopySource: aws.String(s.copySource(b.bucket)),
		// Only a new content type needs REPLACE, but it also makes the
		// copy of a file onto itself legal, which COPY is not.
		MetadataDirective:  types.MetadataDirectiveReplace,
		ContentType:        aws.String(backends.ContentType(dst)),
		Metadata:           h.metadata,
		CacheControl:       h.cacheControl,
		ContentDisposition: h.contentDisposition,
		ContentEncoding:    h.contentEncoding,
		ContentLanguage:    h.contentLanguage,
	})
	if err != nil {
		// A source told and gone since is NoSuchKey: ErrNotFound.
		return backends.Entry{}, b.mapErr(op, dst, err)
	}
	if out.CopyObjectResult == nil {
		return backends.Entry{}, &fs.PathError{Op: op, Path: dst, Err: fmt.Errorf("%w: CopyObject answered without a result", backends.ErrUnavailable)}
	}
	e := fileEntry(dst, size, out.CopyObjectResult.ETag, out.CopyObjectResult.LastModified)
	e.Attrs = h.attrs() // what the copy was given
	return e, nil
}

// headers are what a HeadObject says of a file that a copy of it keeps.
type headers struct {
	metadata           map[string]string
	cacheControl       *string
	contentDisposition *string
	contentEncoding    *string
	contentLanguage    *string
	// versionID is the version that the lookup described, on a versioned
	// bucket: what a discard or a preserve of the entry keeps, without
	// asking the bucket again. No copy carries it.
	versionID string
}

func headersOf(out *awss3.HeadObjectOutput) *headers {
	return &headers{
		metadata:           out.Metadata,
		cacheControl:       out.CacheControl,
		contentDisposition: out.ContentDisposition,
		contentEncoding:    out.ContentEncoding,
		contentLanguage:    out.ContentLanguage,
		versionID:          aws.ToString(out.VersionId),
	}
}

// attrsPrefix starts every Entry.Attrs this backend makes, so that the
// headers of a file that has none ("s3") are told from headers not read ("").
const attrsPrefix = "s3"

// attrs encodes h as Entry.Attrs: the prefix and the headers in URL query
// form, sorted by name, so that every lookup of the same object gives the
// same string.
func (h *headers) attrs() string {
	v := url.Values{}
	for k, m := range h.metadata {
		v.Set("m-"+k, m)
	}
	for name, p := range map[string]*string{"cc": h.cacheControl, "cd": h.contentDisposition, "ce": h.contentEncoding, "cl": h.contentLanguage} {
		if p != nil {
			v.Set(name, *p)
		}
	}
	if h.versionID != "" {
		v.Set("v", h.versionID)
	}
	if len(v) == 0 {
		return attrsPrefix
	}
	return attrsPrefix + "?" + v.Encode()
}

// parseAttrs decodes an Entry.Attrs that attrs made; false for any other.
func parseAttrs(a string) (*headers, bool) {
	rest, ok := strings.CutPrefix(a, attrsPrefix)
	if !ok || rest != "" && rest[0] != '?' {
		return nil, false
	}
	v, err := url.ParseQuery(strings.TrimPrefix(rest, "?"))
	if err != nil {
		return nil, false
	}
	h := &headers{}
	for k, vs := range v {
		val := vs[0]
		switch {
		case strings.HasPrefix(k, "m-"):
			if h.metadata == nil {
				h.metadata = map[string]string{}
			}
			h.metadata[k[2:]] = val
		case k == "v":
			h.versionID = val
		case k == "cc":
			h.cacheControl = &val
		case k == "cd":
			h.contentDisposition = &val
		case k == "ce":
			h.contentEncoding = &val
		case k == "cl":
			h.contentLanguage = &val
		}
	}
	return h, true
}

// describedVersion is the version of the file e that the lookup which made
// e described, or "" when it read none (a listing; an unversioned bucket).
func describedVersion(e backends.Entry) string {
	if h, ok := parseAttrs(e.Attrs); ok {
		return h.versionID
	}
	return ""
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
		// The caller made dst's folder: only the source's headers are missing.
		return b.Copy(ctx, src.Path, dst, backends.CopyOptions{ParentExists: true, NoDir: true})
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
func (b *Backend) copyParts(ctx context.Context, src source, dst string, size int64, etag string, h *headers) (backends.Entry, error) {
	key := aws.String(b.key(dst))
	created, err := b.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
		Bucket:             &b.bucket,
		Key:                key,
		ContentType:        aws.String(backends.ContentType(dst)),
		Metadata:           h.metadata,
		CacheControl:       h.cacheControl,
		ContentDisposition: h.contentDisposition,
		ContentEncoding:    h.contentEncoding,
		ContentLanguage:    h.contentLanguage,
	})
	if err != nil {
		return backends.Entry{}, b.mapErr("copy", dst, err)
	}
	ranges := copyRanges(size, b.copyPartSize)
	parts := make([]types.CompletedPart, len(ranges))
	errs := make([]error, len(ranges))
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cs := aws.String(src.copySource(b.bucket))
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
			CopySource:      cs,
			CopySourceRange: aws.String(ranges[i]),
			// The source must not change between parts.
			CopySourceIfMatch: aws.String(etag),
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
	e.Attrs = h.attrs()
	if h, err := b.head(ctx, "copy", dst); err == nil && h.ETag == e.ETag {
		e.ModTime, e.Attrs = h.ModTime, h.Attrs
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

// optional is nil for "", as the SDK wants an absent field.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
