// Package backendtest is the conformance suite for storage backends: every
// implementation of [backends.Backend] must pass [Run] unchanged.
//
// The suite assumes only what package backends documents, and two things
// it leaves unsaid: Stat, List and Open agree on a file's modification time
// to the second, and Commit within one second more (see sameEntry); and a
// call with a cancelled context fails with an error wrapping the context's.
// It works the same whether folders are directories or zero-byte marker
// objects, and it tests the optional capabilities ([backends.Mover],
// [backends.FileStater], [backends.Prober], [backends.TreeCopier],
// [backends.Checker], [backends.Keeper]) only on backends that implement
// them.
//
// What callers tell Create and Copy (backends.CreateOptions, CopyOptions)
// the suite tells only when true, as the archive service does: a told call
// must then do what the untold one does. Of a false promise it asks only
// what costs every backend nothing to refuse (backends.Backend, "Told").
package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/backends"
)

// Run tests a backend. newBackend is called once per subtest, with the
// subtest's t, and must return a backend whose root is empty; it registers
// with t.Cleanup whatever must be released.
func Run(t *testing.T, newBackend func(t *testing.T) backends.Backend) {
	tests := []struct {
		name string
		test func(*testing.T, backends.Backend)
	}{
		{"StatRoot", testStatRoot},
		{"Mkdir", testMkdir},
		{"MkdirErrors", testMkdirErrors},
		{"RoundTrip", testRoundTrip},
		{"InvisibleUntilCommit", testInvisibleUntilCommit},
		{"Abort", testAbort},
		{"Incomplete", testIncomplete},
		{"UnknownSize", testUnknownSize},
		{"ETag", testETag},
		{"Range", testRange},
		{"OpenErrors", testOpenErrors},
		{"ListOrder", testListOrder},
		{"ListPaging", testListPaging},
		{"ListRecursive", testListRecursive},
		{"ListErrors", testListErrors},
		{"Copy", testCopy},
		{"CreateTold", testCreateTold},
		{"CopyTold", testCopyTold},
		{"Delete", testDelete},
		{"Names", testNames},
		{"ConcurrentUploads", testConcurrentUploads},
		{"InvalidPaths", testInvalidPaths},
		{"Canceled", testCanceled},
		{"Move", testMove},
		{"StatFile", testStatFile},
		{"Probe", testProbe},
		{"CopyListed", testCopyListed},
		{"Check", testCheck},
		{"KeepFile", testKeepFile},
		{"KeepTree", testKeepTree},
		{"KeepPreserve", testKeepPreserve},
		{"KeepErrors", testKeepErrors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.test(t, newBackend(t)) })
	}
}

func testStatRoot(t *testing.T, b backends.Backend) {
	e, err := b.Stat(t.Context(), "")
	if err != nil {
		t.Fatalf("Stat(root): %v", err)
	}
	if e.Path != "" || !e.IsDir || e.Size != 0 || e.ETag != "" || e.ContentType != "" {
		t.Errorf("Stat(root) = %+v, want a folder with path \"\"", e)
	}
	if got := list(t, b, "", false); len(got) != 0 {
		t.Errorf("List(root) of a new backend = %v, want nothing", paths(got))
	}
}

func testMkdir(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	for _, p := range []string{"pratiche", "pratiche/2019", "pratiche/2019/PC-2019-0042"} {
		if err := b.Mkdir(ctx, p); err != nil {
			t.Fatalf("Mkdir(%q): %v", p, err)
		}
		e, err := b.Stat(ctx, p)
		if err != nil {
			t.Fatalf("Stat(%q): %v", p, err)
		}
		if e.Path != p || !e.IsDir || e.Size != 0 || e.ETag != "" || e.ContentType != "" {
			t.Errorf("Stat(%q) = %+v, want an empty folder entry", p, e)
		}
	}
	checkList(t, b, "", false, "pratiche/")
	checkList(t, b, "pratiche", false, "pratiche/2019/")
	checkList(t, b, "pratiche/2019", false, "pratiche/2019/PC-2019-0042/")
}

func testMkdirErrors(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	wantErr(t, b.Mkdir(ctx, "manca/cartella"), backends.ErrNotFound, "Mkdir with a missing parent")
	wantErr(t, statErr(t, b, "manca"), backends.ErrNotFound, "Stat of the missing parent after Mkdir")
	mkdir(t, b, "cartella")
	wantErr(t, b.Mkdir(ctx, "cartella"), backends.ErrExist, "Mkdir of an existing folder")
	put(t, b, "file.txt", []byte("x"))
	wantErr(t, b.Mkdir(ctx, "file.txt"), backends.ErrExist, "Mkdir of an existing file")
}

func testRoundTrip(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	content := randomBytes(1, 100_000)
	u, err := b.Create(ctx, "tavola.dwg", int64(len(content)), backends.CreateOptions{})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	// Several writes of uneven sizes make one file.
	for _, chunk := range [][]byte{content[:1], content[1:4097], content[4097:]} {
		if _, err := u.Write(chunk); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	committed, err := u.Commit(ctx)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	want := backends.Entry{Path: "tavola.dwg", Size: int64(len(content)), ContentType: "image/vnd.dwg"}
	if committed.Path != want.Path || committed.IsDir || committed.Size != want.Size || committed.ContentType != want.ContentType {
		t.Errorf("Commit = %+v, want %+v", committed, want)
	}
	if committed.ETag == "" {
		t.Error("Commit returned no ETag")
	}
	if d := time.Since(committed.ModTime).Abs(); d > 24*time.Hour {
		t.Errorf("Commit's ModTime %v is %v away from now", committed.ModTime, d)
	}

	stat, err := b.Stat(ctx, "tavola.dwg")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	sameEntry(t, "Stat", stat, committed)
	listed := list(t, b, "", false)
	if len(listed) != 1 {
		t.Fatalf("List = %v, want [tavola.dwg]", paths(listed))
	}
	sameEntry(t, "List", listed[0], committed)

	obj, got := open(t, b, "tavola.dwg", nil)
	sameEntry(t, "Open", obj.Entry, committed)
	if !sameSecond(listed[0].ModTime, stat.ModTime) || !sameSecond(obj.ModTime, stat.ModTime) {
		t.Errorf("modification times: Stat %v, List %v, Open %v; want the same second",
			stat.ModTime, listed[0].ModTime, obj.ModTime)
	}
	if obj.Start != 0 || obj.Length != int64(len(content)) || !bytes.Equal(got, content) {
		t.Errorf("Open: start %d, length %d, %d bytes read (equal: %t), want 0, %d and the content",
			obj.Start, obj.Length, len(got), bytes.Equal(got, content), len(content))
	}

	// An empty file, in a nested folder.
	mkdir(t, b, "a")
	mkdir(t, b, "a/b")
	e := put(t, b, "a/b/vuoto.txt", nil)
	if e.Path != "a/b/vuoto.txt" || e.Size != 0 || e.ETag == "" || e.ContentType != "text/plain; charset=utf-8" {
		t.Errorf("Commit of an empty file = %+v", e)
	}
	obj, got = open(t, b, "a/b/vuoto.txt", nil)
	if obj.Length != 0 || len(got) != 0 {
		t.Errorf("Open of an empty file: length %d, %d bytes read, want 0", obj.Length, len(got))
	}
}

func testInvisibleUntilCommit(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	old := put(t, b, "esistente.pdf", []byte("versione 1"))
	fresh := start(t, b, "nuovo.pdf", []byte("nuovo"))
	over := start(t, b, "esistente.pdf", []byte("versione 2, più lunga"))

	wantErr(t, statErr(t, b, "nuovo.pdf"), backends.ErrNotFound, "Stat of a file being uploaded")
	listed := list(t, b, "", false)
	if len(listed) != 1 {
		t.Fatalf("List during uploads = %v, want only esistente.pdf", paths(listed))
	}
	sameEntry(t, "List during an overwrite", listed[0], old)
	if got := read(t, b, "esistente.pdf"); string(got) != "versione 1" {
		t.Errorf("content during an overwrite = %q, want the old one", got)
	}

	for _, u := range []backends.Upload{fresh, over} {
		if _, err := u.Commit(ctx); err != nil {
			t.Fatalf("Commit: %v", err)
		}
	}
	if got := read(t, b, "nuovo.pdf"); string(got) != "nuovo" {
		t.Errorf("new file = %q after Commit", got)
	}
	if got := read(t, b, "esistente.pdf"); string(got) != "versione 2, più lunga" {
		t.Errorf("overwritten file = %q after Commit", got)
	}
}

func testAbort(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	content := randomBytes(2, 10_000)
	old := put(t, b, "a.pdf", content)

	u := start(t, b, "a.pdf", []byte("altro contenuto"))
	if err := u.Abort(ctx); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if got := read(t, b, "a.pdf"); !bytes.Equal(got, content) {
		t.Error("the content changed after an aborted overwrite")
	}
	sameEntry(t, "Stat after an aborted overwrite", stat(t, b, "a.pdf"), old)
	if _, err := u.Write([]byte("x")); !errors.Is(err, backends.ErrUploadFinished) {
		t.Errorf("Write after Abort: %v, want %v", err, backends.ErrUploadFinished)
	}
	_, err := u.Commit(ctx)
	wantErr(t, err, backends.ErrUploadFinished, "Commit after Abort")
	if err := u.Abort(ctx); err != nil {
		t.Errorf("second Abort: %v", err)
	}

	u = start(t, b, "b.pdf", []byte("mai visto"))
	if err := u.Abort(ctx); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	wantErr(t, statErr(t, b, "b.pdf"), backends.ErrNotFound, "Stat of an aborted new file")
	checkList(t, b, "", false, "a.pdf")

	// Abort is safe after Commit and leaves the file alone.
	u = start(t, b, "c.pdf", []byte("tenuto"))
	if _, err := u.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := u.Abort(ctx); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if got := read(t, b, "c.pdf"); string(got) != "tenuto" {
		t.Errorf("content after Commit and Abort = %q", got)
	}
	_, err = u.Commit(ctx)
	wantErr(t, err, backends.ErrUploadFinished, "second Commit")
}

func testIncomplete(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	content := randomBytes(3, 5_000)
	old := put(t, b, "a.pdf", content)

	u := create(t, b, "a.pdf", 10)
	write(t, u, []byte("12345"))
	_, err := u.Commit(ctx)
	wantErr(t, err, backends.ErrIncomplete, "Commit of fewer bytes than declared")
	_, err = u.Commit(ctx)
	wantErr(t, err, backends.ErrUploadFinished, "Commit after a failed Commit")
	if got := read(t, b, "a.pdf"); !bytes.Equal(got, content) {
		t.Error("the content changed after an incomplete overwrite")
	}
	sameEntry(t, "Stat after an incomplete overwrite", stat(t, b, "a.pdf"), old)

	u = create(t, b, "b.pdf", 10)
	write(t, u, []byte("12345"))
	_, err = u.Commit(ctx)
	wantErr(t, err, backends.ErrIncomplete, "Commit of fewer bytes than declared")
	wantErr(t, statErr(t, b, "b.pdf"), backends.ErrNotFound, "Stat of an incomplete new file")

	// More bytes than declared may fail in Write or in Commit, but must fail.
	u = create(t, b, "a.pdf", 3)
	_, werr := u.Write([]byte("12345"))
	if _, err := u.Commit(ctx); err == nil && werr == nil {
		t.Error("an upload of more bytes than declared succeeded")
	}
	u.Abort(ctx)
	if got := read(t, b, "a.pdf"); !bytes.Equal(got, content) {
		t.Error("the content changed after an oversized overwrite")
	}
}

func testUnknownSize(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	// Past 5 MiB, the smallest part of a multipart upload on S3.
	content := randomBytes(4, 5<<20+1234)
	u := create(t, b, "grande.pdf", -1)
	for rest := content; len(rest) > 0; {
		n := min(len(rest), 100_003)
		write(t, u, rest[:n])
		rest = rest[n:]
	}
	e, err := u.Commit(ctx)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if e.Size != int64(len(content)) {
		t.Errorf("Commit's Size = %d, want %d", e.Size, len(content))
	}
	sameEntry(t, "Stat", stat(t, b, "grande.pdf"), e)
	if got := read(t, b, "grande.pdf"); !bytes.Equal(got, content) {
		t.Errorf("read %d bytes, not the %d written", len(got), len(content))
	}

	u = create(t, b, "vuoto.pdf", -1)
	if e, err = u.Commit(ctx); err != nil {
		t.Fatalf("Commit of an empty file: %v", err)
	}
	if e.Size != 0 {
		t.Errorf("Commit of an empty file: Size = %d", e.Size)
	}
}

func testETag(t *testing.T, b backends.Backend) {
	first := put(t, b, "x.pdf", []byte("aaaa"))
	if stat(t, b, "x.pdf").ETag != first.ETag || stat(t, b, "x.pdf").ETag != first.ETag {
		t.Error("the ETag changed between two Stats")
	}
	put(t, b, "y.pdf", []byte("aaaa"))
	if got := stat(t, b, "x.pdf").ETag; got != first.ETag {
		t.Errorf("the ETag changed after writing another file: %q, was %q", got, first.ETag)
	}
	for _, e := range list(t, b, "", false) {
		if e.Path == "x.pdf" && e.ETag != first.ETag {
			t.Errorf("List's ETag %q differs from Commit's %q", e.ETag, first.ETag)
		}
	}
	// Different content of the same size, at once: a clock tick apart at most.
	second := put(t, b, "x.pdf", []byte("bbbb"))
	if second.ETag == first.ETag {
		t.Errorf("the ETag %q stayed after an overwrite", first.ETag)
	}
	if got := stat(t, b, "x.pdf").ETag; got != second.ETag {
		t.Errorf("Stat's ETag %q differs from Commit's %q", got, second.ETag)
	}
	third := put(t, b, "x.pdf", []byte("cc"))
	if third.ETag == second.ETag || third.ETag == first.ETag {
		t.Errorf("the ETag %q repeats an earlier one after an overwrite", third.ETag)
	}
	obj, _ := open(t, b, "x.pdf", nil)
	if obj.ETag != third.ETag {
		t.Errorf("Open's ETag %q differs from Commit's %q", obj.ETag, third.ETag)
	}
}

func testRange(t *testing.T, b backends.Backend) {
	content := make([]byte, 100)
	for i := range content {
		content[i] = byte(i)
	}
	put(t, b, "cento.bin", content)
	tests := []struct {
		name          string
		r             backends.Range
		start, length int64
	}{
		{"start and length", backends.Range{Start: 0, Length: 10}, 0, 10},
		{"middle", backends.Range{Start: 10, Length: 5}, 10, 5},
		{"last byte", backends.Range{Start: 99, Length: 1}, 99, 1},
		{"to the end", backends.Range{Start: 90, Length: -1}, 90, 10},
		{"whole", backends.Range{Start: 0, Length: -1}, 0, 100},
		{"past the end", backends.Range{Start: 95, Length: 100}, 95, 5},
		{"suffix", backends.Range{Start: -1, Length: 10}, 90, 10},
		{"suffix longer than the file", backends.Range{Start: -1, Length: 1000}, 0, 100},
	}
	for _, tt := range tests {
		obj, got := open(t, b, "cento.bin", &tt.r)
		if obj.Start != tt.start || obj.Length != tt.length || !bytes.Equal(got, content[tt.start:tt.start+tt.length]) {
			t.Errorf("%s %+v: start %d, length %d, read %v; want %d, %d", tt.name, tt.r, obj.Start, obj.Length, got, tt.start, tt.length)
		}
		if obj.Size != 100 {
			t.Errorf("%s %+v: Size = %d, want the file's 100", tt.name, tt.r, obj.Size)
		}
	}
	for _, r := range []backends.Range{{Start: 100, Length: 1}, {Start: 100, Length: -1}, {Start: 1000, Length: 10}} {
		_, err := b.Open(t.Context(), "cento.bin", &r)
		wantErr(t, err, backends.ErrRange, fmt.Sprintf("Open %+v of 100 bytes", r))
	}

	put(t, b, "vuoto.bin", nil)
	_, err := b.Open(t.Context(), "vuoto.bin", &backends.Range{Start: 0, Length: -1})
	wantErr(t, err, backends.ErrRange, "Open of a range of an empty file")
}

func testOpenErrors(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	mkdir(t, b, "cartella")
	_, err := b.Open(ctx, "cartella", nil)
	wantErr(t, err, backends.ErrIsDir, "Open of a folder")
	_, err = b.Open(ctx, "", nil)
	wantErr(t, err, backends.ErrIsDir, "Open of the root")
	_, err = b.Open(ctx, "manca.pdf", nil)
	wantErr(t, err, backends.ErrNotFound, "Open of a missing file")
	_, err = b.Open(ctx, "manca/manca.pdf", nil)
	wantErr(t, err, backends.ErrNotFound, "Open in a missing folder")
	wantErr(t, statErr(t, b, "manca.pdf"), backends.ErrNotFound, "Stat of a missing file")
	wantErr(t, statErr(t, b, "cartella/manca.pdf"), backends.ErrNotFound, "Stat of a missing file in a folder")
}

func testListOrder(t *testing.T, b backends.Backend) {
	// A folder sorts by its key with a trailing slash, after "d-x" and "d.x".
	for _, p := range []string{"b.txt", "a.txt", "é.txt", "e.txt", "D.txt", "10.txt", "9.txt", "d-x.txt", "d.x"} {
		put(t, b, p, []byte(p))
	}
	mkdir(t, b, "d")
	put(t, b, "d/dentro.txt", nil)
	got := checkList(t, b, "", false,
		"10.txt", "9.txt", "D.txt", "a.txt", "b.txt", "d-x.txt", "d.x", "d/", "e.txt", "é.txt")
	for _, e := range got {
		if e.IsDir {
			continue
		}
		if e.Size != int64(len(e.Path)) || e.ETag == "" || e.ContentType != backends.ContentType(e.Path) {
			t.Errorf("List entry %+v lacks the file's metadata", e)
		}
	}
}

func testListPaging(t *testing.T, b backends.Backend) {
	mkdir(t, b, "molti")
	mkdir(t, b, "molti/f0995")
	children := []string{"molti/f0995/"}
	for i := range 1005 {
		children = append(children, fmt.Sprintf("molti/f%04d.txt", i))
	}
	// The folder's files straddle the end of the first recursive page.
	inner := []string{"molti/f0995/a.txt", "molti/f0995/b.txt", "molti/f0995/c.txt"}
	putMany(t, b, slices.Concat(children[1:], inner))
	slices.Sort(children)
	all := slices.Concat([]string{"molti/"}, children, inner)
	slices.Sort(all)

	// list checks the order, and that every page holds at most 1000 entries.
	if got := keys(list(t, b, "molti", false)); !slices.Equal(got, children) {
		t.Errorf("List returned %d entries, want %d:\n%s", len(got), len(children), diff(got, children))
	}
	if got := keys(list(t, b, "", true)); !slices.Equal(got, all) {
		t.Errorf("recursive List returned %d entries, want %d:\n%s", len(got), len(all), diff(got, all))
	}
}

func testListRecursive(t *testing.T, b backends.Backend) {
	mkdir(t, b, "a")
	mkdir(t, b, "a/b")
	mkdir(t, b, "a/vuota")
	for _, p := range []string{"a/b/c.txt", "a/d.txt", "a-e.txt", "z.txt"} {
		put(t, b, p, []byte(p))
	}
	got := checkList(t, b, "", true, "a-e.txt", "a/", "a/b/", "a/b/c.txt", "a/d.txt", "a/vuota/", "z.txt")
	for _, e := range got {
		if !e.IsDir && (e.Size != int64(len(e.Path)) || e.ETag == "" || e.ContentType != "text/plain; charset=utf-8") {
			t.Errorf("recursive List entry %+v lacks the file's metadata", e)
		}
	}
	checkList(t, b, "a", true, "a/b/", "a/b/c.txt", "a/d.txt", "a/vuota/")
	checkList(t, b, "a", false, "a/b/", "a/d.txt", "a/vuota/")
	checkList(t, b, "a/vuota", true)
}

func testListErrors(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	_, err := b.List(ctx, "manca", backends.ListOptions{})
	wantErr(t, err, backends.ErrNotFound, "List of a missing folder")
	_, err = b.List(ctx, "manca", backends.ListOptions{Recursive: true})
	wantErr(t, err, backends.ErrNotFound, "recursive List of a missing folder")
	put(t, b, "file.txt", []byte("x"))
	_, err = b.List(ctx, "file.txt", backends.ListOptions{})
	wantErr(t, err, backends.ErrNotDir, "List of a file")
	mkdir(t, b, "vuota")
	page, err := b.List(ctx, "vuota", backends.ListOptions{})
	if err != nil || len(page.Entries) != 0 || page.Next != "" {
		t.Errorf("List of an empty folder = %+v, %v; want no entries and no next page", page, err)
	}
}

func testCopy(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	content := randomBytes(5, 70_000)
	src := put(t, b, "originale.pdf", content)

	e, err := b.Copy(ctx, "originale.pdf", "copia.pdf", backends.CopyOptions{})
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if e.Path != "copia.pdf" || e.IsDir || e.Size != src.Size || e.ETag == "" || e.ContentType != "application/pdf" {
		t.Errorf("Copy = %+v", e)
	}
	sameEntry(t, "Stat of the copy", stat(t, b, "copia.pdf"), e)
	if got := read(t, b, "copia.pdf"); !bytes.Equal(got, content) {
		t.Error("the copy differs from the original")
	}
	sameEntry(t, "Stat of the original after Copy", stat(t, b, "originale.pdf"), src)
	if got := read(t, b, "originale.pdf"); !bytes.Equal(got, content) {
		t.Error("the original changed after Copy")
	}

	// Onto an existing file, into a folder; the type follows the new name.
	put(t, b, "altro.txt", []byte("altro"))
	if _, err := b.Copy(ctx, "altro.txt", "copia.pdf", backends.CopyOptions{}); err != nil {
		t.Fatalf("Copy onto an existing file: %v", err)
	}
	if got := read(t, b, "copia.pdf"); string(got) != "altro" {
		t.Errorf("Copy onto an existing file left %q", got)
	}
	mkdir(t, b, "cartella")
	e, err = b.Copy(ctx, "originale.pdf", "cartella/copia.txt", backends.CopyOptions{})
	if err != nil {
		t.Fatalf("Copy into a folder: %v", err)
	}
	if e.ContentType != "text/plain; charset=utf-8" {
		t.Errorf("Copy to a .txt: ContentType = %q", e.ContentType)
	}

	_, err = b.Copy(ctx, "cartella", "cartella2", backends.CopyOptions{})
	wantErr(t, err, backends.ErrIsDir, "Copy of a folder")
	_, err = b.Copy(ctx, "altro.txt", "cartella", backends.CopyOptions{})
	wantErr(t, err, backends.ErrIsDir, "Copy onto a folder")
	_, err = b.Copy(ctx, "manca.pdf", "x.pdf", backends.CopyOptions{})
	wantErr(t, err, backends.ErrNotFound, "Copy of a missing file")
	_, err = b.Copy(ctx, "originale.pdf", "manca/x.pdf", backends.CopyOptions{})
	wantErr(t, err, backends.ErrNotFound, "Copy into a missing folder")
	wantErr(t, statErr(t, b, "x.pdf"), backends.ErrNotFound, "Stat after a failed Copy")
}

// testCreateTold: an upload whose caller tells what it found stores what
// the untold one does, new or over a file, and the root is refused however
// much is told.
func testCreateTold(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	told := backends.CreateOptions{ParentExists: true, NoDir: true}
	mkdir(t, b, "cartella")
	for _, content := range [][]byte{[]byte("prima versione"), randomBytes(7, 70_000)} {
		u, err := b.Create(ctx, "cartella/nuovo.txt", int64(len(content)), told)
		if err != nil {
			t.Fatalf("Create told %+v: %v", told, err)
		}
		write(t, u, content)
		committed, err := u.Commit(ctx)
		if err != nil {
			t.Fatalf("Commit: %v", err)
		}
		if committed.Path != "cartella/nuovo.txt" || committed.Size != int64(len(content)) || committed.ContentType != "text/plain; charset=utf-8" {
			t.Errorf("Commit = %+v", committed)
		}
		sameEntry(t, "Stat after a told Create", stat(t, b, "cartella/nuovo.txt"), committed)
		if got := read(t, b, "cartella/nuovo.txt"); !bytes.Equal(got, content) {
			t.Error("a told Create stored other bytes")
		}
	}
	checkList(t, b, "cartella", false, "cartella/nuovo.txt")
	// In the root, whose parent nothing needs to tell.
	u, err := b.Create(ctx, "radice.txt", 1, backends.CreateOptions{NoDir: true})
	if err != nil {
		t.Fatalf("Create in the root: %v", err)
	}
	write(t, u, []byte("r"))
	if _, err := u.Commit(ctx); err != nil {
		t.Fatalf("Commit in the root: %v", err)
	}
	if u, err := b.Create(ctx, "", 0, told); err == nil {
		u.Abort(ctx)
		t.Errorf("Create of the root told %+v succeeded", told)
	}
}

// testCopyTold: a copy handed the source's entry from Stat, and told what
// its caller found of the destination, does what the untold one does: the
// content, the type of the new name, the source untouched. A source that
// is a folder, or gone since it was looked up, is refused all the same:
// the copy itself tells.
func testCopyTold(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	content := randomBytes(8, 70_000)
	put(t, b, "tavola.dwg", content)
	mkdir(t, b, "cartella")
	put(t, b, "cartella/vecchia.bak", []byte("da sostituire"))
	src := stat(t, b, "tavola.dwg")
	for _, tt := range []struct {
		dst  string
		told backends.CopyOptions
	}{
		{"tavola.bak", backends.CopyOptions{Source: &src, ParentExists: true, NoDir: true}},
		{"cartella/tavola.tmp", backends.CopyOptions{Source: &src, ParentExists: true, NoDir: true}},
		{"cartella/vecchia.bak", backends.CopyOptions{Source: &src, ParentExists: true, NoDir: true}},
		{"cartella/solo-sorgente.dwg", backends.CopyOptions{Source: &src}},
		{"cartella/solo-cartella.dwg", backends.CopyOptions{ParentExists: true}},
	} {
		e, err := b.Copy(ctx, "tavola.dwg", tt.dst, tt.told)
		if err != nil {
			t.Errorf("Copy to %s told %+v: %v", tt.dst, tt.told, err)
			continue
		}
		if e.Path != tt.dst || e.IsDir || e.Size != src.Size || e.ETag == "" || e.ContentType != backends.ContentType(tt.dst) {
			t.Errorf("Copy to %s = %+v", tt.dst, e)
		}
		sameEntry(t, "Stat of a told copy", stat(t, b, tt.dst), e)
		if got := read(t, b, tt.dst); !bytes.Equal(got, content) {
			t.Errorf("the told copy %s holds other bytes", tt.dst)
		}
	}
	sameEntry(t, "Stat of the source after told copies", stat(t, b, "tavola.dwg"), src)

	folder := stat(t, b, "cartella")
	_, err := b.Copy(ctx, "cartella", "copia", backends.CopyOptions{Source: &folder, ParentExists: true, NoDir: true})
	wantErr(t, err, backends.ErrIsDir, "Copy of a folder told as the source")
	gone := put(t, b, "sparito.pdf", []byte("sparito"))
	if err := b.Delete(ctx, []string{"sparito.pdf"}); err != nil {
		t.Fatal(err)
	}
	_, err = b.Copy(ctx, "sparito.pdf", "copia.pdf", backends.CopyOptions{Source: &gone, ParentExists: true, NoDir: true})
	wantErr(t, err, backends.ErrNotFound, "Copy of a source gone since its lookup")
	wantErr(t, statErr(t, b, "copia.pdf"), backends.ErrNotFound, "Stat after the copy of a source gone")
}

func testDelete(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	put(t, b, "uno.txt", []byte("1"))
	put(t, b, "due.txt", []byte("2"))
	mkdir(t, b, "vuota")
	mkdir(t, b, "piena")
	put(t, b, "piena/dentro.txt", []byte("d"))

	err := b.Delete(ctx, []string{"uno.txt", "vuota/", "piena/", "manca.txt", "manca/"})
	var de *backends.DeleteError
	if !errors.As(err, &de) {
		t.Fatalf("Delete with a non-empty folder: %v, want a *DeleteError", err)
	}
	if len(de.Failed) != 1 || de.Failed["piena/"] == nil {
		t.Errorf("Delete failed for %v, want only piena/", de.Failed)
	}
	wantErr(t, statErr(t, b, "uno.txt"), backends.ErrNotFound, "Stat of a deleted file")
	wantErr(t, statErr(t, b, "vuota"), backends.ErrNotFound, "Stat of a deleted folder")
	checkList(t, b, "", true, "due.txt", "piena/", "piena/dentro.txt")

	if err := b.Delete(ctx, []string{"piena/dentro.txt"}); err != nil {
		t.Fatalf("Delete of a file: %v", err)
	}
	if err := b.Delete(ctx, []string{"piena/"}); err != nil {
		t.Fatalf("Delete of an emptied folder: %v", err)
	}
	if err := b.Delete(ctx, nil); err != nil {
		t.Errorf("Delete of nothing: %v", err)
	}
	checkList(t, b, "", true, "due.txt")
}

func testNames(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	const folder = "Pratica 12-2024 è"
	names := []string{
		"con spazi.pdf",
		"perizia \u00e8.pdf", // NFC: one code point, not "e" and a combining accent
		"àèéìòù ÀÈÉÌÒÙ.txt",
		"100%.txt",
		"%41%2F.txt", // escapes that nobody must decode
		"a#b.txt",
		"a+b.txt",
		"a:b?.txt",
		"~$relazione.docx",
		`virgolette "doppie" e 'singole'.txt`,
		"[quadre] {graffe} (tonde).txt",
		"punto e virgola; uguale= & commerciale.txt",
		"€ 1.000,00.txt",
		"tavola n°1 – pianta.dwg",
		folder + "/dentro è.txt",
	}
	mkdir(t, b, folder)
	want := []string{folder + "/"}
	for _, name := range names {
		e := put(t, b, name, []byte(name))
		if e.Path != name {
			t.Errorf("Commit of %q returned path %q", name, e.Path)
		}
		if got := stat(t, b, name); got.Path != name {
			t.Errorf("Stat(%q) returned path %q", name, got.Path)
		}
		if got := read(t, b, name); string(got) != name {
			t.Errorf("read %q from %q", got, name)
		}
		want = append(want, name)
	}
	slices.Sort(want)
	if got := keys(list(t, b, "", true)); !slices.Equal(got, want) {
		t.Errorf("recursive List:\n%s", diff(got, want))
	}
	if _, err := b.Copy(ctx, "a:b?.txt", "100% #+ è.txt", backends.CopyOptions{}); err != nil {
		t.Errorf("Copy between odd names: %v", err)
	} else if got := read(t, b, "100% #+ è.txt"); string(got) != "a:b?.txt" {
		t.Errorf("Copy between odd names left %q", got)
	}
	// The folder goes in a batch of its own, once it is empty.
	if err := b.Delete(ctx, append(names, "100% #+ è.txt")); err != nil {
		t.Errorf("Delete of odd names: %v", err)
	}
	if err := b.Delete(ctx, []string{folder + "/"}); err != nil {
		t.Errorf("Delete of an odd folder name: %v", err)
	}
	if got := list(t, b, "", true); len(got) != 0 {
		t.Errorf("List after deleting everything = %v", paths(got))
	}
}

func testConcurrentUploads(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	const n = 8
	contents := make([][]byte, n)
	uploads := make([]backends.Upload, n)
	for i := range n {
		contents[i] = randomBytes(uint64(10+i), 50_000+i)
		uploads[i] = create(t, b, fmt.Sprintf("c%d.bin", i), int64(len(contents[i])))
	}
	var wg sync.WaitGroup
	for i, u := range uploads {
		wg.Go(func() {
			for rest := contents[i]; len(rest) > 0; {
				k := min(len(rest), 4096)
				if _, err := u.Write(rest[:k]); err != nil {
					t.Errorf("Write to c%d.bin: %v", i, err)
					u.Abort(ctx)
					return
				}
				rest = rest[k:]
			}
			if _, err := u.Commit(ctx); err != nil {
				t.Errorf("Commit of c%d.bin: %v", i, err)
			}
		})
	}
	wg.Wait()
	for i := range n {
		if got := read(t, b, fmt.Sprintf("c%d.bin", i)); !bytes.Equal(got, contents[i]) {
			t.Errorf("c%d.bin holds other bytes after concurrent uploads", i)
		}
	}

	// Two uploads to one file: the last commit wins whole, never a mix.
	a, c := bytes.Repeat([]byte("a"), 100_000), bytes.Repeat([]byte("c"), 100_000)
	ua, uc := start(t, b, "stesso.bin", a), start(t, b, "stesso.bin", c)
	for _, u := range []backends.Upload{ua, uc} {
		wg.Go(func() {
			if _, err := u.Commit(ctx); err != nil {
				t.Errorf("Commit to the same file: %v", err)
			}
		})
	}
	wg.Wait()
	if got := read(t, b, "stesso.bin"); !bytes.Equal(got, a) && !bytes.Equal(got, c) {
		t.Error("two uploads to one file mixed their content")
	}
}

func testInvalidPaths(t *testing.T, b backends.Backend) {
	ctx := t.Context()
	for _, p := range []string{"..", "../x", "a/../../x"} {
		wantErr(t, statErr(t, b, p), backends.ErrInvalidPath, fmt.Sprintf("Stat(%q)", p))
		_, err := b.Open(ctx, p, nil)
		wantErr(t, err, backends.ErrInvalidPath, fmt.Sprintf("Open(%q)", p))
		_, err = b.List(ctx, p, backends.ListOptions{})
		wantErr(t, err, backends.ErrInvalidPath, fmt.Sprintf("List(%q)", p))
		for _, told := range []backends.CreateOptions{{}, {ParentExists: true, NoDir: true}} {
			if u, err := b.Create(ctx, p, 0, told); err == nil {
				u.Abort(ctx)
			} else {
				wantErr(t, err, backends.ErrInvalidPath, fmt.Sprintf("Create(%q, %+v)", p, told))
			}
		}
		wantErr(t, b.Mkdir(ctx, p), backends.ErrInvalidPath, fmt.Sprintf("Mkdir(%q)", p))
		var de *backends.DeleteError
		if err := b.Delete(ctx, []string{p, p + "/"}); !errors.As(err, &de) {
			t.Errorf("Delete(%q): %v, want a *DeleteError", p, err)
		} else {
			wantErr(t, de.Failed[p], backends.ErrInvalidPath, fmt.Sprintf("Delete(%q)", p))
		}
	}
}

func testCanceled(t *testing.T, b backends.Backend) {
	put(t, b, "a.txt", []byte("a"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := b.Stat(ctx, "a.txt")
	wantErr(t, err, context.Canceled, "Stat")
	_, err = b.List(ctx, "", backends.ListOptions{})
	wantErr(t, err, context.Canceled, "List")
	_, err = b.Open(ctx, "a.txt", nil)
	wantErr(t, err, context.Canceled, "Open")
	wantErr(t, b.Mkdir(ctx, "d"), context.Canceled, "Mkdir")
	_, err = b.Copy(ctx, "a.txt", "b.txt", backends.CopyOptions{})
	wantErr(t, err, context.Canceled, "Copy")
	wantErr(t, b.Delete(ctx, []string{"a.txt"}), context.Canceled, "Delete")
	if fsb, ok := b.(backends.FileStater); ok {
		_, err = fsb.StatFile(ctx, "a.txt")
		wantErr(t, err, context.Canceled, "StatFile")
	}
	if tc, ok := b.(backends.TreeCopier); ok {
		_, err = tc.CopyListed(ctx, backends.Entry{Path: "a.txt", Size: 1}, "b.txt")
		wantErr(t, err, context.Canceled, "CopyListed")
	}
}

func testMove(t *testing.T, b backends.Backend) {
	m, ok := b.(backends.Mover)
	if !ok {
		t.Skip("the backend is not a Mover")
	}
	ctx := t.Context()
	put(t, b, "f.txt", []byte("f"))
	mkdir(t, b, "d")
	put(t, b, "d/g.txt", []byte("g"))
	if err := m.Move(ctx, "f.txt", "d/f2.txt"); err != nil {
		t.Fatalf("Move of a file: %v", err)
	}
	if got := read(t, b, "d/f2.txt"); string(got) != "f" {
		t.Errorf("moved file holds %q", got)
	}
	if err := m.Move(ctx, "d", "e"); err != nil {
		t.Fatalf("Move of a folder: %v", err)
	}
	checkList(t, b, "", true, "e/", "e/f2.txt", "e/g.txt")

	put(t, b, "x.txt", []byte("x"))
	put(t, b, "y.txt", []byte("y"))
	mkdir(t, b, "h")
	wantErr(t, m.Move(ctx, "e", "h"), backends.ErrExist, "Move onto a folder")
	wantErr(t, m.Move(ctx, "x.txt", "h"), backends.ErrExist, "Move of a file onto a folder")
	wantErr(t, m.Move(ctx, "h", "x.txt"), backends.ErrExist, "Move of a folder onto a file")
	wantErr(t, m.Move(ctx, "manca.txt", "z.txt"), backends.ErrNotFound, "Move of a missing file")
	wantErr(t, m.Move(ctx, "x.txt", "manca/x.txt"), backends.ErrNotFound, "Move into a missing folder")
	if got := read(t, b, "x.txt"); string(got) != "x" {
		t.Errorf("x.txt holds %q after failed moves", got)
	}
	if got := read(t, b, "y.txt"); string(got) != "y" {
		t.Errorf("y.txt holds %q after failed moves", got)
	}
	checkList(t, b, "", true, "e/", "e/f2.txt", "e/g.txt", "h/", "x.txt", "y.txt")
	// A file replaces a file in one step.
	if err := m.Move(ctx, "x.txt", "y.txt"); err != nil {
		t.Fatalf("Move of a file onto a file: %v", err)
	}
	if got := read(t, b, "y.txt"); string(got) != "x" {
		t.Errorf("y.txt holds %q after replacing move, want %q", got, "x")
	}
	checkList(t, b, "", true, "e/", "e/f2.txt", "e/g.txt", "h/", "y.txt")
}

func testStatFile(t *testing.T, b backends.Backend) {
	fsb, ok := b.(backends.FileStater)
	if !ok {
		t.Skip("the backend is not a FileStater")
	}
	ctx := t.Context()
	mkdir(t, b, "a")
	mkdir(t, b, "a/b")
	for _, p := range []string{"a/f.pdf", "a/b/vuoto.txt", "g.dwg"} {
		var content []byte
		if p != "a/b/vuoto.txt" {
			content = []byte(p)
		}
		committed := put(t, b, p, content)
		e, err := fsb.StatFile(ctx, p)
		if err != nil {
			t.Errorf("StatFile(%q): %v", p, err)
			continue
		}
		sameEntry(t, fmt.Sprintf("StatFile(%q)", p), e, committed)
		sameEntry(t, fmt.Sprintf("StatFile(%q) against Stat", p), e, stat(t, b, p))
	}
	// Folders, the root and nothing at all are not files.
	for _, p := range []string{"a", "a/b", "", "manca.pdf", "a/manca.pdf", "manca/f.pdf", "a/f.pdf/x"} {
		_, err := fsb.StatFile(ctx, p)
		wantErr(t, err, backends.ErrNotFound, fmt.Sprintf("StatFile(%q)", p))
	}
	for _, p := range []string{"..", "../x", "a/../../x"} {
		_, err := fsb.StatFile(ctx, p)
		wantErr(t, err, backends.ErrInvalidPath, fmt.Sprintf("StatFile(%q)", p))
	}
}

// testProbe: one look at a path finds the file there, a folder there, and
// the parent when something is at the path or beside it; the file's entry
// is Stat's, to the second.
func testProbe(t *testing.T, b backends.Backend) {
	pb, ok := b.(backends.Prober)
	if !ok {
		t.Skip("the backend is not a Prober")
	}
	ctx := t.Context()
	mkdir(t, b, "pratica")
	mkdir(t, b, "pratica/tavole")
	mkdir(t, b, "vuota")
	tavola := put(t, b, "pratica/tavola.dwg", []byte("tavola"))
	// Names that sort between a file and the folder of the same name.
	put(t, b, "pratica/tavola.dwg.bak", []byte("backup"))
	put(t, b, "pratica/tavole.pdf", []byte("indice"))
	put(t, b, "radice.txt", []byte("r"))
	for _, tt := range []struct {
		path         string
		file         bool
		dir          bool
		parent, must bool // must: Parent has to be true; else it may be either
	}{
		{path: "pratica/tavola.dwg", file: true, parent: true, must: true},
		{path: "pratica/tavole", dir: true, parent: true, must: true},
		{path: "pratica/tavola"},     // beside tavola.dwg, which a listing sees
		{path: "pratica/tavola.tmp"}, // of the same stem
		{path: "pratica/nuovo.pdf"},
		{path: "vuota/nuovo.pdf"},
		{path: "manca/nuovo.pdf", parent: false, must: true},
		{path: "radice.txt", file: true, parent: true, must: true},
		{path: "nuovo.txt", parent: true, must: true}, // the root always is
		{path: "vuota", dir: true, parent: true, must: true},
		{path: "radice.txt/x"},
	} {
		pr, err := pb.Probe(ctx, tt.path)
		if err != nil {
			t.Errorf("Probe(%q): %v", tt.path, err)
			continue
		}
		if (pr.File != nil) != tt.file || pr.Dir != tt.dir || tt.must && pr.Parent != tt.parent {
			t.Errorf("Probe(%q) = file %v, dir %v, parent %v; want file %v, dir %v, parent %v (must: %v)",
				tt.path, pr.File != nil, pr.Dir, pr.Parent, tt.file, tt.dir, tt.parent, tt.must)
		}
		if tt.path == "manca/nuovo.pdf" || tt.path == "radice.txt/x" {
			if pr.Parent {
				t.Errorf("Probe(%q) saw a parent that is not a folder", tt.path)
			}
		}
	}
	if pr, err := pb.Probe(ctx, "pratica/tavola.dwg"); err == nil && pr.File != nil {
		sameEntry(t, "Probe's file", *pr.File, tavola)
		if pr.File.Path != "pratica/tavola.dwg" {
			t.Errorf("Probe's file is at %q", pr.File.Path)
		}
	}
	for _, p := range []string{"..", "../x", "a/../../x"} {
		_, err := pb.Probe(ctx, p)
		wantErr(t, err, backends.ErrInvalidPath, fmt.Sprintf("Probe(%q)", p))
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err := pb.Probe(canceled, "radice.txt")
	wantErr(t, err, context.Canceled, "Probe")
}

func testCopyListed(t *testing.T, b backends.Backend) {
	tc, ok := b.(backends.TreeCopier)
	if !ok {
		t.Skip("the backend is not a TreeCopier")
	}
	ctx := t.Context()
	content := randomBytes(6, 70_000)
	mkdir(t, b, "origine")
	mkdir(t, b, "origine/sotto")
	src := map[string]backends.Entry{
		"origine/tavola.dwg":        put(t, b, "origine/tavola.dwg", content),
		"origine/sotto/vuoto.txt":   put(t, b, "origine/sotto/vuoto.txt", nil),
		"origine/sotto/perizia.pdf": put(t, b, "origine/sotto/perizia.pdf", []byte("perizia")),
	}
	// As a tree is copied: folders made first, each file as listed.
	mkdir(t, b, "copia")
	mkdir(t, b, "copia/sotto")
	for _, e := range list(t, b, "origine", true) {
		if e.IsDir {
			continue
		}
		dst := "copia" + e.Path[len("origine"):]
		got, err := tc.CopyListed(ctx, e, dst)
		if err != nil {
			t.Fatalf("CopyListed(%q, %q): %v", e.Path, dst, err)
		}
		want := src[e.Path]
		if got.Path != dst || got.IsDir || got.Size != want.Size || got.ETag == "" || got.ContentType != want.ContentType {
			t.Errorf("CopyListed(%q, %q) = %+v, want the entry of a copy of %+v", e.Path, dst, got, want)
		}
		sameEntry(t, fmt.Sprintf("Stat of the copy %q", dst), stat(t, b, dst), got)
		if !bytes.Equal(read(t, b, dst), read(t, b, e.Path)) {
			t.Errorf("the copy %q differs from the original", dst)
		}
		sameEntry(t, fmt.Sprintf("Stat of the original %q after CopyListed", e.Path), stat(t, b, e.Path), want)
	}
	checkList(t, b, "copia", true, "copia/sotto/", "copia/sotto/perizia.pdf", "copia/sotto/vuoto.txt", "copia/tavola.dwg")

	// A listing that is out of date: the file went, or is a folder.
	gone := src["origine/sotto/perizia.pdf"]
	if err := b.Delete(ctx, []string{gone.Path}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	_, err := tc.CopyListed(ctx, gone, "copia/manca.pdf")
	wantErr(t, err, backends.ErrNotFound, "CopyListed of a file deleted since the listing")
	wantErr(t, statErr(t, b, "copia/manca.pdf"), backends.ErrNotFound, "Stat after a failed CopyListed")
	_, err = tc.CopyListed(ctx, backends.Entry{Path: "origine/sotto", IsDir: true}, "copia/cartella")
	wantErr(t, err, backends.ErrIsDir, "CopyListed of a folder")
	for _, p := range []string{"..", "../x", "a/../../x"} {
		_, err := tc.CopyListed(ctx, backends.Entry{Path: p, Size: 1}, "copia/x")
		wantErr(t, err, backends.ErrInvalidPath, fmt.Sprintf("CopyListed from %q", p))
		_, err = tc.CopyListed(ctx, src["origine/tavola.dwg"], p)
		wantErr(t, err, backends.ErrInvalidPath, fmt.Sprintf("CopyListed to %q", p))
	}
}

func testCheck(t *testing.T, b backends.Backend) {
	c, ok := b.(backends.Checker)
	if !ok {
		t.Skip("the backend is not a Checker")
	}
	if err := c.Check(t.Context()); err != nil {
		t.Errorf("Check: %v", err)
	}
}
