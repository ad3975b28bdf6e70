package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "faldone_sessione"

// SessionStore is what sessions need from the state store.
type SessionStore interface {
	CreateSession(ctx context.Context, s state.Session) error
	Session(ctx context.Context, id string, now time.Time) (state.Session, error)
	TouchSession(ctx context.Context, id string, at time.Time) error
	DeleteSession(ctx context.Context, id string) error
}

// Sessions keeps browser sessions server-side, in the state store, so that
// any replica serves them. The cookie holds a random secret; the store holds
// only its SHA-256.
type Sessions struct {
	store    SessionStore
	idle     time.Duration
	absolute time.Duration
	now      func() time.Time
}

// NewSessions returns sessions with the given idle and absolute limits.
func NewSessions(store SessionStore, idle, absolute time.Duration) *Sessions {
	return &Sessions{store: store, idle: idle, absolute: absolute, now: time.Now}
}

// Person is who a session belongs to.
type Person struct {
	Key     string // normalized fiscal number, or a local account name
	Display string
	ACR     string
	Issuer  string // the OpenID Provider that signed the person in, if one did
}

func sessionID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func randomToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Start creates a session for p and sets its cookie. A session the browser
// still holds ends: a new sign-in replaces it, whoever signs in.
func (s *Sessions) Start(ctx context.Context, w http.ResponseWriter, r *http.Request, p Person) (state.Session, error) {
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" && len(c.Value) <= 100 {
		if err := s.store.DeleteSession(ctx, sessionID(c.Value)); err != nil && !errors.Is(err, state.ErrNotFound) {
			return state.Session{}, fmt.Errorf("end the previous session: %w", err)
		}
	}
	secret, err := randomToken()
	if err != nil {
		return state.Session{}, err
	}
	csrf, err := randomToken()
	if err != nil {
		return state.Session{}, err
	}
	now := s.now().UTC()
	sess := state.Session{
		ID: sessionID(secret), Person: p.Key, Display: p.Display, ACR: p.ACR, Issuer: p.Issuer,
		CSRF: csrf, Created: now, LastSeen: now, Expires: now.Add(s.absolute),
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return state.Session{}, fmt.Errorf("store session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, Expires: sess.Expires,
	})
	return sess, nil
}

// ErrNoSession: the request carries no live session.
var ErrNoSession = errors.New("no session")

// ErrSessionExpired: the request carries the cookie of a session that has
// ended (idle, past its limit, or replaced); it is an ErrNoSession too.
var ErrSessionExpired = fmt.Errorf("%w: the session has ended", ErrNoSession)

// SessionIdentity is the identity a session's requests carry, for the
// pages as for WebDAV: the level of assurance of its sign-in travels with
// it, so that the rules bound to that level see it.
func SessionIdentity(s state.Session) Identity {
	return Identity{Name: s.Person, Display: s.Display, Method: "session", Credential: "session", ACR: s.ACR}
}

// Load returns the request's session, enforcing the idle and absolute limits.
func (s *Sessions) Load(r *http.Request) (state.Session, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return state.Session{}, ErrNoSession
	}
	id := sessionID(c.Value)
	now := s.now()
	sess, err := s.store.Session(r.Context(), id, now)
	if errors.Is(err, state.ErrNotFound) {
		return state.Session{}, ErrSessionExpired
	}
	if err != nil {
		return state.Session{}, fmt.Errorf("load session: %w", err)
	}
	// Activity is recorded at most once per touchEvery, not on every page,
	// so the last request may be up to that much later than LastSeen: the
	// limit counts from LastSeen plus that, and a session ends between idle
	// and idle + touchEvery after its last request, never before.
	if now.Sub(sess.LastSeen) > s.idle+s.touchEvery() {
		if err := s.store.DeleteSession(r.Context(), id); err != nil {
			return state.Session{}, fmt.Errorf("end idle session: %w", err)
		}
		return state.Session{}, ErrSessionExpired
	}
	if now.Sub(sess.LastSeen) >= s.touchEvery() {
		if err := s.store.TouchSession(r.Context(), id, now); err != nil {
			return state.Session{}, fmt.Errorf("touch session: %w", err)
		}
	}
	return sess, nil
}

// touchEvery is how often activity is written: a tenth of the idle limit,
// at most a minute.
func (s *Sessions) touchEvery() time.Duration {
	return min(time.Minute, s.idle/10)
}

// End deletes the request's session and its cookie.
func (s *Sessions) End(w http.ResponseWriter, r *http.Request) error {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	return s.store.DeleteSession(r.Context(), sessionID(c.Value))
}

// ValidCSRF reports whether a form's token is the session's, in constant time.
func ValidCSRF(sess state.Session, token string) bool {
	return sess.CSRF != "" && subtle.ConstantTimeCompare([]byte(sess.CSRF), []byte(token)) == 1
}
