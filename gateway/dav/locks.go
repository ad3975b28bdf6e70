package dav

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// lock serves LOCK: a new lock when the request has a body, a refresh of the
// submitted lock when it has none.
func (rq *request) lock() error {
	body, err := readXMLBody(rq.r, rq.opts.MaxXMLBody)
	if err != nil {
		return err
	}
	timeout := rq.lockTimeout(rq.r.Header.Get("Timeout"))
	now := rq.now()
	if body == nil {
		return rq.refreshLock(timeout, now)
	}
	li, err := parseLockInfo(body)
	if err != nil {
		return err
	}
	infinite := true
	switch strings.ToLower(rq.r.Header.Get("Depth")) {
	case "", "infinity":
	case "0":
		infinite = false
	default:
		return newStatus(http.StatusBadRequest, "bad Depth header")
	}
	if rq.path == "/" {
		return newStatus(http.StatusForbidden, "LOCK of the root")
	}
	_, err = rq.stat(rq.path)
	exists := err == nil
	if err != nil && !errors.Is(err, backends.ErrNotFound) {
		return err
	}
	if rq.ifh != nil {
		if err := rq.checkConditions(); err != nil {
			return err
		}
	}
	l := state.Lock{
		Token:     newToken(),
		Root:      rq.path,
		Infinite:  infinite,
		Shared:    li.shared,
		Owner:     string(li.owner),
		Principal: rq.user,
		Timeout:   timeout,
		Expires:   now.Add(timeout),
		Created:   now,
	}
	if !exists {
		// Locking an unmapped URL creates an empty file (RFC 4918 section 7.3),
		// which needs the parent folder's locks like any new member.
		if err := rq.checkWrite(archive.Target{Path: rq.path, Member: true}); err != nil {
			return err
		}
	}
	if err := rq.store.CreateLock(rq.ctx, l); err != nil {
		return err
	}
	status := http.StatusOK
	if !exists {
		if err := rq.createEmpty(); err != nil {
			if derr := rq.store.DeleteLock(rq.ctx, l.Token); derr != nil {
				rq.log.Error("drop lock of failed LOCK", "path", rq.path, "err", derr)
			}
			return err
		}
		status = http.StatusCreated
	}
	rq.w.Header().Set("Lock-Token", "<"+l.Token+">")
	writeXML(rq.w, status, `<D:prop xmlns:D="DAV:"><D:lockdiscovery>`+activeLock(l, now)+`</D:lockdiscovery></D:prop>`)
	return nil
}

// createEmpty stores an empty file at the request path.
func (rq *request) createEmpty() error {
	up, err := rq.fs.Create(rq.ctx, backendPath(rq.path), 0, backends.CreateOptions{})
	if errors.Is(err, backends.ErrNotFound) || errors.Is(err, backends.ErrNotDir) {
		return &statusError{code: http.StatusConflict, err: err}
	}
	if err != nil {
		return err
	}
	if _, err := up.Commit(rq.ctx); err != nil {
		return err
	}
	rq.op.Changed(rq.path, false)
	return nil
}

// refreshLock renews the lock whose token the If header submits.
func (rq *request) refreshLock(timeout time.Duration, now time.Time) error {
	for tok := range rq.tokens {
		l, err := rq.store.Lock(rq.ctx, tok)
		if errors.Is(err, state.ErrNoSuchLock) || (err == nil && (!l.Covers(rq.path) || l.Principal != rq.user)) {
			continue
		}
		if err != nil {
			return err
		}
		if l, err = rq.store.RefreshLock(rq.ctx, tok, timeout, now); err != nil {
			return err
		}
		writeXML(rq.w, http.StatusOK, `<D:prop xmlns:D="DAV:"><D:lockdiscovery>`+activeLock(l, now)+`</D:lockdiscovery></D:prop>`)
		return nil
	}
	if len(rq.tokens) == 0 {
		return newStatus(http.StatusBadRequest, "LOCK refresh without a lock token")
	}
	return &statusError{code: http.StatusPreconditionFailed, cond: "lock-token-matches-request-uri", err: errors.New("no submitted lock covers the resource")}
}

func (rq *request) unlock() error {
	tok := strings.TrimSpace(rq.r.Header.Get("Lock-Token"))
	if len(tok) < 3 || tok[0] != '<' || tok[len(tok)-1] != '>' {
		return newStatus(http.StatusBadRequest, "missing or malformed Lock-Token")
	}
	tok = tok[1 : len(tok)-1]
	l, err := rq.store.Lock(rq.ctx, tok)
	if errors.Is(err, state.ErrNoSuchLock) || (err == nil && !l.Covers(rq.path)) {
		return &statusError{code: http.StatusConflict, cond: "lock-token-matches-request-uri", err: errors.New("lock token does not match")}
	}
	if err != nil {
		return err
	}
	if l.Principal != rq.user {
		return newStatus(http.StatusForbidden, "lock belongs to another account")
	}
	if err := rq.store.DeleteLock(rq.ctx, tok); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// lockTimeout picks the first timeout of a Timeout header that it
// understands, capped by the configured maximum; Infinite gets the maximum.
func (rq *request) lockTimeout(h string) time.Duration {
	for _, v := range strings.Split(h, ",") {
		v = strings.TrimSpace(v)
		if strings.EqualFold(v, "Infinite") {
			return rq.opts.MaxLockTimeout
		}
		if s, ok := strings.CutPrefix(v, "Second-"); ok {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				continue
			}
			if n > int64(rq.opts.MaxLockTimeout/time.Second) {
				return rq.opts.MaxLockTimeout
			}
			return time.Duration(n) * time.Second
		}
	}
	return rq.opts.DefaultLockTimeout
}

// activeLock renders a lock as a DAV:activelock element.
func activeLock(l state.Lock, now time.Time) string {
	var b strings.Builder
	b.WriteString("<D:activelock><D:locktype><D:write/></D:locktype><D:lockscope>")
	if l.Shared {
		b.WriteString("<D:shared/>")
	} else {
		b.WriteString("<D:exclusive/>")
	}
	b.WriteString("</D:lockscope><D:depth>")
	if l.Infinite {
		b.WriteString("infinity")
	} else {
		b.WriteString("0")
	}
	b.WriteString("</D:depth>")
	if l.Owner != "" {
		b.WriteString("<D:owner>" + l.Owner + "</D:owner>")
	}
	b.WriteString("<D:timeout>")
	if l.Expires.IsZero() {
		b.WriteString("Infinite")
	} else {
		secs := int64(l.Expires.Sub(now).Round(time.Second) / time.Second)
		b.WriteString("Second-" + strconv.FormatInt(max(secs, 0), 10))
	}
	b.WriteString("</D:timeout><D:locktoken><D:href>" + xmlText(l.Token) + "</D:href></D:locktoken>")
	b.WriteString("<D:lockroot><D:href>" + xmlText(href(l.Root, false)) + "</D:href></D:lockroot></D:activelock>")
	return b.String()
}
