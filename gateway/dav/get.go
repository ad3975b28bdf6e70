package dav

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/backends"
)

// get serves GET and HEAD. A file costs one storage request: the read itself
// carries the metadata, and a Range goes to the storage as it is.
func (rq *request) get() error {
	if err := rq.checkIf(); err != nil {
		return err
	}
	if rq.r.Method == http.MethodHead {
		e, err := rq.stat(rq.path)
		if err != nil {
			return err
		}
		if code := httpPreconditions(rq.r, e, true, true); code != 0 {
			return rq.notModified(code, e)
		}
		rq.entryHeaders(e)
		rq.digestHeader(e)
		if e.IsDir {
			rq.w.Header().Set("Content-Type", "text/html; charset=utf-8")
		} else {
			rq.w.Header().Set("Content-Length", strconv.FormatInt(e.Size, 10))
		}
		rq.w.WriteHeader(http.StatusOK)
		return nil
	}

	rng := ParseRange(rq.r.Header.Get("Range"))
	obj, err := rq.op.Open(rq.path, rng)
	if errors.Is(err, backends.ErrIsDir) {
		return rq.folderPage()
	}
	if errors.Is(err, backends.ErrRange) {
		if e, serr := rq.stat(rq.path); serr == nil {
			rq.w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(e.Size, 10))
		}
		return err
	}
	if err != nil {
		return err
	}
	defer func() { obj.Body.Close() }()
	if code := httpPreconditions(rq.r, obj.Entry, true, true); code != 0 {
		return rq.notModified(code, obj.Entry)
	}
	if rng != nil && !ifRangeMatches(rq.r.Header.Get("If-Range"), obj.Entry) {
		obj.Body.Close()
		if obj, err = rq.op.Open(rq.path, nil); err != nil {
			return err
		}
		rng = nil
	}
	h := rq.w.Header()
	rq.entryHeaders(obj.Entry)
	rq.digestHeader(obj.Entry)
	rq.w.WriteHeader(ContentHeaders(h, obj, rng != nil))
	// One read and one write at a time: the sockets' buffers overlap the
	// storage and the client, and the S3 backend's reads of a large body
	// come in pieces of hundreds of kilobytes. A second goroutine reading
	// ahead only added wakeups (measured: docs/benchmarks.md).
	buf := rq.downloadBuffer()
	defer rq.downloads.Put(buf)
	if _, err := io.CopyBuffer(writerOnly{rq.w}, io.LimitReader(obj.Body, obj.Length), *buf); err != nil {
		// The status is sent: all that is left is to log the broken stream.
		rq.log.Warn("GET body interrupted", "path", rq.path, "user", rq.user, "err", err)
	}
	return nil
}

// writerOnly hides the methods of a writer other than Write, such as a
// ReadFrom with a small buffer of its own.
type writerOnly struct{ io.Writer }

// notModified answers a failed precondition of a read.
func (rq *request) notModified(code int, e backends.Entry) error {
	if code == http.StatusNotModified {
		rq.entryHeaders(e)
		rq.w.WriteHeader(code)
		return nil
	}
	return newStatus(code, "HTTP precondition failed")
}

func (rq *request) entryHeaders(e backends.Entry) {
	h := rq.w.Header()
	if !e.IsDir {
		h.Set("ETag", quoteETag(e.ETag))
		h.Set("Accept-Ranges", "bytes")
	}
	if !e.ModTime.IsZero() {
		h.Set("Last-Modified", e.ModTime.UTC().Format(http.TimeFormat))
	}
}

// ContentHeaders sets the headers of a response that sends obj's content,
// the range of it that was asked for when ranged, and returns the
// response's status. The pages' downloads of kept files send theirs so too.
func ContentHeaders(h http.Header, obj *backends.Object, ranged bool) int {
	h.Set("Content-Type", obj.ContentType)
	// Archived HTML or SVG must not run as a page of this origin.
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("Content-Length", strconv.FormatInt(obj.Length, 10))
	if !ranged {
		return http.StatusOK
	}
	h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", obj.Start, obj.Start+obj.Length-1, obj.Size))
	return http.StatusPartialContent
}

// ParseRange parses a Range header with a single byte range. Anything else,
// multiple ranges included, yields nil: the whole file is served, as HTTP
// allows. The pages read a range of a kept file by it too.
func ParseRange(s string) *backends.Range {
	spec, ok := strings.CutPrefix(s, "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return nil
	}
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n <= 0 {
			return nil
		}
		return &backends.Range{Start: -1, Length: n}
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return nil
	}
	if last == "" {
		return &backends.Range{Start: start, Length: -1}
	}
	end, err := strconv.ParseInt(last, 10, 64)
	if err != nil || end < start {
		return nil
	}
	return &backends.Range{Start: start, Length: end - start + 1}
}

// ifRangeMatches reports whether a range may be served under If-Range.
func ifRangeMatches(v string, e backends.Entry) bool {
	if v == "" {
		return true
	}
	if strings.HasPrefix(v, `"`) {
		return v == quoteETag(e.ETag)
	}
	t, err := http.ParseTime(v)
	return err == nil && e.ModTime.Truncate(time.Second).Equal(t)
}

// folderPage answers GET on a folder. The archive pages show folders to
// people; one listing, with its search, sorting and paging, is enough.
func (rq *request) folderPage() error {
	if _, err := rq.stat(rq.path); err != nil {
		return err
	}
	if rq.opts.FolderPage == "" {
		rq.w.Header().Set("Allow", "OPTIONS, HEAD, DELETE, COPY, MOVE, PROPFIND, PROPPATCH, LOCK, UNLOCK")
		return newStatus(http.StatusMethodNotAllowed, "GET on a folder")
	}
	http.Redirect(rq.w, rq.r, rq.opts.FolderPage+href(rq.path, true), http.StatusSeeOther)
	return nil
}
