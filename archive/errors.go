package archive

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// The errors of the operations, on which the adapters decide what to say.
// Each wraps what caused it; Status gives its HTTP status.
var (
	// ErrNotFound: nothing at the path, or nothing the person may see.
	ErrNotFound = backends.ErrNotFound
	// ErrForbidden: the person may not do this here, or nobody may (the
	// root, a Comune's own folder).
	ErrForbidden = errors.New("forbidden")
	// ErrExists: a folder where a file would go, or something already at
	// the name a folder would take.
	ErrExists = errors.New("already exists")
	// ErrDestinationExists: a copy or move that may not replace what is at
	// its destination. It is ErrExists too.
	ErrDestinationExists = fmt.Errorf("destination %w", ErrExists)
	// ErrConflict: the folder that would hold the result is missing.
	ErrConflict = errors.New("parent folder missing")
	// ErrTooLarge: beyond the Comune's quota.
	ErrTooLarge = backends.ErrTooLarge
	// ErrIncomplete: the content ended before its announced length, or
	// could not be read: the sender's fault.
	ErrIncomplete = backends.ErrIncomplete
	// ErrDigestMismatch: the content's SHA-256 is not the one the writer
	// said it would have (a *DigestMismatchError); nothing was written. A
	// mismatch is the sender's content, as ErrIncomplete is.
	ErrDigestMismatch = fmt.Errorf("SHA-256 differs from the expected one: %w", ErrIncomplete)
)

// DigestMismatchError is ErrDigestMismatch with both digests.
type DigestMismatchError struct {
	Want, Got [32]byte
}

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("SHA-256 %x, expected %x", e.Got, e.Want)
}

// Unwrap makes it ErrDigestMismatch, and so ErrIncomplete.
func (e *DigestMismatchError) Unwrap() error { return ErrDigestMismatch }

// errHidden is the refusal of a path the person may not know exists.
var errHidden = fmt.Errorf("hidden by policy: %w", ErrNotFound)

// ClosedError: what would change is in a closed dossier (or, for a change
// of a folder's tree, holds one). It is ErrForbidden: nobody may change a
// closed dossier until an administrator reopens it.
type ClosedError struct {
	state.ClosedDossier
}

func (e *ClosedError) Error() string { return "in the closed dossier " + e.Path }

// Unwrap makes a ClosedError ErrForbidden.
func (e *ClosedError) Unwrap() error { return ErrForbidden }

// LockedError: a lock the caller does not hold covers what would change.
type LockedError struct {
	Root  string // the namespace path the lock is rooted at
	Owner string // the principal that holds it
}

func (e *LockedError) Error() string { return "locked at " + e.Root }

// Is makes a LockedError state.ErrLocked, as a refused LOCK is.
func (e *LockedError) Is(target error) bool { return target == state.ErrLocked }

// PartialError: an operation on a folder that failed for some of what it
// holds, and left the rest done. Failed maps namespace paths to why.
type PartialError struct {
	Failed map[string]error
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%d resources failed", len(e.Failed))
}

// IsUnavailable reports whether err says that a dependency (a Comune's
// storage, the state store) did not answer, or the server is stopping:
// the same operation may succeed later.
func IsUnavailable(err error) bool {
	return errors.Is(err, backends.ErrUnavailable) || errors.Is(err, state.ErrUnavailable) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// Status is the HTTP status of an operation's error: the one mapping, for
// WebDAV and the pages alike.
func Status(err error) int {
	var pe *PartialError
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &pe):
		return http.StatusMultiStatus
	// The kinds the operations give come first: they wrap the storage's
	// error that caused them (a missing parent is ErrNotFound below them).
	case errors.Is(err, ErrConflict):
		return http.StatusConflict
	case errors.Is(err, backends.ErrInvalidPath), errors.Is(err, backends.ErrIncomplete):
		return http.StatusBadRequest
	case errors.Is(err, backends.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrForbidden), errors.Is(err, backends.ErrPermission):
		return http.StatusForbidden
	case errors.Is(err, ErrDestinationExists):
		return http.StatusPreconditionFailed
	case errors.Is(err, ErrExists), errors.Is(err, backends.ErrExist), errors.Is(err, backends.ErrIsDir):
		return http.StatusMethodNotAllowed
	case errors.Is(err, backends.ErrNotDir):
		return http.StatusConflict
	case errors.Is(err, backends.ErrRange):
		return http.StatusRequestedRangeNotSatisfiable
	case errors.Is(err, backends.ErrTooLarge):
		return http.StatusInsufficientStorage
	case IsUnavailable(err):
		// A cancelled context is a server shutting down: a client that
		// went away reads no answer.
		return http.StatusServiceUnavailable
	case errors.Is(err, backends.ErrAccessDenied):
		return http.StatusBadGateway
	case errors.Is(err, state.ErrLocked):
		return http.StatusLocked
	case errors.Is(err, state.ErrNoSuchLock):
		return http.StatusPreconditionFailed
	default:
		return http.StatusInternalServerError
	}
}
