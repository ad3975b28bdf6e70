package auth

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Identity is who made a request, and what the credential allows.
type Identity struct {
	// Name is the person's key: a normalized fiscal number for people who
	// sign in with SPID, or a local account name.
	Name string
	// Display is the name pages show.
	Display string
	// Method says how the request authenticated: "local", "app-password",
	// "bearer" or "session".
	Method string
	// Credential names the credential used (an app password's id), never a secret.
	Credential string
	// ACR is the level of assurance of the sign-in, when known.
	ACR string
	// ReadOnly and Comuni narrow what the credential may do; they never widen
	// the person's rights. Empty Comuni: no narrowing.
	ReadOnly bool
	Comuni   []string
}

type ctxKey struct{}

type slotKey struct{}

// WithIdentity returns a context that carries id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// WithSlot returns a context in which an authentication middleware further
// down records the identity it established, for handlers further up (the
// access log) that see only the original request.
func WithSlot(ctx context.Context) (context.Context, *Identity) {
	id := new(Identity)
	return context.WithValue(ctx, slotKey{}, id), id
}

func record(ctx context.Context, id Identity) context.Context {
	if slot, ok := ctx.Value(slotKey{}).(*Identity); ok {
		*slot = id
	}
	return WithIdentity(ctx, id)
}

// FromContext returns the identity of the request, if any.
func FromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(Identity)
	return id, ok
}

// Verifier checks a user name and password; admit is asked before any
// slow hash (see LocalAccounts.Verify).
type Verifier interface {
	Verify(ctx context.Context, name, password string, admit Admit) error
}

// BearerVerifier checks a Bearer token and says whose it is.
type BearerVerifier func(ctx context.Context, token string) (Identity, error)

// Authenticator establishes who makes each request: a session cookie, an
// app password or a local account over Basic, or a Bearer token. Every
// field but Log is optional.
type Authenticator struct {
	Local    Verifier
	Apps     *AppPasswords
	Bearer   BearerVerifier
	Sessions *Sessions
	// Throttle slows password guessing; nil: no throttling.
	Throttle *Throttle
	Realm    string
	// SignIn, when set, is where a browser without credentials is sent.
	SignIn string
	// Failed, when set, is told of each failed attempt, by method.
	Failed func(method string)
	// ErrorPage, when set, may answer a refusal that is not a request for
	// credentials (too many attempts, the state store out) with a page,
	// when a person's browser made the request, and reports whether it did.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int) bool
	Log       *slog.Logger
}

// Wrap requires authentication on every request but OPTIONS, which WebDAV
// clients send before they authenticate and which reveals nothing.
func (a *Authenticator) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		id, err := a.Authenticate(w, r)
		if err != nil {
			a.refuse(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(record(r.Context(), id)))
	})
}

// ErrThrottled: too many failed attempts from the address or for the account.
var ErrThrottled = errors.New("too many failed attempts")

// errThrottled carries how long a client must wait, and why (for the log).
type errThrottled struct {
	wait   time.Duration
	reason string
}

func (e errThrottled) Error() string { return ErrThrottled.Error() }
func (e errThrottled) Unwrap() error { return ErrThrottled }

// RetryAfter is the value of the Retry-After header for a throttled
// attempt: whole seconds, rounded up, at least 1.
func RetryAfter(err error) (string, bool) {
	var th errThrottled
	if !errors.As(err, &th) {
		return "", false
	}
	return strconv.Itoa(int(th.wait.Seconds()) + 1), true
}

var errNoCredentials = errors.New("no credentials")

// Authenticate returns the identity of the request.
func (a *Authenticator) Authenticate(w http.ResponseWriter, r *http.Request) (Identity, error) {
	authz := r.Header.Get("Authorization")
	switch {
	case strings.HasPrefix(authz, "Bearer ") && a.Bearer != nil:
		// A signed token cannot be guessed: one that verifies is accepted
		// whatever the address's count of failures.
		id, err := a.Bearer(r.Context(), strings.TrimSpace(authz[len("Bearer "):]))
		if err != nil {
			// Whatever the reason (logged here), the token is refused: 401.
			return Identity{}, a.fail(r, "", "bearer", err)
		}
		return id, nil
	case strings.HasPrefix(authz, "Basic "):
		user, pass, ok := r.BasicAuth()
		if !ok {
			return Identity{}, ErrBadCredentials
		}
		return a.Password(r, user, pass)
	case authz != "":
		return Identity{}, ErrBadCredentials
	}
	if a.Sessions != nil {
		sess, err := a.Sessions.Load(r)
		if err == nil {
			return SessionIdentity(sess), nil
		}
		if !errors.Is(err, ErrNoSession) {
			return Identity{}, err
		}
	}
	return Identity{}, errNoCredentials
}

// Password checks a user name and password, as Basic authentication does:
// an app password when it has the prefix, a local account otherwise. An
// app password (256 random bits, an HMAC to check) cannot be guessed: one
// that verifies is accepted whatever any count says, and its failures
// count against the address only. A local password's slow check is
// throttled by the Throttle's Admit.
func (a *Authenticator) Password(r *http.Request, user, pass string) (Identity, error) {
	if strings.HasPrefix(pass, AppPasswordPrefix) && a.Apps != nil {
		p, err := a.Apps.Verify(r.Context(), user, pass)
		if err == nil {
			return Identity{Name: p.Owner, Display: p.Owner, Method: "app-password", Credential: p.ID, ReadOnly: p.ReadOnly, Comuni: p.Comuni}, nil
		}
		if !errors.Is(err, ErrBadCredentials) {
			return Identity{}, err
		}
		return Identity{}, a.fail(r, user, "app-password", err)
	}
	if a.Local == nil {
		return Identity{}, a.fail(r, user, "password", ErrBadCredentials)
	}
	addr := clientAddr(r)
	checked := false // a slow check ran, and was counted
	err := a.Local.Verify(r.Context(), user, pass, func() (func(), error) {
		release, err := a.Throttle.Admit(r.Context(), user, addr)
		checked = err == nil
		return release, err
	})
	switch {
	case err == nil:
		if checked {
			if err := a.Throttle.Succeeded(r.Context(), user, addr); err != nil {
				// The person is who she says: a count left behind only
				// tightens her own allowance.
				a.Log.Error("authentication: clear the count of attempts", "err", err)
			}
		}
		return Identity{Name: user, Display: user, Method: "local", Credential: "local:" + user}, nil
	case !errors.Is(err, ErrBadCredentials):
		return Identity{}, err // throttled, or the store failed
	}
	err = a.fail(r, user, "password", ErrBadCredentials)
	if errors.Is(err, ErrThrottled) {
		// The guess was admitted and checked: its pair's allowance, not the
		// address's failures, decides when to refuse.
		err = ErrBadCredentials
	}
	return Identity{}, err
}

// fail records a failed credential: the log, the metrics and the
// address's count. It returns the error to answer with: ErrBadCredentials,
// or errThrottled once the address has failed too often.
func (a *Authenticator) fail(r *http.Request, user, method string, err error) error {
	addr := clientAddr(r)
	if a.Failed != nil {
		a.Failed(method)
	}
	// The user name is logged, the password never.
	a.Log.Warn("authentication failed", "method", method, "user", user,
		"remote", addr, "path", r.URL.EscapedPath(), "reason", err)
	if err := a.Throttle.Failed(r.Context(), addr); err != nil {
		return err
	}
	return ErrBadCredentials
}

// refuse answers a request that did not authenticate.
func (a *Authenticator) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var th errThrottled
	switch {
	case errors.As(err, &th):
		a.Log.Warn("authentication throttled", "remote", clientAddr(r), "path", r.URL.EscapedPath(), "reason", th.reason)
		retry, _ := RetryAfter(err)
		w.Header().Set("Retry-After", retry)
		if a.ErrorPage != nil && a.ErrorPage(w, r, http.StatusTooManyRequests) {
			return
		}
		http.Error(w, "Troppi tentativi non riusciti: riprovare più tardi.", http.StatusTooManyRequests)
		return
	case errors.Is(err, errNoCredentials), errors.Is(err, ErrBadCredentials):
	default:
		a.Log.Error("authentication error", "path", r.URL.EscapedPath(), "err", err)
		// The state store did not answer: a client may try again soon.
		w.Header().Set("Retry-After", "5")
		if a.ErrorPage != nil && a.ErrorPage(w, r, http.StatusServiceUnavailable) {
			return
		}
		http.Error(w, "Servizio temporaneamente non disponibile", http.StatusServiceUnavailable)
		return
	}
	if a.SignIn != "" && isBrowser(r) && errors.Is(err, errNoCredentials) {
		http.Redirect(w, r, a.SignIn+"?dopo="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	w.Header().Add("WWW-Authenticate", `Basic realm="`+a.Realm+`", charset="UTF-8"`)
	if a.Bearer != nil {
		w.Header().Add("WWW-Authenticate", `Bearer realm="`+a.Realm+`"`)
	}
	http.Error(w, "Autenticazione richiesta", http.StatusUnauthorized)
}

// isBrowser reports whether a request comes from a person's browser rather
// than a drive client: a page load asking for HTML.
func isBrowser(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// clientAddr is the client's IP address.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
