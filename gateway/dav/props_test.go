package dav

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// countingStore counts the property lookups and fails PropsOf from the
// failFrom-th call on (never when 0).
type countingStore struct {
	testStore
	props, childProps, propsOf atomic.Int64
	failFrom                   int64
}

func (s *countingStore) Props(ctx context.Context, p string) ([]state.Prop, error) {
	s.props.Add(1)
	return s.testStore.Props(ctx, p)
}

func (s *countingStore) ChildProps(ctx context.Context, dir string) (map[string][]state.Prop, error) {
	s.childProps.Add(1)
	return s.testStore.ChildProps(ctx, dir)
}

func (s *countingStore) PropsOf(ctx context.Context, paths []string) (map[string][]state.Prop, error) {
	if n := s.propsOf.Add(1); s.failFrom > 0 && n >= s.failFrom {
		return nil, fmt.Errorf("props of a page: %w", state.ErrUnavailable)
	}
	return s.testStore.PropsOf(ctx, paths)
}

// pageFailing fails every listing request but a folder's first.
type pageFailing struct {
	backends.Backend
}

func (b pageFailing) List(ctx context.Context, dir string, opts backends.ListOptions) (backends.Page, error) {
	if opts.Token != "" {
		return backends.Page{}, fmt.Errorf("list: %w", backends.ErrUnavailable)
	}
	return b.Backend.List(ctx, dir, opts)
}

const testNS = "urn:faldone:test"

// bigFolder makes /d with 1,005 files and a folder holding one more, over
// two listing pages whichever the depth; the folder and two of its
// descendants have a dead property naming them.
func bigFolder(d *davTest) {
	for i := range 1005 {
		d.write(fmt.Sprintf("d/f%04d.txt", i), "x")
	}
	d.write("d/zz/ultimo.txt", "y")
	for _, p := range []string{"/d", "/d/f1003.txt", "/d/zz/ultimo.txt"} {
		d.setProp(p, testNS, "origin", p)
	}
}

// TestPropfindInfinityBatches: Depth: infinity looks up dead properties
// with one query a listing page, not one an entry, and finds them all.
func TestPropfindInfinityBatches(t *testing.T) {
	var st *countingStore
	d := newDAVTest(t, Options{AllowInfiniteDepth: true}, func(b backends.Backend, s testStore) (backends.Backend, testStore) {
		st = &countingStore{testStore: s}
		return b, st
	})
	bigFolder(d)
	ms := parseMultistatus(t, d.do("PROPFIND", "/d/", "", "Depth", "infinity"))
	if n := len(ms.Responses); n != 1+1005+2 {
		t.Errorf("%d responses, want %d", n, 1+1005+2)
	}
	if got := st.propsOf.Load(); got != 2 {
		t.Errorf("%d PropsOf queries for two pages, want 2", got)
	}
	if got := st.props.Load() + st.childProps.Load(); got != 0 {
		t.Errorf("%d Props and ChildProps queries besides, want none", got)
	}
	for _, href := range []string{"/d/", "/d/f1003.txt", "/d/zz/ultimo.txt"} {
		r, ok := ms.response(href)
		want := `>` + strings.TrimSuffix(href, "/") + `</origin>`
		if !ok || !strings.Contains(r.props(), want) {
			t.Errorf("response for %s: %q, want its dead property", href, r.props())
		}
	}
	if r, _ := ms.response("/d/f1002.txt"); strings.Contains(r.props(), "origin") {
		t.Errorf("/d/f1002.txt has a dead property it was never given: %q", r.props())
	}
}

// TestPropfindFailsPartway: once the status line is sent, a failure ends
// the document where it happened, with nothing of the pages after it;
// before, the client gets the failure's status.
func TestPropfindFailsPartway(t *testing.T) {
	tests := []struct {
		name  string
		depth string
		fail  func(backends.Backend, *countingStore) backends.Backend
		code  int
		// responses in the 207 answer: the folder and its first page.
		responses int
	}{
		{"properties of the second page", "infinity", func(b backends.Backend, s *countingStore) backends.Backend {
			s.failFrom = 2
			return b
		}, http.StatusMultiStatus, 1 + 1000},
		{"properties of the first page", "infinity", func(b backends.Backend, s *countingStore) backends.Backend {
			s.failFrom = 1
			return b
		}, http.StatusServiceUnavailable, 0},
		{"listing of the second page", "infinity", func(b backends.Backend, _ *countingStore) backends.Backend {
			return pageFailing{b}
		}, http.StatusMultiStatus, 1 + 1000},
		{"listing of the second page, depth 1", "1", func(b backends.Backend, _ *countingStore) backends.Backend {
			return pageFailing{b}
		}, http.StatusMultiStatus, 1 + 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := newDAVTest(t, Options{AllowInfiniteDepth: true}, func(b backends.Backend, s testStore) (backends.Backend, testStore) {
				cs := &countingStore{testStore: s}
				return tt.fail(b, cs), cs
			})
			bigFolder(d)
			w := d.do("PROPFIND", "/d/", "", "Depth", tt.depth)
			if tt.code != http.StatusMultiStatus {
				if w.Code != tt.code {
					t.Fatalf("status %d, want %d", w.Code, tt.code)
				}
				return
			}
			ms := parseMultistatus(t, w)
			if n := len(ms.Responses); n != tt.responses {
				t.Errorf("%d responses, want %d", n, tt.responses)
			}
			for _, href := range ms.hrefs()[1:] {
				if href > "/d/f0999.txt" {
					t.Errorf("response for %s, of a page after the failure", href)
					break
				}
			}
		})
	}
}

// fixedQuota reports the same usage everywhere.
type fixedQuota struct{}

func (fixedQuota) Quota(string) (int64, int64, bool) { return 4000, 6000, true }

// TestQuotaOnlyWhereWritable: the quota properties (RFC 4331) are answered
// on folders the person may write in, and on no other: the holder of a
// read-only right does not learn the Comune's usage from the folders on
// the way to what they may read.
func TestQuotaOnlyWhereWritable(t *testing.T) {
	d := newDAVTest(t, Options{Quota: fixedQuota{}}, nil)
	d.mkdir("scrivibile")
	d.mkdir("sola-lettura")
	const body = `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>`
	for _, tt := range []struct {
		path string
		want bool
	}{
		{"/scrivibile/", true},
		{"/sola-lettura/", false},
	} {
		w := d.do("PROPFIND", tt.path, body, "Depth", "0")
		got := strings.Contains(w.Body.String(), "4000</D:quota-used-bytes>") || strings.Contains(w.Body.String(), ">4000<")
		if w.Code != 207 || got != tt.want {
			t.Errorf("PROPFIND %s: %d, quota shown %v, want %v\n%s", tt.path, w.Code, got, tt.want, w.Body)
		}
	}
}
