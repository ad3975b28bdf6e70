package dav

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/webdav"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// checkWrite runs the request's preconditions, then enforces the locks
// covering the targets, as the archive service does before each change.
func (rq *request) checkWrite(targets ...archive.Target) error {
	return rq.op.CheckWrite(targets...)
}

// checkConditions evaluates the If header and the HTTP preconditions
// (If-Match, If-None-Match, If-Unmodified-Since) against the request URI.
func (rq *request) checkConditions() error {
	if err := rq.checkIf(); err != nil {
		return err
	}
	e, err := rq.stat(rq.path)
	exists := err == nil
	if err != nil && !errors.Is(err, backends.ErrNotFound) {
		return err
	}
	if code := httpPreconditions(rq.r, e, exists, false); code != 0 {
		return newStatus(code, "HTTP precondition failed")
	}
	return nil
}

// checkIf answers 412 when the request has an If header and no list of it
// is true.
func (rq *request) checkIf() error {
	if rq.ifh == nil {
		return nil
	}
	ok, err := rq.evalIf()
	if err != nil {
		return err
	}
	if !ok {
		return newStatus(http.StatusPreconditionFailed, "If header evaluated to false")
	}
	return nil
}

// evalIf reports whether at least one list of the If header is true.
func (rq *request) evalIf() (bool, error) {
	for _, l := range rq.ifh {
		p := rq.path
		if l.Resource != "" {
			var ok bool
			if p, ok = rq.resourcePath(l.Resource); !ok {
				continue
			}
		}
		ok, err := rq.evalList(p, l.Conditions)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// evalList reports whether every condition of a list holds at p. A
// resource the person may not read is, to its conditions, a missing one
// that no lock covers: neither its ETag nor its locks are looked up, so an
// If header cannot tell whether it exists or what it holds (on S3 the ETag
// of a file is its content's MD5).
func (rq *request) evalList(p string, conds []webdav.Condition) (bool, error) {
	readable := rq.visible(p)
	for _, c := range conds {
		var match bool
		switch {
		case !readable:
			// no state to match
		case c.Token != "":
			l, err := rq.store.Lock(rq.ctx, c.Token)
			switch {
			case err == nil:
				match = l.Covers(p)
			case !errors.Is(err, state.ErrNoSuchLock):
				return false, err
			}
		default:
			e, err := rq.stat(p)
			switch {
			case err == nil:
				match = !e.IsDir && e.ETag != "" && c.ETag == quoteETag(e.ETag)
			case !errors.Is(err, backends.ErrNotFound):
				return false, err
			}
		}
		if match == c.Not {
			return false, nil
		}
	}
	return true, nil
}

// resourcePath maps the URI of a tagged list to a namespace path. A URI on a
// foreign host or outside the namespace matches nothing.
func (rq *request) resourcePath(uri string) (string, bool) {
	u, err := url.Parse(uri)
	if err != nil || (u.Host != "" && !rq.localHost(u.Host)) {
		return "", false
	}
	p, _, err := cleanPath(u.EscapedPath())
	return p, err == nil
}

// localHost reports whether host names this server.
func (rq *request) localHost(host string) bool {
	if strings.EqualFold(host, rq.r.Host) {
		return true
	}
	for _, h := range rq.opts.PublicHosts {
		if strings.EqualFold(host, h) {
			return true
		}
	}
	return false
}

func quoteETag(s string) string { return `"` + s + `"` }

// httpPreconditions evaluates If-Match, If-None-Match, If-Unmodified-Since
// and, for reads, If-Modified-Since. It returns 0 when the request may go on,
// else the status to answer (412, or 304 for a read).
func httpPreconditions(r *http.Request, e backends.Entry, exists, read bool) int {
	etag := ""
	if exists && !e.IsDir {
		etag = quoteETag(e.ETag)
	}
	if im := r.Header.Get("If-Match"); im != "" {
		if !exists || !etagListMatch(im, etag, false) {
			return http.StatusPreconditionFailed
		}
	} else if ius := r.Header.Get("If-Unmodified-Since"); ius != "" && exists {
		if t, err := http.ParseTime(ius); err == nil && e.ModTime.Truncate(time.Second).After(t) {
			return http.StatusPreconditionFailed
		}
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if exists && etagListMatch(inm, etag, true) {
			if read {
				return http.StatusNotModified
			}
			return http.StatusPreconditionFailed
		}
	} else if ims := r.Header.Get("If-Modified-Since"); ims != "" && read && exists {
		if t, err := http.ParseTime(ims); err == nil && !e.ModTime.Truncate(time.Second).After(t) {
			return http.StatusNotModified
		}
	}
	return 0
}

// etagListMatch matches an If-Match or If-None-Match value against etag;
// weak comparison is used for If-None-Match, strong for If-Match.
func etagListMatch(list, etag string, weak bool) bool {
	list = strings.TrimSpace(list)
	if list == "*" {
		return true
	}
	if etag == "" {
		return false
	}
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if weak {
			t = strings.TrimPrefix(t, "W/")
		} else if strings.HasPrefix(t, "W/") {
			continue
		}
		if t == etag {
			return true
		}
	}
	return false
}
