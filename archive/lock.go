package archive

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// ErrLockMismatch: no lock the caller submitted, or named, covers the
// resource (or it is gone).
var ErrLockMismatch = errors.New("no such lock on the resource")

// LockRequest is a write lock asked for.
type LockRequest struct {
	Infinite bool          // the lock covers what is below the resource too
	Shared   bool          // others may hold shared locks beside it
	Owner    string        // what the client says of the owner, kept verbatim
	Timeout  time.Duration // 0: never expires
}

// Lock takes a write lock on p for the caller. Locking a path where nothing
// is makes an empty file there (RFC 4918, section 7.3), which needs the
// locks of p's folder like any new member; it reports created. The
// caller's preconditions run first.
func (o *Op) Lock(p string, want LockRequest) (state.Lock, bool, error) {
	p, err := Path(p)
	if err != nil {
		return state.Lock{}, false, err
	}
	if err := o.Allow(access.Lock, p); err != nil {
		return state.Lock{}, false, err
	}
	if p == "/" {
		return state.Lock{}, false, fmt.Errorf("LOCK of the root: %w", ErrForbidden)
	}
	_, err = o.Stat(p)
	exists := err == nil
	if err != nil && !errors.Is(err, backends.ErrNotFound) {
		return state.Lock{}, false, err
	}
	if o.c.Check != nil {
		if err := o.c.Check(); err != nil {
			return state.Lock{}, false, err
		}
	}
	// Every WebDAV lock is a write lock: none is taken in a closed dossier.
	if err := o.checkClosed(Target{Path: p, Tree: want.Infinite}); err != nil {
		return state.Lock{}, false, err
	}
	if !exists {
		if err := o.checkLocks(Target{Path: p, Member: true}); err != nil {
			return state.Lock{}, false, err
		}
	}
	now := o.s.now()
	l := state.Lock{Token: newToken(), Root: p, Infinite: want.Infinite, Shared: want.Shared, Owner: want.Owner,
		Principal: o.c.Principal, Timeout: want.Timeout, Created: now}
	if want.Timeout > 0 {
		l.Expires = now.Add(want.Timeout)
	}
	if err := o.s.store.CreateLock(o.ctx, l); err != nil {
		return state.Lock{}, false, err
	}
	if !exists {
		if err := o.createEmpty(p); err != nil {
			if derr := o.s.store.DeleteLock(o.ctx, l.Token); derr != nil {
				o.s.log.Error("drop lock of a failed LOCK", "path", p, "err", derr)
			}
			return state.Lock{}, false, err
		}
	}
	return l, !exists, nil
}

// createEmpty stores an empty file at p.
func (o *Op) createEmpty(p string) error {
	up, err := o.s.fs.Create(o.ctx, backendPath(p), 0, backends.CreateOptions{})
	if errors.Is(err, backends.ErrNotFound) || errors.Is(err, backends.ErrNotDir) {
		return fmt.Errorf("LOCK %s: %w: %w", p, ErrConflict, err)
	}
	if err != nil {
		return err
	}
	if _, err := up.Commit(o.ctx); err != nil {
		return err
	}
	o.changed(p, false)
	return nil
}

// Refresh renews, with a new timeout, the lock among the caller's tokens
// that covers p and is the caller's (ErrLockMismatch when none is).
func (o *Op) Refresh(p string, timeout time.Duration) (state.Lock, error) {
	p, err := Path(p)
	if err != nil {
		return state.Lock{}, err
	}
	if err := o.Allow(access.Lock, p); err != nil {
		return state.Lock{}, err
	}
	for tok := range o.c.Tokens {
		l, err := o.s.store.Lock(o.ctx, tok)
		if errors.Is(err, state.ErrNoSuchLock) || (err == nil && (!l.Covers(p) || l.Principal != o.c.Principal)) {
			continue
		}
		if err != nil {
			return state.Lock{}, err
		}
		return o.s.store.RefreshLock(o.ctx, tok, timeout, o.s.now())
	}
	return state.Lock{}, fmt.Errorf("refresh of %s: %w", p, ErrLockMismatch)
}

// Unlock removes the lock with the token, which must cover p
// (ErrLockMismatch) and be the caller's (ErrForbidden).
func (o *Op) Unlock(p, token string) error {
	p, err := Path(p)
	if err != nil {
		return err
	}
	if err := o.Allow(access.Lock, p); err != nil {
		return err
	}
	l, err := o.s.store.Lock(o.ctx, token)
	if errors.Is(err, state.ErrNoSuchLock) || (err == nil && !l.Covers(p)) {
		return fmt.Errorf("unlock of %s: %w", p, ErrLockMismatch)
	}
	if err != nil {
		return err
	}
	if l.Principal != o.c.Principal {
		return fmt.Errorf("the lock on %s is another account's: %w", l.Root, ErrForbidden)
	}
	return o.s.store.DeleteLock(o.ctx, token)
}

// newToken returns a fresh lock token, a random (version 4) UUID URN.
func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	s := hex.EncodeToString(b[:])
	return "urn:uuid:" + s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}
