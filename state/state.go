// Package state defines the state store: everything the gateway keeps besides
// file content — dead properties, WebDAV locks, sessions, accounts, app
// passwords, sign-in attempts, people, grants, the audit log, the e-mails
// sent, and the leases by which replicas divide background work. Every
// replica of the gateway shares one store, so the gateway itself keeps no
// state a second replica would need.
//
// Paths are the gateway's namespace paths: absolute, slash-separated, cleaned,
// without trailing slash ("/guastalla/2019/PC-2019-0042"); "/" is the root.
package state

import (
	"context"
	"errors"
	"strings"
	"time"
)

var (
	// ErrLocked: a lock conflicts with the one requested.
	ErrLocked = errors.New("conflicting lock")
	// ErrNoSuchLock: no live lock has the token.
	ErrNoSuchLock = errors.New("no such lock")
	// ErrUnavailable: the store cannot be reached, or did not answer in
	// time; the same request may succeed later.
	ErrUnavailable = errors.New("state store unavailable")
)

// PropName is the qualified name of a dead property.
type PropName struct {
	Space, Local string
}

// Prop is a dead property as a client set it.
type Prop struct {
	PropName
	Lang     string // xml:lang of the property element, if any
	InnerXML []byte // the element's content, verbatim
}

// Lock is a WebDAV write lock.
type Lock struct {
	Token     string        // opaque lock token URI ("urn:uuid:…")
	Root      string        // the path the lock was taken on
	Infinite  bool          // Depth: infinity (covers every descendant)
	Shared    bool          // shared, or else exclusive
	Owner     string        // the DAV:owner XML the client supplied, verbatim
	Principal string        // the authenticated account that took it
	Timeout   time.Duration // as granted; 0 means infinite
	Expires   time.Time     // zero when the timeout is infinite
	Created   time.Time
}

// Covers reports whether the lock applies to path p.
func (l Lock) Covers(p string) bool {
	return l.Root == p || (l.Infinite && IsAncestor(l.Root, p))
}

// Live reports whether the lock has not expired at now.
func (l Lock) Live(now time.Time) bool {
	return l.Expires.IsZero() || now.Before(l.Expires)
}

// Conflicts reports whether the new lock n cannot coexist with the live lock l:
// their scopes overlap and at least one of them is exclusive.
func Conflicts(l, n Lock) bool {
	if l.Shared && n.Shared {
		return false
	}
	return l.Covers(n.Root) || n.Covers(l.Root)
}

// IsAncestor reports whether a is a proper ancestor of p.
func IsAncestor(a, p string) bool {
	if a == "/" {
		return p != "/"
	}
	return strings.HasPrefix(p, a+"/")
}

// Ancestors returns the proper ancestors of p, from the root down.
func Ancestors(p string) []string {
	if p == "/" {
		return nil
	}
	out := []string{"/"}
	for i := 1; i < len(p); i++ {
		if p[i] == '/' {
			out = append(out, p[:i])
		}
	}
	return out
}

// Store is the whole state store: everything the gateway keeps besides file
// content. Implementations (sqlite, postgres) must be safe for concurrent use
// by several goroutines and, for shared engines, by several processes;
// statetest is their conformance suite.
type Store interface {
	ResourceStore
	DigestStore
	DossierStore
	AuthStore
	AccountStore
	AccessStore
	LeaseStore
	TrashStore
	CatalogueStore
	NoticeStore
	// DeleteExpired removes, across the store, what has expired at now:
	// sessions, flows, app passwords, locks, grants, notices and attempt
	// counts, and the departures older than DepartureRetention (the hourly
	// housekeeping of every replica calls it).
	DeleteExpired(ctx context.Context, now time.Time) error
	// Close releases the store.
	Close() error
}

// ResourceStore keeps what belongs to the resources of the archive: their
// dead properties and their WebDAV locks.
type ResourceStore interface {
	// Props returns the dead properties of p.
	Props(ctx context.Context, p string) ([]Prop, error)
	// ChildProps returns, in one query, the dead properties of dir and of its
	// direct children, keyed by path. Paths without properties are absent.
	ChildProps(ctx context.Context, dir string) (map[string][]Prop, error)
	// PropsOf returns, in one query, the dead properties of each of paths (a
	// page of a listing: up to a thousand), keyed by path. Paths without
	// properties are absent.
	PropsOf(ctx context.Context, paths []string) (map[string][]Prop, error)
	// PatchProps sets and removes dead properties of p in one transaction.
	// The sets apply in order and the removals after them: a later set of a
	// name wins over an earlier one, and a name both set and removed ends up
	// removed.
	PatchProps(ctx context.Context, p string, set []Prop, remove []PropName) error
	// CopyProps replaces the dead properties of dst and of its descendants with
	// those of src and of its descendants.
	CopyProps(ctx context.Context, src, dst string) error
	// MoveProps is CopyProps followed by DeleteProps(src), in one transaction.
	MoveProps(ctx context.Context, src, dst string) error
	// DeleteProps removes the dead properties of p and of its descendants.
	DeleteProps(ctx context.Context, p string) error

	// CreateLock stores l unless it conflicts with a lock live at l.Created (ErrLocked).
	// The check and the insert are atomic across every user of the store.
	// l.Created must be set; l.Expires is stored as given (zero: never).
	CreateLock(ctx context.Context, l Lock) error
	// RefreshLock gives the live lock with the token a new timeout: Timeout
	// becomes timeout and Expires now+timeout (zero if timeout is 0). It
	// returns the lock as refreshed.
	RefreshLock(ctx context.Context, token string, timeout time.Duration, now time.Time) (Lock, error)
	// Lock returns the live lock with the token (ErrNoSuchLock). Having no
	// now parameter, it judges liveness by the store's clock.
	Lock(ctx context.Context, token string) (Lock, error)
	// DeleteLock removes the lock with the token (ErrNoSuchLock if no lock
	// has it or it has expired, by the store's clock).
	DeleteLock(ctx context.Context, token string) error
	// Locks returns the live locks whose root is p or an ancestor of p, and
	// also those rooted below p when descendants is set. Expired locks are
	// never returned.
	Locks(ctx context.Context, p string, descendants bool, now time.Time) ([]Lock, error)
	// DeleteLocks removes every lock rooted at p or below it.
	DeleteLocks(ctx context.Context, p string) error
}
