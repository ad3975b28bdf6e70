package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/scan/render"
)

func TestRenderProblem(t *testing.T) {
	for _, tt := range []struct {
		err    error
		status int
		words  string
	}{
		{fmt.Errorf("%w: tiff: a page of 100000 × 100000 pixels", render.ErrTooLarge), 422, "troppo grande"},
		{fmt.Errorf("%w: tiff: truncated at 300", render.ErrDamaged), 422, "danneggiato"},
		{render.ErrBigTIFF, 422, "BigTIFF"},
		{render.ErrNoPage, 404, "non ha la pagina"},
		{render.ErrUnsupported, 404, "non c'è un'anteprima"},
		{errors.New("s3: connection refused"), 503, ""},
		{context.DeadlineExceeded, 503, ""},
	} {
		status, _, msg := renderProblem(tt.err)
		if status != tt.status || !strings.Contains(msg, tt.words) {
			t.Errorf("%v: %d %q, want %d with %q", tt.err, status, msg, tt.status, tt.words)
		}
		if strings.Contains(msg, "tiff:") || strings.Contains(msg, "render:") {
			t.Errorf("%v: the message shows the error: %q", tt.err, msg)
		}
	}
}

func TestNotModified(t *testing.T) {
	h := &Handler{}
	for _, tt := range []struct {
		inm  string
		want bool
	}{{"", false}, {`"abc"`, true}, {`"x", "abc"`, true}, {`"abcd"`, false}, {`W/"abc"`, false}} {
		r := httptest.NewRequest("GET", "/_/pagina/guastalla/a.tif?n=1", nil)
		if tt.inm != "" {
			r.Header.Set("If-None-Match", tt.inm)
		}
		w := httptest.NewRecorder()
		got := h.notModified(w, r, "abc")
		if got != tt.want || (got && w.Code != http.StatusNotModified) || w.Header().Get("ETag") != `"abc"` ||
			!strings.HasPrefix(w.Header().Get("Cache-Control"), "private") {
			t.Errorf("If-None-Match %q: %v, %d, %v", tt.inm, got, w.Code, w.Header())
		}
	}
}

func TestParentOf(t *testing.T) {
	for in, want := range map[string]string{"/guastalla/2019/a.tif": "/guastalla/2019", "/guastalla": "/", "/": "/"} {
		if got := parentOf(in); got != want {
			t.Errorf("parentOf(%q) = %q, want %q", in, got, want)
		}
	}
}
