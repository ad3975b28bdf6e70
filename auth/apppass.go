package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// AppPasswordPrefix starts every app password, so that people, secret
// scanners and the gateway itself recognise one at a glance.
const AppPasswordPrefix = "fld_"

// AppPasswordStore is what app passwords need from the state store.
type AppPasswordStore interface {
	CreateAppPassword(ctx context.Context, p state.AppPassword) error
	AppPasswordByHash(ctx context.Context, hash []byte, now time.Time) (state.AppPassword, error)
	AppPasswords(ctx context.Context, owner string) ([]state.AppPassword, error)
	DeleteAppPassword(ctx context.Context, owner, id string) error
	TouchAppPasswords(ctx context.Context, used map[string]time.Time) error
}

// AppPasswords creates and verifies app passwords: 256-bit random secrets,
// stored as HMAC-SHA256 under the server's key. A random secret needs no
// slow hash, and none would be affordable on every request of a drive.
type AppPasswords struct {
	store AppPasswordStore
	key   []byte
	log   *slog.Logger
	now   func() time.Time

	mu   sync.Mutex
	used map[string]time.Time // last uses not yet written
}

// NewAppPasswords returns a manager using key (at least 32 bytes) for the
// HMAC. Every replica must share the key.
func NewAppPasswords(store AppPasswordStore, key []byte, log *slog.Logger) (*AppPasswords, error) {
	if len(key) < 32 {
		return nil, errors.New("app-password key: at least 32 bytes")
	}
	return &AppPasswords{store: store, key: key, log: log, now: time.Now, used: map[string]time.Time{}}, nil
}

var secretEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

func (a *AppPasswords) hash(secret string) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// NewAppPassword is what a person asks for.
type NewAppPassword struct {
	Owner    string
	Name     string
	ReadOnly bool
	Comuni   []string
	Expires  time.Time // zero: never
}

// Create makes an app password and returns its secret, which is shown once
// and kept nowhere.
func (a *AppPasswords) Create(ctx context.Context, n NewAppPassword) (string, state.AppPassword, error) {
	name := strings.TrimSpace(n.Name)
	if name == "" || len(name) > 100 {
		return "", state.AppPassword{}, errors.New("app password name: 1 to 100 characters")
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", state.AppPassword{}, err
	}
	secret := AppPasswordPrefix + strings.ToLower(secretEncoding.EncodeToString(raw[:]))
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", state.AppPassword{}, err
	}
	p := state.AppPassword{
		ID:       "ap-" + hex.EncodeToString(id[:]),
		Owner:    n.Owner,
		Name:     name,
		Hash:     a.hash(secret),
		ReadOnly: n.ReadOnly,
		Comuni:   n.Comuni,
		Created:  a.now().UTC(),
		Expires:  n.Expires,
	}
	if err := a.store.CreateAppPassword(ctx, p); err != nil {
		return "", state.AppPassword{}, fmt.Errorf("store app password: %w", err)
	}
	return secret, p, nil
}

// Verify checks a user name and app password. It looks the password up by
// its keyed hash (one indexed query) and compares in constant time; the
// last use is remembered in memory and written by Flush.
func (a *AppPasswords) Verify(ctx context.Context, user, secret string) (state.AppPassword, error) {
	if !strings.HasPrefix(secret, AppPasswordPrefix) {
		return state.AppPassword{}, ErrBadCredentials
	}
	h := a.hash(strings.ToLower(secret))
	now := a.now()
	p, err := a.store.AppPasswordByHash(ctx, h, now)
	if errors.Is(err, state.ErrNotFound) {
		return state.AppPassword{}, ErrBadCredentials
	}
	if err != nil {
		return state.AppPassword{}, fmt.Errorf("look up app password: %w", err)
	}
	if subtle.ConstantTimeCompare(p.Hash, h) != 1 || subtle.ConstantTimeCompare([]byte(strings.ToUpper(p.Owner)), []byte(strings.ToUpper(user))) != 1 {
		return state.AppPassword{}, ErrBadCredentials
	}
	a.mu.Lock()
	a.used[p.ID] = now
	a.mu.Unlock()
	return p, nil
}

// List returns the owner's app passwords, newest first.
func (a *AppPasswords) List(ctx context.Context, owner string) ([]state.AppPassword, error) {
	return a.store.AppPasswords(ctx, owner)
}

// Revoke deletes the owner's app password; the next request with it fails.
func (a *AppPasswords) Revoke(ctx context.Context, owner, id string) error {
	return a.store.DeleteAppPassword(ctx, owner, id)
}

// Flush writes the last-use times gathered since the previous call.
func (a *AppPasswords) Flush(ctx context.Context) error {
	a.mu.Lock()
	used := a.used
	a.used = map[string]time.Time{}
	a.mu.Unlock()
	if len(used) == 0 {
		return nil
	}
	return a.store.TouchAppPasswords(ctx, used)
}

// Run flushes last-use times every interval until ctx ends, then once more.
func (a *AppPasswords) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := a.Flush(context.WithoutCancel(ctx)); err != nil {
				a.log.Error("record app-password use", "err", err)
			}
			return
		case <-t.C:
			if err := a.Flush(ctx); err != nil {
				a.log.Error("record app-password use", "err", err)
			}
		}
	}
}
