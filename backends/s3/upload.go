package s3

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bassareggiana/faldone/backends"
)

// errAborted ends the transfer of an upload that is aborted.
var errAborted = errors.New("upload aborted")

// Create starts an upload to p, once sure that its parent folder exists and
// that p is not a folder: two listings of one key, sent at once, each left
// out when opts tell it (backends.CreateOptions). A new small file whose
// caller told both is one PutObject.
//
// The upload streams through a pipe into the transfer manager, which runs
// until Commit or Abort: the upload must end with one of them. Create's
// context governs it: cancelling it aborts the upload.
func (b *Backend) Create(ctx context.Context, p string, size int64, opts backends.CreateOptions) (backends.Upload, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkTarget(p); err != nil {
		return nil, err
	}
	var checks []func() error
	if !opts.ParentExists {
		checks = append(checks, func() error { return b.requireDir(ctx, "create", p, parent(p)) })
	}
	if !opts.NoDir {
		checks = append(checks, func() error { return b.refuseDir(ctx, "create", p) })
	}
	if err := concurrently(checks...); err != nil {
		return nil, err
	}
	return b.startUpload(ctx, p, size), nil
}

// upload feeds the bytes written to it through a pipe to the transfer
// manager, which reads them in parts. The manager ends only once the pipe
// ends: at EOF, which Commit sends after checking the size and which makes
// the manager finish the upload, or at an error, which makes it abort.
type upload struct {
	b    *Backend
	path string
	size int64 // the expected size, or -1

	pw     *io.PipeWriter
	cancel context.CancelCauseFunc // stops the transfer and its requests
	done   chan struct{}           // closed when the transfer has ended
	out    *transfermanager.UploadObjectOutput
	err    error // why the transfer failed, once done

	mu       sync.Mutex
	n        int64 // bytes written
	finished bool  // committed or aborted
}

func (b *Backend) startUpload(ctx context.Context, p string, size int64) *upload {
	tctx, cancel := context.WithCancelCause(ctx)
	pr, pw := io.Pipe()
	u := &upload{b: b, path: p, size: size, pw: pw, cancel: cancel, done: make(chan struct{})}
	// The manager blocks reading the pipe between parts: closing it is
	// how a cancelled context reaches the manager.
	stop := context.AfterFunc(tctx, func() { pw.CloseWithError(context.Cause(tctx)) })
	in := &transfermanager.UploadObjectInput{
		Bucket:      &b.bucket,
		Key:         aws.String(b.key(p)),
		Body:        pr,
		ContentType: aws.String(backends.ContentType(p)),
	}
	if size > 0 {
		// With the size, the manager enlarges the parts of an upload that
		// would need more than S3's 10,000.
		in.ContentLength = aws.Int64(size)
	}
	go func() {
		out, err := b.tm.UploadObject(tctx, in)
		stop()
		cancel(errUploadEnded) // releases the context
		u.out, u.err = out, err
		close(u.done)
		// A Write still blocked on the pipe returns, with u.err.
		pr.CloseWithError(cmp.Or(err, errUploadEnded))
	}()
	return u
}

// errUploadEnded is what a Write meets after the transfer has ended.
var errUploadEnded = errors.New("upload ended")

// Write passes p to the transfer manager, blocking while it has no buffer
// free, which bounds the memory an upload takes. More bytes than announced
// abort the upload.
func (u *upload) Write(p []byte) (int, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.finished {
		return 0, &fs.PathError{Op: "write", Path: u.path, Err: backends.ErrUploadFinished}
	}
	if u.size >= 0 && u.n+int64(len(p)) > u.size {
		u.abort()
		return 0, &fs.PathError{Op: "write", Path: u.path,
			Err: fmt.Errorf("more than the %d bytes announced: %w", u.size, backends.ErrIncomplete)}
	}
	n, err := u.pw.Write(p)
	u.n += int64(n)
	if err != nil {
		return n, u.failure("write", err)
	}
	return n, nil
}

// failure is the error to report for an upload whose pipe failed with err.
// The pipe fails because the transfer has ended or is ending, with an error
// that says why, such as a cancelled context: it waits for that error.
func (u *upload) failure(op string, err error) error {
	<-u.done
	// The manager's own abort may not be the last word (see cleanup).
	return errors.Join(u.b.mapErr(op, u.path, cmp.Or(u.err, err)), u.cleanup())
}

// Commit ends the body, waits for the transfer manager to send the last part
// and complete the upload, and describes the new file. The ETag is the one
// S3 gave, which its listings and headers repeat. S3 does not say when it
// recorded a PutObject: the modification time is that of the answer, within
// a second of what Stat will report. For a multipart upload, where S3 may
// record the time the upload began, one HeadObject finds the exact time.
func (u *upload) Commit(ctx context.Context) (backends.Entry, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.finished {
		return backends.Entry{}, &fs.PathError{Op: "commit", Path: u.path, Err: backends.ErrUploadFinished}
	}
	if err := ctx.Err(); err != nil {
		u.abort()
		return backends.Entry{}, &fs.PathError{Op: "commit", Path: u.path, Err: err}
	}
	if u.size >= 0 && u.n != u.size {
		u.abort()
		return backends.Entry{}, &fs.PathError{Op: "commit", Path: u.path,
			Err: fmt.Errorf("%d bytes written, %d announced: %w", u.n, u.size, backends.ErrIncomplete)}
	}
	u.finished = true
	u.pw.Close()
	// A cancelled Commit stops the transfer, which then aborts.
	stop := context.AfterFunc(ctx, func() { u.cancel(context.Cause(ctx)) })
	<-u.done
	stop()
	if u.err != nil {
		cerr := u.cleanup()
		if err := ctx.Err(); err != nil {
			return backends.Entry{}, errors.Join(&fs.PathError{Op: "commit", Path: u.path, Err: err}, cerr)
		}
		return backends.Entry{}, errors.Join(u.b.mapErr("commit", u.path, u.err), cerr)
	}
	e := fileEntry(u.path, u.n, u.out.ETag, aws.Time(time.Now()))
	e.Attrs = (&headers{}).attrs() // the upload set nothing but the content type
	if u.out.UploadID != nil {
		h, err := u.b.head(ctx, "commit", u.path)
		if err == nil && h.ETag == e.ETag { // not yet replaced by another upload
			e.ModTime, e.Attrs = h.ModTime, h.Attrs
		}
	}
	return e, nil
}

// Abort discards the upload and waits until the transfer manager has
// aborted the multipart upload, if it began one. It ignores ctx: it runs
// when a request failed, often because its context was cancelled, and must
// clean up all the same.
func (u *upload) Abort(ctx context.Context) error {
	// Unblock a Write that holds the lock waiting for the pipe.
	u.cancel(errAborted)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.finished {
		return nil
	}
	return u.abort()
}

func (u *upload) abort() error {
	u.finished = true
	u.cancel(errAborted)
	<-u.done
	return u.cleanup()
}

// cleanup makes sure that a failed multipart upload is gone. The transfer
// manager aborts it, but drops the error of its abort: aborting again tells,
// since S3 answers NoSuchUpload for an upload already aborted.
//
// When the transfer failed because the storage did not answer, the
// manager's abort has just waited for it in vain: the request is answered
// at once, and the abort is tried again in the background, for as long as
// failTimeout, in case the storage comes back; what it cannot remove, the
// housekeeping's AbortStaleUploads does.
func (u *upload) cleanup() error {
	mpe, ok := errors.AsType[transfermanager.MultipartUploadError](u.err)
	if !ok || mpe.UploadID() == "" {
		return nil
	}
	abort := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), failTimeout)
		defer cancel()
		_, err := u.b.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
			Bucket:   &u.b.bucket,
			Key:      aws.String(u.b.key(u.path)),
			UploadId: aws.String(mpe.UploadID()),
		})
		if err != nil && !isCode(err, "NoSuchUpload") {
			return u.b.mapErr("abort", u.path, err)
		}
		return nil
	}
	if errors.Is(u.b.classify(u.err), backends.ErrUnavailable) {
		go abort()
		return nil
	}
	return abort()
}
