package dav

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/bassareggiana/faldone/backends"
)

// put stores a file. The body streams to the backend's upload, which becomes
// visible only when it was received whole: a client that goes away, or sends
// fewer bytes than it announced, leaves the previous content as it was.
func (rq *request) put() error {
	if rq.r.Header.Get("Content-Range") != "" {
		return newStatus(http.StatusBadRequest, "partial PUT is not supported")
	}
	if rq.path == "/" || rq.dir {
		return newStatus(http.StatusMethodNotAllowed, "PUT on a folder")
	}
	// Only the file that the PUT replaces matters here: a folder at the
	// path makes Create fail, which checks for one anyway.
	e, err := rq.statFile(rq.path)
	exists := err == nil
	if err != nil && !errors.Is(err, backends.ErrNotFound) {
		return err
	}
	if exists && e.IsDir {
		return newStatus(http.StatusMethodNotAllowed, "PUT on a folder")
	}
	if err := rq.checkWrite(target{path: rq.path, member: !exists}); err != nil {
		return err
	}
	size, err := expectedSize(rq.r)
	if err != nil {
		return err
	}
	if q := rq.opts.Quota; q != nil && size > 0 {
		if _, avail, ok := q.Quota(rq.path); ok && size-e.Size > avail {
			return &statusError{code: http.StatusInsufficientStorage, err: fmt.Errorf("%d bytes beyond the quota: %w", size, backends.ErrTooLarge)}
		}
	}
	up, err := rq.fs.Create(rq.ctx, backendPath(rq.path), size)
	if errors.Is(err, backends.ErrNotFound) || errors.Is(err, backends.ErrNotDir) {
		return &statusError{code: http.StatusConflict, err: err}
	}
	if err != nil {
		return err
	}
	if rq.opts.OnUpload != nil {
		rq.opts.OnUpload(1)
		defer rq.opts.OnUpload(-1)
	}
	buf := rq.buffer()
	body := &bodyReader{r: rq.r.Body}
	n, err := io.CopyBuffer(up, body, *buf)
	rq.bufs.Put(buf)
	switch {
	// Only a body that ended short is the client's fault: a storage that
	// failed, or a shutdown that cancelled the upload, keeps its own error
	// (503), which a client may retry.
	case body.err != nil:
		err = fmt.Errorf("reading the body: %w: %w", backends.ErrIncomplete, body.err)
	case err == nil && size >= 0 && n != size:
		err = fmt.Errorf("body has %d bytes, %d announced: %w", n, size, backends.ErrIncomplete)
	}
	if err != nil {
		if aerr := up.Abort(rq.ctx); aerr != nil {
			rq.log.Error("abort upload", "path", rq.path, "err", aerr)
		}
		return fmt.Errorf("PUT %s after %d bytes: %w", rq.path, n, err)
	}
	ne, err := up.Commit(rq.ctx)
	if err != nil {
		return err
	}
	if q := rq.opts.Quota; q != nil {
		q.Add(rq.path, ne.Size-e.Size)
	}
	rq.w.Header().Set("ETag", quoteETag(ne.ETag))
	if exists {
		rq.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	rq.w.Header().Set("Location", href(rq.path, false))
	rq.w.WriteHeader(http.StatusCreated)
	return nil
}

// bodyReader remembers why a request body could not be read, which tells
// a client that sent too little from a storage that took too little.
type bodyReader struct {
	r   io.Reader
	err error
}

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
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

// buffer returns a copy buffer from the handler's pool.
func (h *Handler) buffer() *[]byte {
	if b, ok := h.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, 256<<10)
	return &b
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
