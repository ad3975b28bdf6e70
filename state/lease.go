package state

import (
	"context"
	"errors"
	"time"
)

// LeaseStore keeps leases: a name that one holder has until a time, so that
// replicas sharing the store divide work among themselves (the scheduled
// scrub takes one a Comune). A lease that is not renewed expires, and a
// replica that stopped without releasing it holds nothing after that.
// Holders are the callers' own names; the store compares them as text.
type LeaseStore interface {
	// TakeLease gives the lease name to holder until now+ttl and reports
	// true when it is free at now (never taken, released, or expired by
	// now) or held by holder already, which renews it; it reports false,
	// changing nothing, when another holder has it. The check and the
	// write are atomic across every user of the store: of holders racing
	// for a free lease, exactly one gets it.
	TakeLease(ctx context.Context, name, holder string, ttl time.Duration, now time.Time) (bool, error)
	// ReleaseLease frees the lease name if holder has it, and does nothing
	// otherwise (another holder's, expired and taken, or never taken).
	ReleaseLease(ctx context.Context, name, holder string) error
}

// CheckLease refuses what no store may hold as a lease, so that the stores
// agree: an empty name or holder, text that PostgreSQL's text cannot keep,
// a ttl that is not positive (a lease that would be expired as it is
// taken) and a zero now.
func CheckLease(name, holder string, ttl time.Duration, now time.Time) error {
	switch {
	case name == "" || holder == "":
		return errors.New("the name and the holder must be set")
	case !IsValidText(name) || !IsValidText(holder):
		return errors.New("the name or the holder is not valid UTF-8 or holds a NUL")
	case ttl <= 0:
		return errors.New("the ttl must be positive")
	case now.IsZero():
		return errors.New("now must be set")
	}
	return nil
}
