package web

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// gzipped holds the pages' text files (the kit's sheet and script, a
// megabyte and a half together, and the pages' own) compressed once, at
// start, for the browsers that accept gzip: a tablet on a slow line gets
// a fifth of the bytes, and no request compresses anything.
type gzipped map[string][]byte

func compressStatic(static fs.FS) (gzipped, error) {
	out := gzipped{}
	err := fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch path.Ext(p) {
		case ".css", ".js", ".svg", ".txt":
		default:
			return nil // fonts and images are compressed already
		}
		b, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		var z bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		zw.Write(b)
		if err := zw.Close(); err != nil {
			return err
		}
		if z.Len() < len(b) {
			out[p] = z.Bytes()
		}
		return nil
	})
	return out, err
}

// serve answers name compressed when the browser accepts gzip and there is
// a compressed copy; it reports whether it did.
func (g gzipped) serve(w http.ResponseWriter, r *http.Request, name string, fi fs.FileInfo) bool {
	w.Header().Add("Vary", "Accept-Encoding")
	z, ok := g[name]
	if !ok || !acceptsGzip(r.Header.Get("Accept-Encoding")) {
		return false
	}
	h := w.Header()
	h.Set("Content-Encoding", "gzip")
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		h.Set("Content-Type", ct)
	}
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), bytes.NewReader(z))
	return true
}

// acceptsGzip reports whether an Accept-Encoding names gzip without
// refusing it (q=0).
func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(name), "gzip") {
			q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
