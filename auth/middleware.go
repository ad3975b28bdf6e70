package auth

import (
	"context"
	"log/slog"
	"net/http"
)

// Identity is who made a request.
type Identity struct {
	// Name is the account: a local account name now, a fiscal number for
	// people who sign in with SPID.
	Name string
	// Method says how the request authenticated ("basic" for local accounts).
	Method string
}

type ctxKey struct{}

// WithIdentity returns a context that carries id.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

type slotKey struct{}

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

// Verifier checks a user name and password.
type Verifier interface {
	Verify(name, password string) error
}

// Basic requires HTTP Basic authentication on every request but OPTIONS,
// which WebDAV clients send before they authenticate and which reveals nothing.
func Basic(v Verifier, realm string, log *slog.Logger, next http.Handler) http.Handler {
	challenge := `Basic realm="` + realm + `", charset="UTF-8"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		name, password, ok := r.BasicAuth()
		if ok {
			if err := v.Verify(name, password); err == nil {
				next.ServeHTTP(w, r.WithContext(record(r.Context(), Identity{Name: name, Method: "basic"})))
				return
			} else {
				log.Warn("authentication failed", "user", name, "remote", r.RemoteAddr, "reason", err)
			}
		}
		w.Header().Set("WWW-Authenticate", challenge)
		http.Error(w, "Autenticazione richiesta", http.StatusUnauthorized)
	})
}
