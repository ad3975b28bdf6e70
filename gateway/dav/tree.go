package dav

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/bassareggiana/faldone/archive"
)

func (rq *request) mkcol() error {
	if rq.r.ContentLength > 0 || rq.r.Header.Get("Transfer-Encoding") != "" {
		return newStatus(http.StatusUnsupportedMediaType, "MKCOL with a body")
	}
	if err := rq.op.Mkdir(rq.path); err != nil {
		return err
	}
	rq.w.Header().Set("Location", href(rq.path, true))
	rq.w.WriteHeader(http.StatusCreated)
	return nil
}

func (rq *request) delete() error {
	if d := rq.r.Header.Get("Depth"); d != "" && !strings.EqualFold(d, "infinity") {
		return newStatus(http.StatusBadRequest, "DELETE with a finite Depth")
	}
	if err := rq.op.Delete(rq.path); err != nil {
		return err
	}
	rq.w.WriteHeader(http.StatusNoContent)
	return nil
}

// multiFailure answers 207 with the status of each resource that failed.
func (rq *request) multiFailure(failed map[string]error) error {
	for p, err := range failed {
		rq.log.Error("resource failed", "method", rq.r.Method, "path", p, "user", rq.user, "err", err)
	}
	m := newMSWriter(rq.w)
	for p, err := range failed {
		m.statusResponse(href(p, false), statusOf(err), "")
	}
	return m.close()
}

// destination parses the Destination header into a namespace path.
func (rq *request) destination() (string, error) {
	d := rq.r.Header.Get("Destination")
	if d == "" {
		return "", newStatus(http.StatusBadRequest, "missing Destination")
	}
	u, err := url.Parse(d)
	if err != nil {
		return "", newStatus(http.StatusBadRequest, "bad Destination")
	}
	if u.Host != "" && !rq.localHost(u.Host) {
		return "", newStatus(http.StatusBadGateway, "Destination on another server")
	}
	p, _, err := cleanPath(u.EscapedPath())
	if err != nil {
		return "", err
	}
	return p, nil
}

// copyMove serves COPY and MOVE through the archive service.
func (rq *request) copyMove() error {
	move := rq.r.Method == "MOVE"
	dst, err := rq.destination()
	if err != nil {
		return err
	}
	overwrite := true
	switch strings.ToUpper(strings.TrimSpace(rq.r.Header.Get("Overwrite"))) {
	case "", "T":
	case "F":
		overwrite = false
	default:
		return newStatus(http.StatusBadRequest, "bad Overwrite header")
	}
	depthInfinite := true
	switch strings.ToLower(rq.r.Header.Get("Depth")) {
	case "", "infinity":
	case "0":
		if move {
			return newStatus(http.StatusBadRequest, "MOVE with Depth 0")
		}
		depthInfinite = false
	default:
		return newStatus(http.StatusBadRequest, "bad Depth header")
	}
	var c archive.Copied
	if move {
		c, err = rq.op.Move(rq.path, dst, overwrite)
	} else {
		c, err = rq.op.Copy(rq.path, dst, overwrite, depthInfinite)
	}
	if err != nil {
		return err
	}
	if c.Replaced {
		rq.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	rq.w.Header().Set("Location", href(dst, c.IsDir))
	rq.w.WriteHeader(http.StatusCreated)
	return nil
}
