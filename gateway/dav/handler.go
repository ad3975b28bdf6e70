// Package dav is the WebDAV adapter (RFC 4918, classes 1 and 2) over the
// archive service: it decodes the protocol — URLs, headers, XML bodies, the
// If header — and hands each read, listing, change, property change and
// lock to the service, then writes the protocol's answer.
//
// It uses golang.org/x/net/webdav's property and condition types but owns the
// method handlers: uploads are atomic, locks and dead properties live in the
// shared state store, every If header is evaluated in full, and listings never
// cost a storage request per entry.
package dav

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// Options tune the handler.
type Options struct {
	// PublicHosts are host names (with port where not the default) under
	// which clients reach the server besides the request's Host, e.g. behind a
	// proxy that rewrites Host. A Destination on any other host is refused.
	PublicHosts []string
	// AllowInfiniteDepth lets PROPFIND answer Depth: infinity (off by default:
	// a single request could walk the whole archive).
	AllowInfiniteDepth bool
	// MaxXMLBody bounds request bodies of PROPFIND, PROPPATCH and LOCK.
	MaxXMLBody int64
	// DefaultLockTimeout is granted when a LOCK asks for none; MaxLockTimeout
	// caps what a LOCK may ask for, Infinite included.
	DefaultLockTimeout, MaxLockTimeout time.Duration
	// Quota, when set, reports quotas in listings (the archive service
	// enforces them).
	Quota Quota
	// FolderPage, when set, is the prefix of the pages that show a folder
	// in a browser: GET on a folder is sent there. Without it, GET on a
	// folder is not allowed.
	FolderPage string
	// ErrorPage, when set, may answer a GET or HEAD that failed with status
	// with a page, when a person's browser opened it, and reports whether it
	// did; otherwise the client gets the plain status.
	ErrorPage func(w http.ResponseWriter, r *http.Request, status int) bool
}

// Policy decides what the request's person may do where (see auth/access).
// The handler asks it for every method, for both ends of COPY and MOVE, and
// for every entry a listing would show.
type Policy interface {
	Decide(a access.Action, path string) access.Verdict
}

// Quota reports the space a path's Comune may use (RFC 4331).
type Quota interface {
	// Quota returns the bytes used and still available where p lies; ok is
	// false where no quota applies or the usage is not known yet.
	Quota(p string) (used, available int64, ok bool)
}

// allowAll is the policy of a handler built without one (tests, tools).
type allowAll struct{}

func (allowAll) Decide(access.Action, string) access.Verdict { return access.Allow }

// Handler is an http.Handler serving the archive over WebDAV. Every read,
// listing, change and lock runs in the archive service; the handler
// decodes the protocol and reports dead properties and locks.
type Handler struct {
	svc   *archive.Service
	store state.ResourceStore
	log   *slog.Logger
	opts  Options
	// principal names the authenticated account of a request; locks record it
	// and only their owner may use their token.
	principal func(*http.Request) string
	policy    func(*http.Request) (Policy, error)
	now       func() time.Time
	downloads sync.Pool // *[]byte buffers of downloadSize
	missing   *negCache
}

// New returns a handler over svc, the archive service; store holds the
// dead properties and locks it reports.
// principal may be nil when every request is anonymous; policy may be nil
// when everyone may do everything. opts.MaxXMLBody, DefaultLockTimeout and
// MaxLockTimeout must be set: their defaults are the configuration's
// (gateway/config), given in one place.
func New(svc *archive.Service, store state.ResourceStore, log *slog.Logger, principal func(*http.Request) string, policy func(*http.Request) (Policy, error), opts Options) *Handler {
	if opts.MaxXMLBody <= 0 || opts.DefaultLockTimeout <= 0 || opts.MaxLockTimeout < opts.DefaultLockTimeout {
		panic("dav.New: MaxXMLBody, DefaultLockTimeout and MaxLockTimeout must be set")
	}
	if principal == nil {
		principal = func(*http.Request) string { return "" }
	}
	if policy == nil {
		policy = func(*http.Request) (Policy, error) { return allowAll{}, nil }
	}
	return &Handler{svc: svc, store: store, log: log, opts: opts, principal: principal, policy: policy, now: time.Now,
		missing: newNegCache(30 * time.Second)}
}

// Forget drops what the handler remembers of p (and, with tree, of what
// is below it) as missing: the archive service tells it of every change,
// the pages' included.
func (h *Handler) Forget(p string, tree bool) { h.missing.forget(p, tree) }

const allowed = "OPTIONS, GET, HEAD, PUT, DELETE, MKCOL, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK"

// request carries what one request's handlers share.
type request struct {
	*Handler
	w    http.ResponseWriter
	r    *http.Request
	ctx  context.Context
	path string // namespace path of the request URI
	dir  bool   // the URI ended with a slash
	user string
	pol  Policy
	ifh  []ifList
	// tokens holds the lock tokens the request submitted in its If header.
	tokens map[string]bool
	// op runs the request's operations, and caches its lookups.
	op *archive.Op
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rq := &request{Handler: h, w: w, r: r, ctx: r.Context(), user: h.principal(r), tokens: map[string]bool{}}
	err := rq.serve()
	if err != nil {
		rq.fail(err)
	}
}

func (rq *request) serve() error {
	var err error
	rq.path, rq.dir, err = cleanPath(rq.r.URL.EscapedPath())
	if err != nil {
		return err
	}
	if rq.r.Method == http.MethodOptions {
		return rq.options()
	}
	if rq.pol, err = rq.policy(rq.r); err != nil {
		return fmt.Errorf("authorization: %w", err)
	}
	// The tokens are those of the If header, parsed below.
	rq.op = rq.svc.Begin(rq.ctx, archive.Caller{Principal: rq.user, From: archive.From("WebDAV", rq.r.RemoteAddr), Policy: rq.pol, Tokens: rq.tokens, Check: rq.checkConditions})
	// Every method needs to see its path; what more it needs is checked
	// where the handler knows it (both ends of COPY and MOVE, a file or a
	// folder for DELETE).
	if err := rq.allow(methodAction(rq.r.Method), rq.path); err != nil {
		return err
	}
	if h := rq.r.Header.Get("If"); h != "" {
		if rq.ifh, err = parseIf(h); err != nil {
			return err
		}
		for _, l := range rq.ifh {
			for _, c := range l.Conditions {
				if c.Token != "" && !c.Not {
					rq.tokens[c.Token] = true
				}
			}
		}
	}
	return rq.dispatch()
}

// dispatch runs the method's handler, answering the lookups of the files
// that desktops look for everywhere from the negative cache, and keeping
// that cache true to the writes.
func (rq *request) dispatch() error {
	read := rq.r.Method == http.MethodGet || rq.r.Method == http.MethodHead || rq.r.Method == "PROPFIND"
	storm := read && isStormName(rq.path)
	if storm && rq.missing.known(rq.path, rq.now()) {
		return fmt.Errorf("%s: %w", rq.path, backends.ErrNotFound)
	}
	err := rq.method()
	switch {
	case storm && errors.Is(err, backends.ErrNotFound):
		rq.missing.add(rq.path, rq.now())
	case !read:
		rq.missing.forget(rq.path, false)
		if rq.r.Method == "COPY" || rq.r.Method == "MOVE" {
			if d, derr := rq.destination(); derr == nil {
				rq.missing.forget(d, true)
			}
		}
	}
	return err
}

func (rq *request) method() error {
	switch rq.r.Method {
	case http.MethodGet, http.MethodHead:
		return rq.get()
	case http.MethodPut:
		return rq.put()
	case http.MethodDelete:
		return rq.delete()
	case "MKCOL":
		return rq.mkcol()
	case "COPY", "MOVE":
		return rq.copyMove()
	case "PROPFIND":
		return rq.propfind()
	case "PROPPATCH":
		return rq.proppatch()
	case "LOCK":
		return rq.lock()
	case "UNLOCK":
		return rq.unlock()
	default:
		rq.w.Header().Set("Allow", allowed)
		return &statusError{code: http.StatusMethodNotAllowed, err: errors.New("method not supported")}
	}
}

func (rq *request) options() error {
	h := rq.w.Header()
	h.Set("Allow", allowed)
	h.Set("DAV", "1, 2")
	h.Set("MS-Author-Via", "DAV")
	h.Set("Content-Length", "0")
	rq.w.WriteHeader(http.StatusOK)
	return nil
}

// methodAction is the action a method performs on its request path.
func methodAction(method string) access.Action {
	switch method {
	case http.MethodGet, http.MethodHead, "PROPFIND":
		return access.Read
	case "COPY":
		return access.Copy
	case "LOCK", "UNLOCK":
		return access.Lock
	case http.MethodDelete:
		return access.Delete
	default:
		return access.Write
	}
}

// allow asks the policy about action a on namespace path p.
func (rq *request) allow(a access.Action, p string) error { return rq.op.Allow(a, p) }

// visible reports whether the person may see the namespace path p listed.
func (rq *request) visible(p string) bool { return rq.op.Visible(p) }

// stat looks up a path once per request (see archive.Op).
func (rq *request) stat(p string) (backends.Entry, error) { return rq.op.Stat(p) }

// statusError is an error that carries its HTTP status and, for WebDAV
// preconditions, the DAV:error element to send.
type statusError struct {
	code int
	cond string // precondition element name inside DAV:error, or ""
	body string // full XML body, overriding cond
	err  error
}

func (e *statusError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return http.StatusText(e.code)
}

func (e *statusError) Unwrap() error { return e.err }

func newStatus(code int, msg string) error {
	return &statusError{code: code, err: errors.New(msg)}
}

// statusOf maps an error to the status the client gets: the protocol's own
// refusals here, every other through archive.Status, the one mapping.
func statusOf(err error) int {
	var se *statusError
	switch {
	case errors.As(err, &se):
		return se.code
	case errors.Is(err, errBadPath), errors.Is(err, errBadIf), errors.Is(err, errBadXML):
		return http.StatusBadRequest
	case errors.Is(err, errBodyTooLong):
		return http.StatusRequestEntityTooLarge
	default:
		return archive.Status(err)
	}
}

// retryAfter is the Retry-After of a 503, in seconds: a storage or a
// database that went away is usually back within seconds, or not soon.
const retryAfter = "5"

// fail answers a request that ended in err and logs it. The client gets the
// status and, for preconditions, the DAV:error element: never the error text.
func (rq *request) fail(err error) {
	var pe *archive.PartialError
	if errors.As(err, &pe) {
		rq.multiFailure(pe.Failed)
		return
	}
	code := statusOf(err)
	level := slog.LevelInfo
	if code >= 500 {
		level = slog.LevelError
	}
	if errors.Is(err, context.Canceled) {
		level = slog.LevelWarn
	}
	rq.log.Log(rq.ctx, level, "request failed", "method", rq.r.Method, "path", rq.r.URL.EscapedPath(),
		"status", code, "user", rq.user, "err", err)
	if code == http.StatusServiceUnavailable {
		rq.w.Header().Set("Retry-After", retryAfter)
	}
	if rq.opts.ErrorPage != nil && (rq.r.Method == http.MethodGet || rq.r.Method == http.MethodHead) && rq.opts.ErrorPage(rq.w, rq.r, code) {
		return
	}
	var se *statusError
	if errors.As(err, &se) && (se.body != "" || se.cond != "") {
		body := se.body
		if body == "" {
			body = davError(se.cond)
		}
		writeXML(rq.w, code, body)
		return
	}
	var ce *archive.ClosedError
	if errors.As(err, &ce) {
		// A client learns why, and where: the dossier is read-only.
		writeXML(rq.w, code, `<D:error xmlns:D="DAV:" xmlns:F="`+nsFaldone+`"><F:dossier-closed><D:href>`+
			xmlText(href(ce.Path, true))+`</D:href></F:dossier-closed></D:error>`)
		return
	}
	var le *archive.LockedError
	if errors.As(err, &le) {
		writeXML(rq.w, code, `<D:error xmlns:D="DAV:"><D:lock-token-submitted><D:href>`+
			xmlText(href(le.Root, false))+`</D:href></D:lock-token-submitted></D:error>`)
		return
	}
	if code == http.StatusLocked {
		writeXML(rq.w, code, davError("no-conflicting-lock"))
		return
	}
	http.Error(rq.w, http.StatusText(code), code)
}

// href is the URL path of a namespace path, with a trailing slash for folders.
func href(p string, dir bool) string {
	s := escapePath(p)
	if dir && !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s
}
