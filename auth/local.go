package auth

// Local accounts: passwords hashed with argon2id, meant for service users
// and the embedded demo; people sign in through SPID.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/bassareggiana/faldone/state"
)

// Argon2id parameters for new hashes: OWASP's 19 MiB, 2 passes. More memory
// would weigh on the gateway's own budget (under 128 MiB while it moves a
// 2 GiB file); the hash is checked once per cache lifetime, not per request.
const (
	argonTime    = 2
	argonMemory  = 19 << 10 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

var (
	ErrBadCredentials = errors.New("bad credentials")
	errBadHash        = errors.New("malformed password hash")
)

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// phc is a parsed argon2id hash.
type phc struct {
	m, t uint32
	p    uint8
	salt []byte
	key  []byte
}

// parseHash reads a PHC argon2id string, with bounds that keep a bad
// configuration from costing the server more than it can give.
func parseHash(hash string) (phc, error) {
	var h phc
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return h, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return h, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &h.m, &h.t, &h.p); err != nil || h.m < 8 || h.t == 0 || h.p == 0 || h.m > 1<<18 || h.t > 64 {
		return h, errBadHash
	}
	enc := base64.RawStdEncoding
	var err error
	if h.salt, err = enc.DecodeString(parts[4]); err != nil || len(h.salt) < 8 {
		return h, errBadHash
	}
	if h.key, err = enc.DecodeString(parts[5]); err != nil || len(h.key) < 16 || len(h.key) > 64 {
		return h, errBadHash
	}
	return h, nil
}

// checkHash verifies a password against a PHC argon2id hash in constant time.
func checkHash(hash, password string) (bool, error) {
	h, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), h.salt, h.t, h.m, h.p, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(got, h.key) == 1, nil
}

// AccountStore is where local accounts live besides the configuration.
type AccountStore interface {
	Account(ctx context.Context, name string) (state.Account, error)
}

// LocalAccounts verifies local accounts: those of the configuration and
// those in the state store (faldone user add). A successful check is
// remembered for a short time under a keyed digest of the credentials, so
// that clients that authenticate every request (WebDAV drives do) do not pay
// argon2id each time; the account is still looked up every time, so a
// removed account or a changed password takes effect at once.
type LocalAccounts struct {
	static map[string]string // account name → PHC hash, from the configuration
	store  AccountStore      // may be nil
	key    []byte            // per-process key of the cache digests
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]cached
}

type cached struct {
	hash  string // the hash the password matched
	until time.Time
}

// NewLocalAccounts returns a verifier of the given accounts (name → hash)
// and of those in store, which may be nil.
func NewLocalAccounts(hashes map[string]string, store AccountStore) (*LocalAccounts, error) {
	for name, h := range hashes {
		if name == "" || strings.ContainsAny(name, ":\x00") {
			return nil, fmt.Errorf("account name %q is not valid", name)
		}
		// Parse only: computing a hash here would cost its memory at start.
		if _, err := parseHash(h); err != nil {
			return nil, fmt.Errorf("account %q: %w", name, err)
		}
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return &LocalAccounts{static: hashes, store: store, key: key, ttl: 5 * time.Minute, now: time.Now, cache: map[[32]byte]cached{}}, nil
}

// hashOf finds the account's password hash.
func (a *LocalAccounts) hashOf(ctx context.Context, name string) (string, bool, error) {
	if h, ok := a.static[name]; ok {
		return h, true, nil
	}
	if a.store == nil {
		return "", false, nil
	}
	acc, err := a.store.Account(ctx, name)
	if errors.Is(err, state.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("look up account: %w", err)
	}
	return acc.PasswordHash, true, nil
}

// Admit is asked before a slow hash is computed. It may refuse, and its
// error is then returned without the hash; otherwise release is called
// when the hash is done. A nil Admit admits every check.
type Admit func() (release func(), err error)

// slow runs check under admit.
func slow(admit Admit, check func() (bool, error)) (bool, error) {
	if admit != nil {
		release, err := admit()
		if err != nil {
			return false, err
		}
		defer release()
	}
	return check()
}

// Verify checks a name and password. A password that verified recently is
// recognized from the cache; any other check, the dummy one for an
// unknown name included, is a slow hash, which admit must allow first.
func (a *LocalAccounts) Verify(ctx context.Context, name, password string, admit Admit) error {
	hash, ok, err := a.hashOf(ctx, name)
	if err != nil {
		return err
	}
	if !ok {
		// Spend the same time as for a real account, so that timing does not
		// tell which names exist.
		if _, err := slow(admit, func() (bool, error) { return checkHash(dummyHash, password) }); err != nil && !errors.Is(err, errBadHash) {
			return err
		}
		return ErrBadCredentials
	}
	mac := hmac.New(sha256.New, a.key)
	mac.Write([]byte(name))
	mac.Write([]byte{0})
	mac.Write([]byte(password))
	var digest [32]byte
	copy(digest[:], mac.Sum(nil))
	now := a.now()
	a.mu.Lock()
	c, hit := a.cache[digest]
	a.mu.Unlock()
	if hit && c.hash == hash && now.Before(c.until) {
		return nil
	}
	ok, err = slow(admit, func() (bool, error) { return checkHash(hash, password) })
	if err != nil {
		return err
	}
	if !ok {
		return ErrBadCredentials
	}
	a.mu.Lock()
	if len(a.cache) > 10000 {
		clear(a.cache)
	}
	a.cache[digest] = cached{hash: hash, until: now.Add(a.ttl)}
	a.mu.Unlock()
	return nil
}

// dummyHash is checked for unknown names (it is the hash of a random
// password nobody knows).
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2b1n4jW2mR1fGx2wq3TqYb1fC1bJ6oM1cP4YvVwqg0s"
