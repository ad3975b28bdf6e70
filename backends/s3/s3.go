// Package s3 implements [backends.Backend] over a bucket of Amazon S3 or of a
// server that speaks its API.
//
// A file is the object whose key is the configured prefix followed by the
// file's path, so the bucket stays readable without Faldone. A folder is a
// zero-byte marker object whose key ends with a slash ("a/b/"); keys under a
// prefix with no marker, as other tools write them, make a folder too.
// Listings skip keys that are not valid paths (an empty, "." or ".."
// element), since nothing could address them.
//
// Metadata comes from listings and object headers, the content type from
// the name: nothing reads content to describe it. Uploads go through the
// SDK's transfer manager: a body smaller than the part size is one PutObject,
// a larger one a multipart upload holding at most Concurrency+2 parts in
// memory. The object appears only when the upload completes. Each request
// of an upload carries the SHA-256 of its bytes, which S3 verifies (see
// checksum.go).
//
// S3 renames nothing, so the backend is no [backends.Mover]: the gateway
// moves by copying on the server side and deleting.
//
// Every multipart upload this package starts is completed or aborted, but a
// process that dies in the middle leaves its parts behind: a bucket lifecycle
// rule AbortIncompleteMultipartUpload should clean them up.
package s3

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithymw "github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/bassareggiana/faldone/backends"
)

// Config says where the files are and how to move them.
type Config struct {
	Bucket string
	// Prefix is prepended to every path: "" or a folder such as "guastalla/"
	// (a missing final slash is added).
	Prefix string
	// Endpoint is the URL of an S3-compatible server; "" means AWS.
	Endpoint string
	// Region is the bucket's region: for AWS, "" takes it from the standard
	// chain; for another Endpoint, "" means "us-east-1".
	Region string
	// PathStyle puts the bucket in the URL path instead of the host name,
	// as most S3-compatible servers need.
	PathStyle bool
	// AccessKey and SecretKey are the credentials. When they are empty the
	// standard AWS chain provides them: the environment, the shared files,
	// the instance role. When they are set, nothing is read from the
	// environment (AWS_CA_BUNDLE included), so every replica behaves alike.
	AccessKey, SecretKey string
	// PartSize is the size of the parts of multipart uploads, and the size
	// from which an upload is multipart: 8 MiB when 0, at least 5 MiB.
	PartSize int64
	// Concurrency is how many parts of one upload or copy are sent at
	// once: 4 when 0. An upload holds about PartSize × (Concurrency+2)
	// bytes of memory.
	Concurrency int
	// Observe, when set, is told of every S3 operation the SDK completes
	// (retries included in its duration), for metrics.
	Observe func(operation string, err error, d time.Duration)
	// RequestTimeout bounds each request that carries no content, its
	// retries included; StallTimeout bounds how long a transfer may move
	// no byte (see timeout.go). 30 s each when 0.
	RequestTimeout, StallTimeout time.Duration
	// NoChecksums sends uploads without the SHA-256 checksums that S3
	// verifies (see checksum.go), for a server that refuses them.
	NoChecksums bool

	// clientOptions adjust the S3 client last, for tests that must see or
	// change what goes on the wire.
	clientOptions []func(*awss3.Options)
}

const (
	defaultPartSize    = 8 << 20
	minPartSize        = 5 << 20 // S3's smallest part but the last
	maxPartSize        = 5 << 30
	defaultConcurrency = 4
	pageSize           = 1000 // the most keys S3 lists or deletes in one request
	// maxCopyObject is the largest source that CopyObject copies in one
	// request; larger ones are copied in parts with UploadPartCopy.
	maxCopyObject = 5 << 30
	// copyPartSize is the size of the parts of a multipart copy: as few
	// requests as S3 allows without making a failed part costly to retry.
	copyPartSize = 512 << 20
	// checkConcurrency bounds the requests that Delete sends at once to see
	// whether folders are empty.
	checkConcurrency = 8
	// failTimeout bounds the requests that clean up after a failure, which
	// run even when the request that failed was cancelled.
	failTimeout = time.Minute
)

// Backend stores files as objects of one bucket.
type Backend struct {
	client   *awss3.Client
	tm       *transfermanager.Client
	bucket   string
	prefix   string
	endpoint string // for messages
	conc     int

	// copyThreshold and copyPartSize are maxCopyObject and copyPartSize,
	// made smaller by tests.
	copyThreshold int64
	copyPartSize  int64

	// keep is what the bucket says of versioning and Object Lock, learned
	// once (see keep.go).
	keep keepState

	// listFallbacks counts the listing pages that the scanner of S3's XML
	// left to the SDK's decoder (see listxml.go).
	listFallbacks atomic.Int64
}

var (
	_ backends.Backend = (*Backend)(nil)
	_ backends.Checker = (*Backend)(nil)
)

// New returns a backend for the bucket that cfg names. It sends no request:
// [Backend.Check] verifies that the bucket is there and can be listed.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3: no bucket")
	}
	prefix, err := normalizePrefix(cfg.Prefix)
	if err != nil {
		return nil, err
	}
	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = defaultPartSize
	}
	if partSize < minPartSize || partSize > maxPartSize {
		return nil, fmt.Errorf("s3: part size %d is outside the %d to %d bytes S3 accepts", partSize, minPartSize, maxPartSize)
	}
	conc := cfg.Concurrency
	if conc == 0 {
		conc = defaultConcurrency
	}
	if conc < 0 {
		return nil, fmt.Errorf("s3: negative concurrency %d", conc)
	}
	if cfg.Endpoint != "" {
		if u, err := url.Parse(cfg.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("s3: endpoint %q is not an http or https URL", cfg.Endpoint)
		}
	}
	if (cfg.AccessKey == "") != (cfg.SecretKey == "") {
		return nil, errors.New("s3: an access key needs its secret key, and the other way round")
	}
	client, err := newClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	tm := transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = partSize
		o.MultipartUploadThreshold = partSize
		o.Concurrency = conc
		// The transfer manager aborts a failed multipart upload with the
		// upload's context unless this is set: a cancelled request would
		// leave its parts behind.
		o.FailTimeout = failTimeout
		uploadChecksums(o, !cfg.NoChecksums)
	})
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "AWS"
	}
	return &Backend{
		client:        client,
		tm:            tm,
		bucket:        cfg.Bucket,
		prefix:        prefix,
		endpoint:      endpoint,
		conc:          conc,
		copyThreshold: maxCopyObject,
		copyPartSize:  copyPartSize,
	}, nil
}

// newClient makes the S3 client: the SDK's standard retryer (three attempts
// with exponential backoff on throttling, 5xx answers, network errors and
// bodies that S3 received damaged) and a connection pool sized for a server
// that many clients use at once.
func newClient(ctx context.Context, cfg Config) (*awss3.Client, error) {
	requestTimeout := cmp.Or(cfg.RequestTimeout, defaultRequestTimeout)
	stallTimeout := cmp.Or(cfg.StallTimeout, defaultStallTimeout)
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.MaxIdleConns = 256
		tr.MaxIdleConnsPerHost = 128
		tr.DialContext = stallDialer(tr.DialContext, stallTimeout)
	})
	opts := func(o *awss3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(noStallRetry)}, so.Retryables...)
			so.Retryables = append(so.Retryables, retry.IsErrorRetryableFunc(damagedRetry))
		})
		if cfg.NoChecksums { // nor on the requests the backend sends itself, such as a folder's marker
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		}
		o.APIOptions = append(o.APIOptions, requestTimeoutMiddleware(requestTimeout, cmp.Or(cfg.Endpoint, "AWS")))
		if cfg.Observe != nil {
			o.APIOptions = append(o.APIOptions, observeMiddleware(cfg.Observe))
		}
		for _, f := range cfg.clientOptions {
			f(o)
		}
	}
	region := cfg.Region
	if region == "" && cfg.Endpoint != "" {
		region = "us-east-1"
	}
	if cfg.AccessKey != "" {
		if region == "" {
			return nil, errors.New("s3: no region: set one for AWS")
		}
		return awss3.New(awss3.Options{
			Region:      region,
			Credentials: credentials.NewStaticCredentialsProvider(cfg.AccessKey, cfg.SecretKey, ""),
			HTTPClient:  httpClient,
		}, opts), nil
	}
	load := []func(*config.LoadOptions) error{config.WithHTTPClient(httpClient)}
	if region != "" {
		load = append(load, config.WithRegion(region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("s3: loading the AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		return nil, errors.New("s3: no region: set one, or AWS_REGION")
	}
	return awss3.NewFromConfig(awsCfg, opts), nil
}

// normalizePrefix returns prefix with one final slash, or "", and refuses
// one that no path could be under.
func normalizePrefix(prefix string) (string, error) {
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return "", nil
	}
	if err := checkPath(prefix); err != nil {
		return "", fmt.Errorf("s3: prefix: %w", err)
	}
	return prefix + "/", nil
}

// Stat describes the file or folder at p: a HeadObject finds a file, and
// when there is none a listing of one key finds a folder.
func (b *Backend) Stat(ctx context.Context, p string) (backends.Entry, error) {
	e, err := b.StatFile(ctx, p)
	switch {
	case !errors.Is(err, backends.ErrNotFound):
		return e, err
	case p == "":
		return backends.Entry{IsDir: true}, nil
	}
	return b.statDir(ctx, "stat", p)
}

// StatFile describes the file at p with one HeadObject, without looking
// for a folder there (backends.FileStater).
func (b *Backend) StatFile(ctx context.Context, p string) (backends.Entry, error) {
	if err := ctx.Err(); err != nil {
		return backends.Entry{}, err
	}
	if err := checkPath(p); err != nil {
		return backends.Entry{}, err
	}
	if p == "" {
		return backends.Entry{}, &fs.PathError{Op: "stat", Path: p, Err: backends.ErrNotFound}
	}
	return b.head(ctx, "stat", p)
}

// head describes the file at p, with the headers that a copy of it keeps.
func (b *Backend) head(ctx context.Context, op, p string) (backends.Entry, error) {
	out, err := b.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &b.bucket, Key: aws.String(b.key(p))})
	if err != nil {
		return backends.Entry{}, b.mapErr(op, p, err)
	}
	e := fileEntry(p, aws.ToInt64(out.ContentLength), out.ETag, out.LastModified)
	e.Attrs = headersOf(out).attrs()
	return e, nil
}

// statDir describes the folder p, or fails with ErrNotFound if nothing is
// stored under it. The modification time is that of its marker, if any.
func (b *Backend) statDir(ctx context.Context, op, p string) (backends.Entry, error) {
	first, err := b.firstUnder(ctx, op, p)
	if err != nil {
		return backends.Entry{}, err
	}
	if first == nil {
		return backends.Entry{}, &fs.PathError{Op: op, Path: p, Err: backends.ErrNotFound}
	}
	e := backends.Entry{Path: p, IsDir: true}
	if aws.ToString(first.Key) == b.dirKey(p) {
		e.ModTime = aws.ToTime(first.LastModified)
	}
	return e, nil
}

// firstUnder returns the first object stored under the folder p, its marker
// included, or nil when there is none.
func (b *Backend) firstUnder(ctx context.Context, op, p string) (*types.Object, error) {
	out, err := b.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
		Bucket:  &b.bucket,
		Prefix:  aws.String(b.dirKey(p)),
		MaxKeys: aws.Int32(1),
	})
	if err != nil {
		return nil, b.mapErr(op, p, err)
	}
	if len(out.Contents) == 0 {
		return nil, nil
	}
	return &out.Contents[0], nil
}

// requireDir checks that the folder p exists, for an operation on path.
func (b *Backend) requireDir(ctx context.Context, op, path, p string) error {
	if p == "" {
		return nil
	}
	first, err := b.firstUnder(ctx, op, p)
	if err != nil {
		return err
	}
	if first == nil {
		return &fs.PathError{Op: op, Path: path, Err: fmt.Errorf("folder %q: %w", p, backends.ErrNotFound)}
	}
	return nil
}

// refuseDir fails with ErrIsDir when a folder is at p.
func (b *Backend) refuseDir(ctx context.Context, op, p string) error {
	first, err := b.firstUnder(ctx, op, p)
	if err != nil {
		return err
	}
	if first != nil {
		return &fs.PathError{Op: op, Path: p, Err: backends.ErrIsDir}
	}
	return nil
}

// Open reads the file at p, or the part of it that r selects, with one
// GetObject: the range goes to S3 as an HTTP Range header.
func (b *Backend) Open(ctx context.Context, p string, r *backends.Range) (*backends.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkPath(p); err != nil {
		return nil, err
	}
	if p == "" {
		return nil, &fs.PathError{Op: "open", Path: p, Err: backends.ErrIsDir}
	}
	if r != nil && (r.Length == 0 || r.Start < 0 && r.Length < 0) {
		return b.openEmpty(ctx, p, r)
	}
	tctx, ct := traceConn(ctx)
	out, err := b.client.GetObject(tctx, &awss3.GetObjectInput{
		Bucket: &b.bucket,
		Key:    aws.String(b.key(p)),
		Range:  httpRange(r),
	})
	if err != nil {
		return nil, b.notFile(ctx, "open", p, b.mapErr("open", p, err))
	}
	raw, _ := awsmw.GetRawResponse(out.ResultMetadata).(*smithyhttp.Response)
	out.Body = withLowat(out.Body, ct, aws.ToInt64(out.ContentLength), raw != nil && raw.ProtoMajor == 1)
	obj, err := object(p, r, out)
	if err != nil {
		out.Body.Close()
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	return obj, nil
}

// openEmpty serves the ranges of no bytes, which HTTP cannot express: one
// from an offset inside the file, or an empty suffix, which is ErrRange. It
// asks S3 all the same, so that a missing file is ErrNotFound first.
func (b *Backend) openEmpty(ctx context.Context, p string, r *backends.Range) (*backends.Object, error) {
	e, err := b.head(ctx, "open", p)
	if err != nil {
		return nil, b.notFile(ctx, "open", p, err)
	}
	if r.Start < 0 || r.Start >= e.Size {
		return nil, &fs.PathError{Op: "open", Path: p, Err: backends.ErrRange}
	}
	return &backends.Object{Entry: e, Body: http.NoBody, Start: r.Start}, nil
}

// notFile turns the ErrNotFound of a request for the file p into ErrIsDir
// when p is a folder; it returns any other error as it is.
func (b *Backend) notFile(ctx context.Context, op, p string, err error) error {
	if !errors.Is(err, backends.ErrNotFound) {
		return err
	}
	if derr := b.refuseDir(ctx, op, p); derr != nil {
		return derr
	}
	return err
}

// httpRange is the Range header that selects r, as backends.Range and HTTP
// define ranges alike; r selects at least one byte.
func httpRange(r *backends.Range) *string {
	switch {
	case r == nil:
		return nil
	case r.Start < 0:
		return aws.String("bytes=-" + strconv.FormatInt(r.Length, 10))
	case r.Length < 0 || r.Length > 1<<62: // to the end, without overflowing
		return aws.String("bytes=" + strconv.FormatInt(r.Start, 10) + "-")
	default:
		return aws.String(fmt.Sprintf("bytes=%d-%d", r.Start, r.Start+r.Length-1))
	}
}

// object describes the answer to a GetObject of the file p for the range r.
func object(p string, r *backends.Range, out *awss3.GetObjectOutput) (*backends.Object, error) {
	length := aws.ToInt64(out.ContentLength)
	start, size := int64(0), length
	if cr := aws.ToString(out.ContentRange); cr != "" {
		var err error
		if start, size, err = parseContentRange(cr); err != nil {
			return nil, err
		}
	} else if r != nil {
		// The server sent the whole file: select the range here.
		var err error
		if start, length, err = backends.Span(size, r); err != nil {
			return nil, err
		}
		out.Body = skipLimit(out.Body, start, length)
	}
	// HTTP serves some ranges of an empty file (S3 a suffix); the
	// backends contract refuses every one.
	if r != nil && size == 0 {
		return nil, backends.ErrRange
	}
	return &backends.Object{
		Entry:  fileEntry(p, size, out.ETag, out.LastModified),
		Body:   out.Body,
		Start:  start,
		Length: length,
	}, nil
}

// parseContentRange reads "bytes START-END/SIZE".
func parseContentRange(cr string) (start, size int64, err error) {
	rest, ok := strings.CutPrefix(cr, "bytes ")
	first, total, ok2 := strings.Cut(rest, "/")
	from, _, ok3 := strings.Cut(first, "-")
	if ok && ok2 && ok3 {
		start, err = strconv.ParseInt(from, 10, 64)
		if err == nil {
			size, err = strconv.ParseInt(total, 10, 64)
		}
		if err == nil {
			return start, size, nil
		}
	}
	return 0, 0, fmt.Errorf("malformed Content-Range %q: %w", cr, backends.ErrUnavailable)
}

// skipLimit yields n bytes of rc from offset start.
func skipLimit(rc io.ReadCloser, start, n int64) io.ReadCloser {
	return &skipReader{rc: rc, skip: start, r: io.LimitReader(rc, n)}
}

type skipReader struct {
	rc   io.ReadCloser
	skip int64
	r    io.Reader
}

func (s *skipReader) Read(p []byte) (int, error) {
	if s.skip > 0 {
		n, err := io.CopyN(io.Discard, s.rc, s.skip)
		s.skip -= n
		if err != nil {
			return 0, err
		}
	}
	return s.r.Read(p)
}

func (s *skipReader) Close() error { return s.rc.Close() }

// Mkdir creates the folder p as a marker object, once sure that its parent
// exists and that nothing is at p: three requests at once, then the PutObject.
func (b *Backend) Mkdir(ctx context.Context, p string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkPath(p); err != nil {
		return err
	}
	if p == "" {
		return &fs.PathError{Op: "mkdir", Path: p, Err: backends.ErrExist}
	}
	err := concurrently(
		func() error { return b.requireDir(ctx, "mkdir", p, parent(p)) },
		func() error {
			_, err := b.head(ctx, "mkdir", p)
			switch {
			case err == nil:
				return &fs.PathError{Op: "mkdir", Path: p, Err: backends.ErrExist}
			case errors.Is(err, backends.ErrNotFound):
				return nil
			}
			return err
		},
		func() error {
			err := b.refuseDir(ctx, "mkdir", p)
			if errors.Is(err, backends.ErrIsDir) {
				return &fs.PathError{Op: "mkdir", Path: p, Err: backends.ErrExist}
			}
			return err
		},
	)
	if err != nil {
		return err
	}
	_, err = b.client.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: &b.bucket,
		Key:    aws.String(b.dirKey(p)),
		Body:   http.NoBody,
	})
	if err != nil {
		return b.mapErr("mkdir", p, err)
	}
	return nil
}

// Check verifies that the bucket exists and that the prefix can be listed,
// with one ListObjectsV2 of one key: that proves more than a HeadBucket, and
// costs the same. It writes nothing, as it runs for every readiness probe.
// The first that passes also learns, with two more requests, whether the
// bucket is versioned and holds objects (see keep.go).
func (b *Backend) Check(ctx context.Context) error {
	_, err := b.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
		Bucket:  &b.bucket,
		Prefix:  aws.String(b.prefix),
		MaxKeys: aws.Int32(1),
	})
	if err == nil {
		// How the bucket keeps content, once in the backend's life.
		_, _, err := b.learn(ctx)
		return err
	}
	err = b.classify(err)
	switch {
	case errors.Is(err, backends.ErrNotFound), errors.Is(err, backends.ErrAccessDenied):
		// The message names the bucket already.
		return fmt.Errorf("s3 at %s: %w", b.endpoint, err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("s3: bucket %q at %s did not answer in time: %w: %w", b.bucket, b.endpoint, backends.ErrUnavailable, err)
	}
	// An unavailable storage's message names the endpoint already.
	return fmt.Errorf("s3: bucket %q: %w", b.bucket, err)
}

// key is the object key of the file p.
func (b *Backend) key(p string) string { return b.prefix + p }

// dirKey is the key of the marker of the folder p, which starts the keys of
// everything in it; the root's is the prefix.
func (b *Backend) dirKey(p string) string {
	if p == "" {
		return b.prefix
	}
	return b.prefix + p + "/"
}

// parent is the folder that holds p.
func parent(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// fileEntry describes a file from the metadata S3 gives.
func fileEntry(p string, size int64, etag *string, modTime *time.Time) backends.Entry {
	return backends.Entry{
		Path:        p,
		Size:        size,
		ETag:        unquote(aws.ToString(etag)),
		ModTime:     aws.ToTime(modTime),
		ContentType: backends.ContentType(p),
	}
}

// unquote strips the quotes that S3 puts around ETags.
func unquote(etag string) string {
	if len(etag) >= 2 && etag[0] == '"' && etag[len(etag)-1] == '"' {
		return etag[1 : len(etag)-1]
	}
	return etag
}

// checkPath is backends.CheckPath: NUL bytes are refused because S3's XML
// cannot carry them, other bytes than UTF-8 because keys must be; a
// backslash is an ordinary character on S3. It refuses the folder of kept
// content too (backends.KeepFolder), which is no path: the one rule by
// which every call refuses it and every listing skips its keys.
func checkPath(p string) error {
	if backends.InKeepFolder(p) {
		return fmt.Errorf("%q, the kept content: %w", p, backends.ErrInvalidPath)
	}
	return backends.CheckPath(p)
}

// checkTarget refuses a path that cannot be written: an invalid one or the root.
func checkTarget(p string) error {
	if p == "" {
		return fmt.Errorf("the root: %w", backends.ErrInvalidPath)
	}
	return checkPath(p)
}

// concurrently runs independent requests at once, so that the checks before
// a write cost the time of one, and returns the first error in their order.
func concurrently(fns ...func() error) error {
	errs := make([]error, len(fns))
	parallel(len(fns), len(fns), func(i int) { errs[i] = fns[i]() })
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// parallel calls fn(i) for every i below n, at most limit at a time, and
// waits for all of them.
func parallel(n, limit int, fn func(i int)) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}

// observeMiddleware reports each operation's outcome and duration, measured
// around the whole SDK stack (retries included).
func observeMiddleware(observe func(string, error, time.Duration)) func(*smithymw.Stack) error {
	return func(stack *smithymw.Stack) error {
		return stack.Initialize.Add(smithymw.InitializeMiddlewareFunc("FaldoneObserve",
			func(ctx context.Context, in smithymw.InitializeInput, next smithymw.InitializeHandler) (smithymw.InitializeOutput, smithymw.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				observe(awsmw.GetOperationName(ctx), err, time.Since(start))
				return out, md, err
			}), smithymw.Before)
	}
}

// AbortStaleUploads aborts the multipart uploads under the backend's prefix
// that began before olderThan: those a crashed process left behind. It
// returns how many it aborted.
func (b *Backend) AbortStaleUploads(ctx context.Context, olderThan time.Time) (int, error) {
	n := 0
	in := &awss3.ListMultipartUploadsInput{Bucket: aws.String(b.bucket), Prefix: aws.String(b.prefix)}
	for {
		out, err := b.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return n, b.mapErr("list uploads", b.prefix, err)
		}
		for _, u := range out.Uploads {
			if u.Initiated == nil || !u.Initiated.Before(olderThan) {
				continue
			}
			_, err := b.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: aws.String(b.bucket), Key: u.Key, UploadId: u.UploadId})
			if err != nil && !isCode(err, "NoSuchUpload") {
				return n, b.mapErr("abort upload", aws.ToString(u.Key), err)
			}
			n++
		}
		if !aws.ToBool(out.IsTruncated) {
			return n, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}
