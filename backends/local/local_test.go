package local

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/backends/backendtest"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backends.Backend {
		return newBackend(t, t.TempDir())
	})
}

func newBackend(t *testing.T, dir string) *Backend {
	t.Helper()
	b, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// sandbox returns a backend on outside/root, and outside.
func sandbox(t *testing.T) (b *Backend, outside string) {
	t.Helper()
	outside = t.TempDir()
	root := filepath.Join(outside, "root")
	if err := os.Mkdir(root, 0o777); err != nil {
		t.Fatal(err)
	}
	return newBackend(t, root), outside
}

// tree returns every path under dir, relative to it, in lexical order.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		names = append(names, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func writeFile(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "file"), "x")
	for _, d := range []string{filepath.Join(dir, "missing"), filepath.Join(dir, "file")} {
		if b, err := New(d); err == nil {
			b.Close()
			t.Errorf("New(%q) succeeded", d)
		}
	}
}

func TestInvalidPaths(t *testing.T) {
	tests := []string{
		"../x",
		"a/../../x",
		"..",
		"/etc/passwd",
		"/x",
		"a\\b",
		"..\\x",
		"a\x00b",
		"./a",
		".",
		"a/.",
		"a//b",
		"a/",
		"a//",
		"/",
	}
	b, outside := sandbox(t)
	ctx := t.Context()
	writeFile(t, filepath.Join(outside, "root", "a"), "a") // a real source for Copy and Move
	for _, p := range tests {
		checks := map[string]error{}
		_, checks["Stat"] = b.Stat(ctx, p)
		_, checks["Open"] = b.Open(ctx, p, nil)
		_, checks["List"] = b.List(ctx, p, backends.ListOptions{})
		_, checks["Create"] = b.Create(ctx, p, 1, backends.CreateOptions{})
		checks["Mkdir"] = b.Mkdir(ctx, p)
		_, checks["Copy from"] = b.Copy(ctx, p, "b", backends.CopyOptions{})
		_, checks["Copy to"] = b.Copy(ctx, "a", p, backends.CopyOptions{})
		checks["Move from"] = b.Move(ctx, p, "b")
		checks["Move to"] = b.Move(ctx, "a", p)
		// To Delete, a trailing slash names a folder: "a/" is valid there.
		if p != "a/" {
			var de *backends.DeleteError
			if err := b.Delete(ctx, []string{p}); errors.As(err, &de) {
				checks["Delete"] = de.Failed[p]
			} else {
				checks["Delete"] = err
			}
		}
		for op, err := range checks {
			if !errors.Is(err, backends.ErrInvalidPath) {
				t.Errorf("%s(%q): %v, want %v", op, p, err, backends.ErrInvalidPath)
			}
		}
	}
	if got, want := tree(t, outside), []string{".", "root", "root/a"}; !slices.Equal(got, want) {
		t.Errorf("after the invalid paths the sandbox holds %q, want %q", got, want)
	}
}

func TestSymlinks(t *testing.T) {
	b, outside := sandbox(t)
	ctx := t.Context()
	root := filepath.Join(outside, "root")
	writeFile(t, filepath.Join(outside, "segreto.txt"), "segreto")
	writeFile(t, filepath.Join(root, "vero.txt"), "vero")
	for name, target := range map[string]string{
		"fuori":       outside,
		"segreto.txt": filepath.Join(outside, "segreto.txt"),
		"dentro.txt":  "vero.txt",
	} {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Skipf("cannot create symbolic links: %v", err)
		}
	}

	for _, p := range []string{"fuori", "fuori/segreto.txt", "segreto.txt", "dentro.txt"} {
		if _, err := b.Stat(ctx, p); !errors.Is(err, backends.ErrNotFound) {
			t.Errorf("Stat(%q): %v, want %v", p, err, backends.ErrNotFound)
		}
		if _, err := b.Open(ctx, p, nil); !errors.Is(err, backends.ErrNotFound) {
			t.Errorf("Open(%q): %v, want %v", p, err, backends.ErrNotFound)
		}
		if _, err := b.Copy(ctx, p, "copia.txt", backends.CopyOptions{}); !errors.Is(err, backends.ErrNotFound) {
			t.Errorf("Copy(%q): %v, want %v", p, err, backends.ErrNotFound)
		}
	}
	if _, err := b.List(ctx, "fuori", backends.ListOptions{}); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("List(fuori): %v, want %v", err, backends.ErrNotFound)
	}
	page, err := b.List(ctx, "", backends.ListOptions{Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || page.Entries[0].Path != "vero.txt" {
		t.Errorf("List shows %+v, want only vero.txt", page.Entries)
	}

	// Nothing written through the link to the outside lands there.
	if u, err := b.Create(ctx, "fuori/nuovo.txt", 1, backends.CreateOptions{}); err == nil {
		u.Write([]byte("x"))
		u.Commit(ctx)
		t.Error("Create through a link out of the root succeeded")
	}
	if err := b.Mkdir(ctx, "fuori/nuova"); err == nil {
		t.Error("Mkdir through a link out of the root succeeded")
	}
	if err := b.Move(ctx, "vero.txt", "fuori/vero.txt"); err == nil {
		t.Error("Move through a link out of the root succeeded")
	}
	if err := b.Move(ctx, "segreto.txt", "preso.txt"); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Move of a link: %v, want %v", err, backends.ErrNotFound)
	}
	if err := b.Delete(ctx, []string{"segreto.txt", "fuori/segreto.txt", "fuori/"}); err != nil {
		t.Errorf("Delete of links: %v, want nothing to delete", err)
	}
	want := []string{".", "root", "root/dentro.txt", "root/fuori", "root/segreto.txt", "root/vero.txt", "segreto.txt"}
	if got := tree(t, outside); !slices.Equal(got, want) {
		t.Errorf("the sandbox holds %q, want %q", got, want)
	}
	if got, _ := os.ReadFile(filepath.Join(outside, "segreto.txt")); string(got) != "segreto" {
		t.Errorf("the file outside holds %q", got)
	}
}

func TestTempFilesHidden(t *testing.T) {
	dir := t.TempDir()
	b := newBackend(t, dir)
	ctx := t.Context()
	if err := b.Mkdir(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	// Leftovers of a crash, and an upload in progress.
	leftover := tmpPrefix + "leftover"
	writeFile(t, filepath.Join(dir, leftover), "x")
	writeFile(t, filepath.Join(dir, "d", leftover), "x")
	u, err := b.Create(ctx, "d/nuovo.txt", -1, backends.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("in corso"))

	for _, recursive := range []bool{false, true} {
		page, err := b.List(ctx, "", backends.ListOptions{Recursive: recursive})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Entries {
			if strings.Contains(e.Path, tmpPrefix) || e.Path == "d/nuovo.txt" {
				t.Errorf("List(recursive %t) shows %q", recursive, e.Path)
			}
		}
	}
	for _, p := range []string{leftover, "d/" + leftover} {
		if _, err := b.Stat(ctx, p); !errors.Is(err, backends.ErrNotFound) {
			t.Errorf("Stat(%q): %v, want %v", p, err, backends.ErrNotFound)
		}
		if _, err := b.Open(ctx, p, nil); !errors.Is(err, backends.ErrNotFound) {
			t.Errorf("Open(%q): %v, want %v", p, err, backends.ErrNotFound)
		}
		if err := b.Delete(ctx, []string{p}); err != nil {
			t.Errorf("Delete(%q): %v", p, err)
		}
		if _, err := b.Create(ctx, p, 0, backends.CreateOptions{}); !errors.Is(err, backends.ErrInvalidPath) {
			t.Errorf("Create(%q): %v, want %v", p, err, backends.ErrInvalidPath)
		}
		if err := b.Mkdir(ctx, p+"x"); !errors.Is(err, backends.ErrInvalidPath) {
			t.Errorf("Mkdir(%q): %v, want %v", p+"x", err, backends.ErrInvalidPath)
		}
	}
	if err := b.Delete(ctx, []string{"d/"}); err == nil {
		t.Error("Delete removed a folder holding an upload in progress")
	}

	if _, err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Copy(ctx, "d/nuovo.txt", "copia.txt", backends.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	u, err = b.Create(ctx, "abortito.txt", -1, backends.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("x"))
	u.Abort(ctx)
	if err := b.Check(ctx); err != nil {
		t.Fatal(err)
	}
	// Only the leftovers remain: Delete never touched them, and nothing
	// else left a temporary file behind.
	want := []string{".", leftover, "copia.txt", "d", "d/" + leftover, "d/nuovo.txt"}
	if got := tree(t, dir); !slices.Equal(got, want) {
		t.Errorf("the folder holds %q, want %q", got, want)
	}
}

func TestCommitCanceled(t *testing.T) {
	dir := t.TempDir()
	b := newBackend(t, dir)
	u, err := b.Create(t.Context(), "a.txt", 1, backends.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte("a"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := u.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit with a cancelled context: %v", err)
	}
	if got := tree(t, dir); !slices.Equal(got, []string{"."}) {
		t.Errorf("the folder holds %q after a cancelled commit", got)
	}
}

func TestMove(t *testing.T) {
	b := newBackend(t, t.TempDir())
	ctx := t.Context()
	if err := b.Mkdir(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if err := b.Mkdir(ctx, "d/e"); err != nil {
		t.Fatal(err)
	}
	u, _ := b.Create(ctx, "d/f.txt", 1, backends.CreateOptions{})
	u.Write([]byte("f"))
	before, err := u.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, dst := range []string{"d/e/d", "d/d"} {
		if err := b.Move(ctx, "d", dst); !errors.Is(err, backends.ErrInvalidPath) {
			t.Errorf("Move(d, %s): %v, want %v", dst, err, backends.ErrInvalidPath)
		}
	}
	if err := b.Move(ctx, "d", "d"); !errors.Is(err, backends.ErrExist) {
		t.Errorf("Move onto itself: %v, want %v", err, backends.ErrExist)
	}
	if err := b.Move(ctx, "d/f.txt", "d/e/f.txt"); err != nil {
		t.Fatal(err)
	}
	// A rename keeps the file, and so its ETag.
	after, err := b.Stat(ctx, "d/e/f.txt")
	if err != nil {
		t.Fatal(err)
	}
	if after.ETag != before.ETag {
		t.Errorf("ETag %q became %q in a move", before.ETag, after.ETag)
	}
	// A file replaces a file atomically; a folder never replaces anything.
	u, _ = b.Create(ctx, "g.txt", 1, backends.CreateOptions{})
	u.Write([]byte("g"))
	if _, err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Move(ctx, "g.txt", "d/e/f.txt"); err != nil {
		t.Fatalf("Move of a file onto a file: %v", err)
	}
	if got := readAll(t, b, "d/e/f.txt"); got != "g" {
		t.Errorf("after replacing move: %q, want %q", got, "g")
	}
	if err := b.Mkdir(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	if err := b.Move(ctx, "h", "d/e/f.txt"); !errors.Is(err, backends.ErrExist) {
		t.Errorf("Move of a folder onto a file: %v, want %v", err, backends.ErrExist)
	}
	if err := b.Move(ctx, "d/e/f.txt", "h"); !errors.Is(err, backends.ErrExist) {
		t.Errorf("Move of a file onto a folder: %v, want %v", err, backends.ErrExist)
	}
	if err := b.Move(ctx, "", "x"); !errors.Is(err, backends.ErrInvalidPath) {
		t.Errorf("Move of the root: %v, want %v", err, backends.ErrInvalidPath)
	}
}

func TestDeleteFolderWithContent(t *testing.T) {
	b := newBackend(t, t.TempDir())
	ctx := t.Context()
	for _, d := range []string{"d", "d/e"} {
		if err := b.Mkdir(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"d/x.txt", "d/e/y.txt"} {
		u, _ := b.Create(ctx, p, 0, backends.CreateOptions{})
		if _, err := u.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// A batch holding a folder and all it contains, in any order.
	if err := b.Delete(ctx, []string{"d/", "d/e/", "d/x.txt", "d/e/y.txt"}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := b.Stat(ctx, "d"); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Stat(d) after Delete: %v", err)
	}
}

func TestDeleteKinds(t *testing.T) {
	b := newBackend(t, t.TempDir())
	ctx := t.Context()
	b.Mkdir(ctx, "d")
	u, _ := b.Create(ctx, "f", 0, backends.CreateOptions{})
	u.Commit(ctx)
	err := b.Delete(ctx, []string{"d", "f/"})
	var de *backends.DeleteError
	if !errors.As(err, &de) || !errors.Is(de.Failed["d"], backends.ErrIsDir) || !errors.Is(de.Failed["f/"], backends.ErrNotDir) {
		t.Errorf("Delete of a folder as a file and a file as a folder: %v", err)
	}
}

func TestListSkipsUnreachableNames(t *testing.T) {
	dir := t.TempDir()
	b := newBackend(t, dir)
	writeFile(t, filepath.Join(dir, "a\\b"), "x") // valid on this disk, never a valid path
	writeFile(t, filepath.Join(dir, "c"), "x")
	page, err := b.List(t.Context(), "", backends.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || page.Entries[0].Path != "c" {
		t.Errorf("List = %+v, want only c", page.Entries)
	}
}

func TestCheck(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "root")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, dir)
	ctx := t.Context()
	if err := b.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	// Replaced by another directory, as by an unmount.
	if err := os.Rename(dir, filepath.Join(parent, "old")); err != nil {
		t.Fatal(err)
	}
	if err := b.Check(ctx); !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("Check of a moved root: %v, want %v", err, backends.ErrUnavailable)
	}
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := b.Check(ctx); !errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("Check of a replaced root: %v, want %v", err, backends.ErrUnavailable)
	}

	ro := filepath.Join(parent, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Create(filepath.Join(ro, "probe")); err == nil {
		f.Close()
		t.Skip("permissions do not apply (running as root)")
	}
	if err := newBackend(t, ro).Check(ctx); !errors.Is(err, backends.ErrAccessDenied) {
		t.Errorf("Check of a read-only root: %v, want %v", err, backends.ErrAccessDenied)
	}
}

func TestSpan(t *testing.T) {
	tests := []struct {
		size          int64
		r             *backends.Range
		start, length int64
		err           error
	}{
		{0, nil, 0, 0, nil},
		{10, nil, 0, 10, nil},
		{10, &backends.Range{Start: 2, Length: 3}, 2, 3, nil},
		{10, &backends.Range{Start: 2, Length: 0}, 2, 0, nil},
		{10, &backends.Range{Start: 2, Length: -1}, 2, 8, nil},
		{10, &backends.Range{Start: 9, Length: 1 << 62}, 9, 1, nil},
		{10, &backends.Range{Start: 10, Length: 1}, 0, 0, backends.ErrRange},
		{10, &backends.Range{Start: -1, Length: 3}, 7, 3, nil},
		{10, &backends.Range{Start: -5, Length: 30}, 0, 10, nil},
		{10, &backends.Range{Start: -1, Length: 0}, 0, 0, backends.ErrRange},
		{10, &backends.Range{Start: -1, Length: -1}, 0, 0, backends.ErrRange},
		{0, &backends.Range{Start: 0, Length: -1}, 0, 0, backends.ErrRange},
		{0, &backends.Range{Start: -1, Length: 5}, 0, 0, backends.ErrRange},
	}
	for _, tt := range tests {
		start, n, err := backends.Span(tt.size, tt.r)
		if start != tt.start || n != tt.length || err != tt.err {
			t.Errorf("backends.Span(%d, %+v) = %d, %d, %v; want %d, %d, %v", tt.size, tt.r, start, n, err, tt.start, tt.length, tt.err)
		}
	}
}

// Open's body reads only the range, even when the file is longer.
func TestOpenRangeBody(t *testing.T) {
	dir := t.TempDir()
	b := newBackend(t, dir)
	writeFile(t, filepath.Join(dir, "f"), "0123456789")
	obj, err := b.Open(t.Context(), "f", &backends.Range{Start: 3, Length: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	got, err := io.ReadAll(obj.Body)
	if err != nil || string(got) != "3456" {
		t.Errorf("read %q, %v; want 3456", got, err)
	}
}

func readAll(t *testing.T, b *Backend, p string) string {
	t.Helper()
	obj, err := b.Open(t.Context(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	data, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

var _ backends.Keeper = (*Backend)(nil)
