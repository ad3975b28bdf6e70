package dav

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/archive"
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
	l, created, err := rq.op.Lock(rq.path, archive.LockRequest{Infinite: infinite, Shared: li.shared, Owner: string(li.owner), Timeout: timeout})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	rq.w.Header().Set("Lock-Token", "<"+l.Token+">")
	writeXML(rq.w, status, `<D:prop xmlns:D="DAV:"><D:lockdiscovery>`+activeLock(l, now)+`</D:lockdiscovery></D:prop>`)
	return nil
}

// refreshLock renews the lock whose token the If header submits.
func (rq *request) refreshLock(timeout time.Duration, now time.Time) error {
	if len(rq.tokens) == 0 {
		return newStatus(http.StatusBadRequest, "LOCK refresh without a lock token")
	}
	l, err := rq.op.Refresh(rq.path, timeout)
	if errors.Is(err, archive.ErrLockMismatch) {
		return &statusError{code: http.StatusPreconditionFailed, cond: "lock-token-matches-request-uri", err: err}
	}
	if err != nil {
		return err
	}
	writeXML(rq.w, http.StatusOK, `<D:prop xmlns:D="DAV:"><D:lockdiscovery>`+activeLock(l, now)+`</D:lockdiscovery></D:prop>`)
	return nil
}

func (rq *request) unlock() error {
	tok := strings.TrimSpace(rq.r.Header.Get("Lock-Token"))
	if len(tok) < 3 || tok[0] != '<' || tok[len(tok)-1] != '>' {
		return newStatus(http.StatusBadRequest, "missing or malformed Lock-Token")
	}
	err := rq.op.Unlock(rq.path, tok[1:len(tok)-1])
	if errors.Is(err, archive.ErrLockMismatch) {
		return &statusError{code: http.StatusConflict, cond: "lock-token-matches-request-uri", err: err}
	}
	if err != nil {
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
