package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/bassareggiana/faldone/backends"
)

// mapErr names the operation and the path of a failed request and wraps its
// error with the backends error it means.
func (b *Backend) mapErr(op, p string, err error) error {
	return &fs.PathError{Op: op, Path: p, Err: b.classify(err)}
}

// classify wraps an error of the SDK with the backends error it means, from
// the S3 error code, the HTTP status or the network error. Errors of the
// context stay as they are, wrapped, so that errors.Is finds them; the SDK
// gives up on the others only after its retries.
func (b *Backend) classify(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var code string
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		code = ae.ErrorCode()
	}
	status := 0
	if re, ok := errors.AsType[*smithyhttp.ResponseError](err); ok {
		status = re.HTTPStatusCode()
	}
	switch code {
	case "NoSuchBucket":
		return fmt.Errorf("bucket %q does not exist: %w: %w", b.bucket, backends.ErrNotFound, err)
	case "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccountProblem":
		return fmt.Errorf("%w to bucket %q: %w", backends.ErrAccessDenied, b.bucket, err)
	case "NoSuchKey", "NotFound", "NoSuchUpload", "NoSuchVersion":
		return fmt.Errorf("%w: %w", backends.ErrNotFound, err)
	case "InvalidRange":
		return fmt.Errorf("%w: %w", backends.ErrRange, err)
	case "EntityTooLarge", "QuotaExceeded", "XMinioStorageFull":
		return fmt.Errorf("%w: %w", backends.ErrTooLarge, err)
	case "KeyTooLongError", "InvalidObjectName":
		return fmt.Errorf("%w: %w", backends.ErrInvalidPath, err)
	// versitygw's posix backend keeps folders as directories, which
	// cannot be files too.
	case "ObjectParentIsFile":
		return fmt.Errorf("%w: a parent is a file: %w", backends.ErrNotFound, err)
	case "ExistingObjectIsDirectory":
		return fmt.Errorf("%w: %w", backends.ErrIsDir, err)
	// Sent again as often as the retryer allows, and damaged every
	// time: a later upload may still arrive whole.
	case "BadDigest", "XAmzContentSHA256Mismatch":
		return fmt.Errorf("%w: %s received other bytes than were sent: %w", backends.ErrUnavailable, b.endpoint, err)
	case "SlowDown", "RequestTimeout", "ServiceUnavailable", "InternalError":
		return fmt.Errorf("%w: %s: %w", backends.ErrUnavailable, b.endpoint, err)
	}
	switch {
	case status == http.StatusForbidden:
		return fmt.Errorf("%w to bucket %q: %w", backends.ErrAccessDenied, b.bucket, err)
	case status == http.StatusNotFound: // HeadObject's answers have no code
		return fmt.Errorf("%w: %w", backends.ErrNotFound, err)
	case status == http.StatusRequestedRangeNotSatisfiable:
		return fmt.Errorf("%w: %w", backends.ErrRange, err)
	case status == http.StatusRequestEntityTooLarge:
		return fmt.Errorf("%w: %w", backends.ErrTooLarge, err)
	case status >= 500:
		return fmt.Errorf("%w: %s: %w", backends.ErrUnavailable, b.endpoint, err)
	}
	if _, ok := errors.AsType[net.Error](err); ok || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %s unreachable: %w", backends.ErrUnavailable, b.endpoint, err)
	}
	return err
}

// isCode reports whether err is an S3 error with one of the codes.
func isCode(err error, codes ...string) bool {
	ae, ok := errors.AsType[smithy.APIError](err)
	if !ok {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}
