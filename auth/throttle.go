package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"time"
)

// AttemptStore keeps the throttle's counts. The state store implements it,
// so that every replica sees the same counts: N replicas do not allow N
// times the guesses.
type AttemptStore interface {
	AddAttempt(ctx context.Context, key string, now time.Time, window time.Duration) (int, time.Time, error)
	Attempts(ctx context.Context, key string, now time.Time) (int, error)
	ClearAttempts(ctx context.Context, key string) error
}

// The throttle's policy. A guess is worth throttling only where a slow
// hash checks it: app passwords (256 random bits) and Bearer tokens (signed)
// cannot be guessed, so they are checked first and, when they verify,
// accepted whatever any count says. Their failures count against the
// address only.
//
// A local password is guessable. Each slow check of one is counted before
// the hash runs, per account and address (the pair), and per account from
// everywhere. A pair gets pairLimit checks per pairWindow; while its
// account or its address is under attack, only pairLimitHot. No count ever
// refuses a pair that has not used its allowance, so the owner, or a
// colleague behind the same NAT address, still gets a check of her
// password from wherever she is while a distributed attacker gets a few
// guesses per address; and a check that succeeds clears its pair.
const (
	// An address is under attack after addressLimit failures in
	// addressWindow; its failed app passwords and Bearer tokens then get
	// 429.
	addressLimit  = 10
	addressWindow = 5 * time.Minute

	pairLimit    = 10
	pairLimitHot = 3
	pairWindow   = 15 * time.Minute

	// An account is under attack after accountLimit slow checks in
	// accountWindow, from every address together.
	accountLimit  = 50
	accountWindow = 15 * time.Minute

	// slowChecks is how many argon2id checks run at once in a process:
	// each takes 19 MiB (see argonMemory), and the gateway's budget is
	// 128 MiB. A check waits at most slotWait for its turn, then is
	// refused with 429 and busyRetry.
	slowChecks = 2
	slotWait   = 3 * time.Second
	busyRetry  = 2 * time.Second
)

// Throttle slows password guessing without locking anyone out (see the
// policy above). Its counts live in the store; only failures and slow
// checks touch them, never a credential that verifies without a slow hash.
type Throttle struct {
	store AttemptStore
	now   func() time.Time
	slots chan struct{} // a token per slow check running
	wait  time.Duration // how long a slow check waits for a slot
}

// NewThrottle returns a throttle keeping its counts in store.
func NewThrottle(store AttemptStore) *Throttle {
	return &Throttle{store: store, now: time.Now, slots: make(chan struct{}, slowChecks), wait: slotWait}
}

// Failed counts a failed credential from addr. It returns errThrottled when
// the address has failed too often, so that the client is told to wait.
func (t *Throttle) Failed(ctx context.Context, addr string) error {
	if t == nil {
		return nil
	}
	now := t.now()
	n, ends, err := t.store.AddAttempt(ctx, addressKey(addr), now, addressWindow)
	if err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	if n > addressLimit {
		return errThrottled{wait: ends.Sub(now), reason: "address"}
	}
	return nil
}

// Admit reserves a slow check of account's password from addr, counting
// it before the hash runs so that simultaneous guesses cannot all pass,
// then waits for one of the process's slots. The caller runs the check
// and then calls release. The error is errThrottled when the pair has used
// its allowance or no slot came free in time.
func (t *Throttle) Admit(ctx context.Context, account, addr string) (release func(), err error) {
	if t == nil {
		return func() {}, nil
	}
	now := t.now()
	pair := pairKey(account, addr)
	n, ends, err := t.store.AddAttempt(ctx, pair, now, pairWindow)
	if err != nil {
		return nil, fmt.Errorf("throttle: %w", err)
	}
	if n > pairLimit {
		return nil, errThrottled{wait: ends.Sub(now), reason: "account and address"}
	}
	// Counted even when refused below: the account's count measures how
	// hard it is being guessed at.
	acc, _, err := t.store.AddAttempt(ctx, accountKey(account), now, accountWindow)
	if err != nil {
		return nil, fmt.Errorf("throttle: %w", err)
	}
	if n > pairLimitHot {
		hot := acc > accountLimit
		if !hot {
			fails, err := t.store.Attempts(ctx, addressKey(addr), now)
			if err != nil {
				return nil, fmt.Errorf("throttle: %w", err)
			}
			hot = fails >= addressLimit
		}
		if hot {
			return nil, errThrottled{wait: ends.Sub(now), reason: "account or address under attack"}
		}
	}
	timer := time.NewTimer(t.wait)
	defer timer.Stop()
	select {
	case t.slots <- struct{}{}:
		return func() {
			// The hash's 19 MiB are garbage now. Collected before the next
			// check takes the slot, they are reused for its hash, instead of
			// piling up until the collector's target (twice the live heap)
			// has grown past the budget. A collection of a small heap costs
			// far less than the hash.
			runtime.GC()
			<-t.slots
		}, nil
	case <-timer.C:
		return nil, errThrottled{wait: busyRetry, reason: "busy"}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Succeeded clears the pair's count after its password verified, so that
// the owner's own checks never use up her allowance.
func (t *Throttle) Succeeded(ctx context.Context, account, addr string) error {
	if t == nil {
		return nil
	}
	if err := t.store.ClearAttempts(ctx, pairKey(account, addr)); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}

// The keys. An account name comes from the client: it is hashed, so that a
// key is short printable ASCII whatever was sent, and compared without
// case. An IPv6 client is counted by its /64, which one attacker usually
// holds whole.
func accountKey(account string) string { return "account:" + accountID(account) }

func pairKey(account, addr string) string {
	return "pair:" + accountID(account) + ":" + addressID(addr)
}

func addressKey(addr string) string { return "address:" + addressID(addr) }

func accountID(account string) string {
	h := sha256.Sum256([]byte(strings.ToUpper(account)))
	return hex.EncodeToString(h[:16])
}

func addressID(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		h := sha256.Sum256([]byte(addr))
		return "x" + hex.EncodeToString(h[:16])
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
