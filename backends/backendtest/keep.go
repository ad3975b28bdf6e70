package backendtest

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/bassareggiana/faldone/backends"
)

// The Keeper cases run on backends that implement backends.Keeper and pass
// on the others without testing anything: each of ours is a Keeper, which
// its own test file asserts at compile time.

func keeper(b backends.Backend) (backends.Keeper, bool) {
	k, ok := b.(backends.Keeper)
	return k, ok
}

// openKept reads kept content or part of it, checking that Body yields Length bytes.
func openKept(t *testing.T, k backends.Keeper, loc string, r *backends.Range) []byte {
	t.Helper()
	obj, err := k.OpenKept(t.Context(), loc, r)
	if err != nil {
		t.Fatalf("OpenKept(%q, %+v): %v", loc, r, err)
	}
	content, err := io.ReadAll(obj.Body)
	if cerr := obj.Body.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("reading kept %q: %v", loc, err)
	}
	if int64(len(content)) != obj.Length {
		t.Errorf("OpenKept(%q, %+v): Body yielded %d bytes, Length says %d", loc, r, len(content), obj.Length)
	}
	return content
}

func restore(t *testing.T, k backends.Keeper, loc, dst string) backends.Entry {
	t.Helper()
	e, err := k.Restore(t.Context(), loc, dst)
	if err != nil {
		t.Fatalf("Restore(%q, %q): %v", loc, dst, err)
	}
	if e.Path != dst || e.IsDir {
		t.Errorf("Restore(%q, %q) = %+v, want the file %q", loc, dst, e, dst)
	}
	return e
}

func discard(t *testing.T, k backends.Keeper, root backends.Entry, tree []backends.Entry, id string) map[string]string {
	t.Helper()
	locs, err := k.Discard(t.Context(), root, tree, id)
	if err != nil {
		t.Fatalf("Discard(%q): %v", root.Path, err)
	}
	return locs
}

func testKeepFile(t *testing.T, b backends.Backend) {
	k, ok := keeper(b)
	if !ok {
		return
	}
	ctx := t.Context()
	if k.KeepMode() == "" {
		t.Error("KeepMode is empty")
	}
	content := randomBytes(7, 70_000)
	mkdir(t, b, "d")
	put(t, b, "d/tavola.dwg", content)
	locs := discard(t, k, stat(t, b, "d/tavola.dwg"), nil, "file1")
	loc, ok := locs["d/tavola.dwg"]
	if len(locs) != 1 || !ok {
		t.Fatalf("Discard of a file = %v, want its locator alone", locs)
	}
	wantErr(t, statErr(t, b, "d/tavola.dwg"), backends.ErrNotFound, "Stat of a discarded file")
	checkList(t, b, "d", false)
	checkList(t, b, "", true, "d/")
	if got := openKept(t, k, loc, nil); !bytes.Equal(got, content) {
		t.Errorf("OpenKept of the discarded file: %d bytes, not the %d stored", len(got), len(content))
	}
	if got := openKept(t, k, loc, &backends.Range{Start: 1000, Length: 500}); !bytes.Equal(got, content[1000:1500]) {
		t.Error("OpenKept of a range: other bytes")
	}
	if got := openKept(t, k, loc, &backends.Range{Start: -10, Length: 10}); !bytes.Equal(got, content[len(content)-10:]) {
		t.Error("OpenKept of a suffix: other bytes")
	}
	// Restored where it was.
	restore(t, k, loc, "d/tavola.dwg")
	if got := read(t, b, "d/tavola.dwg"); !bytes.Equal(got, content) {
		t.Error("the file restored where it was holds other bytes")
	}
	wantErr(t, k.Purge(ctx, []string{loc}), nil, "Purge after Restore")

	// Restored under another name, then purged.
	locs = discard(t, k, stat(t, b, "d/tavola.dwg"), nil, "file2")
	loc = locs["d/tavola.dwg"]
	restore(t, k, loc, "altro.dwg")
	if got := read(t, b, "altro.dwg"); !bytes.Equal(got, content) {
		t.Error("the file restored under another name holds other bytes")
	}
	wantErr(t, statErr(t, b, "d/tavola.dwg"), backends.ErrNotFound, "Stat of the discarded file restored elsewhere")

	locs = discard(t, k, stat(t, b, "altro.dwg"), nil, "file3")
	loc = locs["altro.dwg"]
	if err := k.Purge(ctx, []string{loc}); err != nil {
		t.Fatalf("Purge: %v", err)
	}
	_, err := k.OpenKept(ctx, loc, nil)
	wantErr(t, err, backends.ErrNotFound, "OpenKept after Purge")
	if err := k.Purge(ctx, []string{loc}); err != nil {
		t.Errorf("Purge of a locator purged already: %v", err)
	}
	checkList(t, b, "", true, "d/")
}

func testKeepTree(t *testing.T, b backends.Backend) {
	k, ok := keeper(b)
	if !ok {
		return
	}
	ctx := t.Context()
	root := "pratiche/PC-2019-0042"
	dirs := []string{"pratiche", root, root + "/tavole", root + "/tavole/dwg", root + "/vuota"}
	for _, d := range dirs {
		mkdir(t, b, d)
	}
	put(t, b, "pratiche/resta.pdf", []byte("resta"))
	contents := map[string][]byte{}
	for i := range 50 {
		p := fmt.Sprintf("%s/f%02d.pdf", root, i)
		switch i % 3 {
		case 1:
			p = fmt.Sprintf("%s/tavole/t%02d.pdf", root, i)
		case 2:
			p = fmt.Sprintf("%s/tavole/dwg/t%02d.dwg", root, i)
		}
		contents[p] = randomBytes(uint64(100+i), 1+i*97)
		put(t, b, p, contents[p])
	}
	tree := list(t, b, root, true)
	locs := discard(t, k, stat(t, b, root), tree, "tree1")
	if len(locs) != len(contents) {
		t.Errorf("Discard of a tree of %d files named %d", len(contents), len(locs))
	}
	wantErr(t, statErr(t, b, root), backends.ErrNotFound, "Stat of a discarded folder")
	wantErr(t, statErr(t, b, root+"/f00.pdf"), backends.ErrNotFound, "Stat of a file of a discarded folder")
	// Not even as a folder with nothing in it: a restore must find the
	// place free.
	if got := keys(list(t, b, "pratiche", false)); !slices.Equal(got, []string{"pratiche/resta.pdf"}) {
		t.Errorf("List(pratiche) after Discard = %q, want only pratiche/resta.pdf", got)
	}
	_, err := b.List(ctx, root, backends.ListOptions{})
	wantErr(t, err, backends.ErrNotFound, "List of a discarded folder")
	if pr, ok := b.(backends.Prober); ok {
		got, err := pr.Probe(ctx, root)
		if err != nil || got.Dir || got.File != nil {
			t.Errorf("Probe of a discarded folder = %+v, %v; want nothing there", got, err)
		}
	}
	checkList(t, b, "", true, "pratiche/", "pratiche/resta.pdf")
	for p, want := range contents {
		loc, ok := locs[p]
		if !ok {
			t.Errorf("Discard named no locator for %q", p)
			continue
		}
		if got := openKept(t, k, loc, nil); !bytes.Equal(got, want) {
			t.Errorf("OpenKept of %q: other bytes", p)
		}
	}
	// Back where it was: the folders first, as the caller makes them.
	mkdir(t, b, root)
	for _, e := range tree {
		if e.IsDir {
			mkdir(t, b, e.Path)
		}
	}
	for p := range contents {
		restore(t, k, locs[p], p)
	}
	checkList(t, b, root, true, keys(tree)...)
	for p, want := range contents {
		if got := read(t, b, p); !bytes.Equal(got, want) {
			t.Errorf("restored %q holds other bytes", p)
		}
	}
	var all []string
	for _, loc := range locs {
		all = append(all, loc)
	}
	if err := k.Purge(ctx, all); err != nil {
		t.Fatalf("Purge of the tree: %v", err)
	}
	for _, loc := range all[:5] {
		_, err := k.OpenKept(ctx, loc, nil)
		wantErr(t, err, backends.ErrNotFound, "OpenKept after Purge")
	}
	checkList(t, b, "", true, append([]string{"pratiche/"}, keysWithRoot(root, tree)...)...)
}

// keysWithRoot is the keys of a recursive listing of pratiche holding
// root's tree and resta.pdf, in order.
func keysWithRoot(root string, tree []backends.Entry) []string {
	ks := []string{root + "/"}
	ks = append(ks, keys(tree)...)
	return append(ks, "pratiche/resta.pdf")
}

func testKeepPreserve(t *testing.T, b backends.Backend) {
	k, ok := keeper(b)
	if !ok {
		return
	}
	ctx := t.Context()
	v1, v2 := randomBytes(11, 30_000), randomBytes(12, 20_000)
	put(t, b, "tavola.dwg", v1)
	loc, err := k.Preserve(ctx, stat(t, b, "tavola.dwg"), "pres1")
	if err != nil {
		t.Fatalf("Preserve: %v", err)
	}
	if got := read(t, b, "tavola.dwg"); !bytes.Equal(got, v1) {
		t.Error("Preserve changed the file")
	}
	checkList(t, b, "", true, "tavola.dwg")
	put(t, b, "tavola.dwg", v2)
	if got := openKept(t, k, loc, nil); !bytes.Equal(got, v1) {
		t.Error("OpenKept of the preserved content, after an overwrite: other bytes")
	}
	if got := read(t, b, "tavola.dwg"); !bytes.Equal(got, v2) {
		t.Error("the overwritten file does not hold the new bytes")
	}
	// Restore over the file replaces it.
	restore(t, k, loc, "tavola.dwg")
	if got := read(t, b, "tavola.dwg"); !bytes.Equal(got, v1) {
		t.Error("Restore over an existing file did not replace it")
	}
	if err := k.Purge(ctx, []string{loc}); err != nil {
		t.Errorf("Purge: %v", err)
	}
	if got := read(t, b, "tavola.dwg"); !bytes.Equal(got, v1) {
		t.Error("Purge of a restored locator changed the file")
	}
	checkList(t, b, "", true, "tavola.dwg")

	// A description that is no longer the file's is refused.
	old := stat(t, b, "tavola.dwg")
	put(t, b, "tavola.dwg", v2)
	if loc, err := k.Preserve(ctx, old, "pres2"); err == nil {
		t.Errorf("Preserve of a file changed since = %q, want an error", loc)
		k.Purge(ctx, []string{loc})
	}
}

func testKeepErrors(t *testing.T, b backends.Backend) {
	k, ok := keeper(b)
	if !ok {
		return
	}
	ctx := t.Context()
	hidden := backends.KeepFolder
	put(t, b, "a.txt", []byte("a"))
	mkdir(t, b, "cartella")
	locs := discard(t, k, stat(t, b, "a.txt"), nil, "err1")
	loc := locs["a.txt"]
	for _, p := range []string{hidden + "/x", hidden + "/err1/a.txt"} {
		if u, err := b.Create(ctx, p, 1, backends.CreateOptions{}); err == nil {
			u.Abort(ctx)
			t.Errorf("Create(%q) succeeded: the kept folder is no path", p)
		}
		if _, err := b.Open(ctx, p, nil); err == nil {
			t.Errorf("Open(%q) succeeded: the kept folder is no path", p)
		}
		if _, err := b.Stat(ctx, p); err == nil {
			t.Errorf("Stat(%q) succeeded", p)
		}
		if _, err := b.Copy(ctx, p, "b.txt", backends.CopyOptions{}); err == nil {
			t.Errorf("Copy from %q succeeded", p)
		}
	}
	if err := b.Mkdir(ctx, hidden); err == nil {
		t.Errorf("Mkdir(%q) succeeded", hidden)
	}
	if _, err := b.Stat(ctx, hidden); err == nil {
		t.Errorf("Stat(%q) succeeded", hidden)
	}
	if _, err := b.List(ctx, hidden, backends.ListOptions{Recursive: true}); err == nil {
		t.Errorf("List(%q) succeeded", hidden)
	}
	b.Delete(ctx, []string{hidden + "/err1/a.txt"})
	if got := openKept(t, k, loc, nil); string(got) != "a" {
		t.Errorf("kept content after a Delete of its hidden path: %q", got)
	}
	checkList(t, b, "", true, "cartella/")

	_, err := k.Restore(ctx, loc, "cartella")
	wantErr(t, err, backends.ErrIsDir, "Restore onto a folder")
	_, err = k.Restore(ctx, loc, "manca/a.txt")
	wantErr(t, err, backends.ErrNotFound, "Restore into a missing folder")
	_, err = k.Restore(ctx, loc, hidden+"/y")
	if err == nil {
		t.Error("Restore into the kept folder succeeded")
	}
	restore(t, k, loc, "cartella/a.txt")
	_, err = k.Discard(ctx, backends.Entry{Path: "cartella/a.txt"}, nil, "bad id!")
	wantErr(t, err, backends.ErrInvalidPath, "Discard with an invalid id")
	_, err = k.OpenKept(ctx, "nessuno", nil)
	if err == nil {
		t.Error("OpenKept of a made-up locator succeeded")
	}
}
