package dav

import (
	"net/http"
	"strconv"
)

// put stores a file through the archive service, which streams the body
// to an upload that becomes visible only once received whole.
func (rq *request) put() error {
	// A partial PUT would replace the file with its piece.
	if rq.r.Header.Get("Content-Range") != "" {
		return newStatus(http.StatusBadRequest, "partial PUT is not supported")
	}
	// A URL that ends with a slash names a folder, whatever is there.
	if rq.dir {
		return newStatus(http.StatusMethodNotAllowed, "PUT on a folder")
	}
	// The announced length lets the service refuse an upload beyond the
	// quota before it streams, and tell a body that ended short.
	size, err := expectedSize(rq.r)
	if err != nil {
		return err
	}
	e, created, err := rq.op.Put(rq.path, rq.r.Body, size)
	if err != nil {
		return err
	}
	rq.w.Header().Set("ETag", quoteETag(e.ETag))
	if !created {
		rq.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	rq.w.Header().Set("Location", href(rq.path, false))
	rq.w.WriteHeader(http.StatusCreated)
	return nil
}

// expectedSize is the length the body announces: Content-Length, or for a
// chunked body the X-Expected-Entity-Length that macOS Finder sends; -1 when
// neither is known.
func expectedSize(r *http.Request) (int64, error) {
	if r.ContentLength >= 0 {
		return r.ContentLength, nil
	}
	if v := r.Header.Get("X-Expected-Entity-Length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, newStatus(http.StatusBadRequest, "bad X-Expected-Entity-Length")
		}
		return n, nil
	}
	return -1, nil
}

// downloadSize is the size of the buffer of a download: as large as the
// pieces the S3 backend reads a large body in, and twice that.
const downloadSize = 1 << 20

// downloadBuffer returns a download buffer from the handler's pool.
func (h *Handler) downloadBuffer() *[]byte {
	if b, ok := h.downloads.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, downloadSize)
	return &b
}
