package backendtest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/backends"
)

// create starts an upload or stops the test.
func create(t *testing.T, b backends.Backend, p string, size int64) backends.Upload {
	t.Helper()
	u, err := b.Create(t.Context(), p, size, backends.CreateOptions{})
	if err != nil {
		t.Fatalf("Create(%q): %v", p, err)
	}
	return u
}

// write writes to an upload or stops the test.
func write(t *testing.T, u backends.Upload, p []byte) {
	t.Helper()
	if _, err := u.Write(p); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// start starts an upload of content and leaves it to be committed.
func start(t *testing.T, b backends.Backend, p string, content []byte) backends.Upload {
	t.Helper()
	u := create(t, b, p, int64(len(content)))
	write(t, u, content)
	return u
}

// put stores a file and returns the entry Commit gave.
func put(t *testing.T, b backends.Backend, p string, content []byte) backends.Entry {
	t.Helper()
	e, err := start(t, b, p, content).Commit(t.Context())
	if err != nil {
		t.Fatalf("Commit(%q): %v", p, err)
	}
	return e
}

// putMany stores small files concurrently, as a bulk load would.
func putMany(t *testing.T, b backends.Backend, paths []string) {
	t.Helper()
	ch := make(chan string)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for p := range ch {
				u, err := b.Create(t.Context(), p, int64(len(p)), backends.CreateOptions{})
				if err == nil {
					_, err = u.Write([]byte(p))
					if err == nil {
						_, err = u.Commit(t.Context())
					} else {
						u.Abort(t.Context())
					}
				}
				if err != nil {
					t.Errorf("put %q: %v", p, err)
				}
			}
		})
	}
	for _, p := range paths {
		ch <- p
	}
	close(ch)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

func mkdir(t *testing.T, b backends.Backend, p string) {
	t.Helper()
	if err := b.Mkdir(t.Context(), p); err != nil {
		t.Fatalf("Mkdir(%q): %v", p, err)
	}
}

func stat(t *testing.T, b backends.Backend, p string) backends.Entry {
	t.Helper()
	e, err := b.Stat(t.Context(), p)
	if err != nil {
		t.Fatalf("Stat(%q): %v", p, err)
	}
	return e
}

// statErr returns only the error of a Stat, for wantErr.
func statErr(t *testing.T, b backends.Backend, p string) error {
	_, err := b.Stat(t.Context(), p)
	return err
}

// open reads a file or part of it, checking that Body yields Length bytes.
func open(t *testing.T, b backends.Backend, p string, r *backends.Range) (*backends.Object, []byte) {
	t.Helper()
	obj, err := b.Open(t.Context(), p, r)
	if err != nil {
		t.Fatalf("Open(%q, %+v): %v", p, r, err)
	}
	content, err := io.ReadAll(obj.Body)
	if cerr := obj.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("reading %q: %v", p, err)
	}
	if int64(len(content)) != obj.Length {
		t.Errorf("Open(%q, %+v): Body yielded %d bytes, Length says %d", p, r, len(content), obj.Length)
	}
	return obj, content
}

func read(t *testing.T, b backends.Backend, p string) []byte {
	t.Helper()
	_, content := open(t, b, p, nil)
	return content
}

// maxPages bounds a listing, so that a backend that never ends one fails.
const maxPages = 100

// list returns every entry of a listing, following Next. It checks that
// pages hold at most 1000 entries and that the entries come in the order of
// their keys (see key), each once.
func list(t *testing.T, b backends.Backend, dir string, recursive bool) []backends.Entry {
	t.Helper()
	var all []backends.Entry
	opts := backends.ListOptions{Recursive: recursive}
	for range maxPages {
		page, err := b.List(t.Context(), dir, opts)
		if err != nil {
			t.Fatalf("List(%q, %+v): %v", dir, opts, err)
		}
		if len(page.Entries) > 1000 {
			t.Errorf("List(%q, %+v) returned a page of %d entries, more than 1000", dir, opts, len(page.Entries))
		}
		if s := page.Self; s != nil && (opts.Token != "" || !s.IsDir || s.Path != dir) {
			t.Errorf("List(%q, %+v) returned Self %+v: only the first page may, and only the folder itself", dir, opts, *s)
		}
		for _, e := range page.Entries {
			if n := len(all); n > 0 && key(all[n-1]) >= key(e) {
				t.Errorf("List(%q, %+v): %q after %q, out of order or repeated", dir, opts, key(e), key(all[n-1]))
			}
			all = append(all, e)
		}
		if page.Next == "" {
			return all
		}
		opts.Token = page.Next
	}
	t.Fatalf("List(%q) did not end within %d pages", dir, maxPages)
	return nil
}

// checkList lists dir and checks its keys against want, in order.
func checkList(t *testing.T, b backends.Backend, dir string, recursive bool, want ...string) []backends.Entry {
	t.Helper()
	entries := list(t, b, dir, recursive)
	if got := keys(entries); !slices.Equal(got, want) {
		t.Errorf("List(%q, recursive %t):\n%s", dir, recursive, diff(got, want))
	}
	return entries
}

// key is the entry's path, with a trailing slash for a folder as for its
// marker object: listings come in byte order of keys.
func key(e backends.Entry) string {
	if e.IsDir {
		return e.Path + "/"
	}
	return e.Path
}

func keys(entries []backends.Entry) []string {
	ks := make([]string, len(entries))
	for i, e := range entries {
		ks[i] = key(e)
	}
	return ks
}

func paths(entries []backends.Entry) []string {
	ps := make([]string, len(entries))
	for i, e := range entries {
		ps[i] = e.Path
	}
	return ps
}

// diff shows got and want side by side, up to the first differences.
func diff(got, want []string) string {
	var sb strings.Builder
	shown := 0
	for i := range max(len(got), len(want)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g == w {
			continue
		}
		fmt.Fprintf(&sb, "  [%d] got %q, want %q\n", i, g, w)
		if shown++; shown == 10 {
			sb.WriteString("  …\n")
			break
		}
	}
	return sb.String()
}

// sameEntry checks that a description of a file agrees with the one that
// Commit or Copy gave. Modification times agree to the second, give or take
// one: object stores give them to the second in headers and to the
// millisecond in listings, and S3 does not say in its answer to a PutObject
// the time it recorded, so Commit can only tell when the answer came.
func sameEntry(t *testing.T, what string, got, want backends.Entry) {
	t.Helper()
	if got.Path != want.Path || got.IsDir != want.IsDir || got.Size != want.Size ||
		got.ETag != want.ETag || got.ContentType != want.ContentType ||
		got.ModTime.Truncate(time.Second).Sub(want.ModTime.Truncate(time.Second)).Abs() > time.Second {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

// sameSecond reports whether two modification times that the storage
// recorded agree to the second.
func sameSecond(a, b time.Time) bool {
	return a.Truncate(time.Second).Equal(b.Truncate(time.Second))
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

// randomBytes returns n bytes that are the same for the same seed.
func randomBytes(seed uint64, n int) []byte {
	p := make([]byte, n)
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	rand.NewChaCha8(s).Read(p)
	return p
}
