package verify_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/archive/verify"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/backends/local"
	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/sqlite"
)

type allowAll struct{}

func (allowAll) Decide(access.Action, string) access.Verdict { return access.Allow }

// TestRun writes files through the archive (which records their digests),
// changes the storage behind it as other tools and damage would, and checks
// what verification finds.
func TestRun(t *testing.T) {
	files := map[string]string{
		"/c/pratica/domanda.pdf":   "domanda",
		"/c/pratica/tavola.dwg":    "linee",
		"/c/pratica/relazione.pdf": "relazione",
		"/c/altra/foto.jpg":        "foto",
		"/c/altra/copia.jpg":       "copia",
		"/c/altra/intatto.txt":     "intatto",
	}
	tests := []struct {
		name    string
		change  func(t *testing.T, disk string)
		opts    verify.Options
		root    string
		want    []string // "kind path", sorted
		filled  int64
		rebound int64
		// fixed: a second run, with no options, finds nothing; else what
		// the first found.
		fixed bool
	}{
		{name: "intact", root: "/"},
		{name: "a file changed by another tool", root: "/c",
			change: func(t *testing.T, disk string) { write(t, disk, "c/pratica/tavola.dwg", "altre linee") },
			want:   []string{"changed /c/pratica/tavola.dwg"}},
		{name: "the same version reads differently", root: "/",
			change: func(t *testing.T, disk string) {
				full := filepath.Join(disk, "c/pratica/domanda.pdf")
				info, err := os.Stat(full)
				if err != nil {
					t.Fatal(err)
				}
				// In place, same size, same time: the ETag stays.
				f, err := os.OpenFile(full, os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				f.WriteAt([]byte("D"), 0)
				f.Close()
				os.Chtimes(full, info.ModTime(), info.ModTime())
			},
			want: []string{"changed /c/pratica/domanda.pdf"}},
		{name: "a file gone", root: "/c",
			change: func(t *testing.T, disk string) { os.Remove(filepath.Join(disk, "c/altra/foto.jpg")) },
			want:   []string{"missing /c/altra/foto.jpg"}},
		{name: "a file stored by another tool", root: "/",
			change: func(t *testing.T, disk string) { write(t, disk, "c/altra/nuovo.txt", "nuovo") },
			want:   []string{"unknown /c/altra/nuovo.txt"}},
		{name: "filled", root: "/", opts: verify.Options{Fill: true},
			change: func(t *testing.T, disk string) { write(t, disk, "c/altra/nuovo.txt", "nuovo") },
			filled: 1, fixed: true},
		{name: "rewritten with the same bytes", root: "/",
			change: func(t *testing.T, disk string) {
				os.Remove(filepath.Join(disk, "c/altra/copia.jpg"))
				write(t, disk, "c/altra/copia.jpg", "copia")
			},
			rebound: 1, fixed: true},
		{name: "below a path", root: "/c/altra",
			change: func(t *testing.T, disk string) {
				write(t, disk, "c/pratica/tavola.dwg", "altre linee")
				os.Remove(filepath.Join(disk, "c/altra/foto.jpg"))
			},
			want: []string{"missing /c/altra/foto.jpg"}},
		{name: "one file", root: "/c/pratica/tavola.dwg",
			change: func(t *testing.T, disk string) { write(t, disk, "c/pratica/tavola.dwg", "altre linee") },
			want:   []string{"changed /c/pratica/tavola.dwg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			disk := t.TempDir()
			if err := os.MkdirAll(filepath.Join(disk, "c/pratica"), 0o755); err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(filepath.Join(disk, "c/altra"), 0o755)
			fs, err := local.New(disk)
			if err != nil {
				t.Fatal(err)
			}
			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			op := archive.New(fs, st, archive.Options{}).Begin(t.Context(), archive.Caller{Policy: allowAll{}})
			for p, body := range files {
				if _, _, err := op.Put(p, strings.NewReader(body), int64(len(body))); err != nil {
					t.Fatalf("Put %s: %v", p, err)
				}
			}
			if tt.change != nil {
				tt.change(t, disk)
			}
			run := func(opts verify.Options) ([]string, verify.Summary) {
				var got []string
				opts.Problem = func(p verify.Problem) {
					if p.Detail == "" {
						t.Errorf("%s %s: no detail", p.Kind, p.Path)
					}
					got = append(got, string(p.Kind)+" "+p.Path)
				}
				sum, err := verify.Run(t.Context(), fs, st, tt.root, opts)
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				slices.Sort(got)
				return got, sum
			}
			got, sum := run(tt.opts)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems %q, want %q", got, tt.want)
			}
			if sum.OK() != (len(tt.want) == 0) {
				t.Errorf("OK() = %v with problems %q", sum.OK(), got)
			}
			if sum.Filled != tt.filled || sum.Rebound != tt.rebound {
				t.Errorf("filled %d, rebound %d; want %d, %d", sum.Filled, sum.Rebound, tt.filled, tt.rebound)
			}
			if sum.Intact+sum.Filled+sum.Rebound+sum.Problems[verify.Changed]+sum.Problems[verify.Unknown]+sum.Problems[verify.Unreadable] != sum.Files {
				t.Errorf("the counts do not add up: %+v", sum)
			}
			after := tt.want
			if tt.fixed {
				after = nil
			}
			if again, _ := run(verify.Options{}); !slices.Equal(again, after) {
				t.Errorf("a second run found %q, want %q", again, after)
			}
		})
	}
}

func write(t *testing.T, disk, p, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(disk, filepath.FromSlash(p)), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// archiveOn writes files through an archive on a new local disk, which
// records their digests, and returns the disk's folder, its backend, the
// store and an Op of the archive for more writes.
func archiveOn(t *testing.T, files map[string]string) (string, *local.Backend, *sqlite.Store, *archive.Op) {
	t.Helper()
	disk := t.TempDir()
	fs, err := local.New(disk)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	op := archive.New(fs, st, archive.Options{}).Begin(t.Context(), archive.Caller{Policy: allowAll{}})
	for p, body := range files {
		if err := os.MkdirAll(filepath.Join(disk, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, _, err := op.Put(p, strings.NewReader(body), int64(len(body))); err != nil {
			t.Fatalf("Put %s: %v", p, err)
		}
	}
	return disk, fs, st, op
}

// TestReportOnly: a run that only reports records nothing, neither the
// digest of a file stored by another tool nor the new version of a file
// rewritten with the same bytes, and refuses Fill.
func TestReportOnly(t *testing.T) {
	disk, fs, st, _ := archiveOn(t, map[string]string{"/c/copia.jpg": "copia", "/c/intatto.txt": "intatto"})
	os.Remove(filepath.Join(disk, "c/copia.jpg"))
	write(t, disk, "c/copia.jpg", "copia")
	write(t, disk, "c/nuovo.txt", "nuovo")
	for run := range 2 {
		sum, err := verify.Run(t.Context(), fs, st, "/", verify.Options{ReportOnly: true})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if sum.Rebound != 1 || sum.Intact != 1 || sum.Problems[verify.Unknown] != 1 || sum.Filled != 0 {
			t.Errorf("run %d: %+v; want 1 rebound, 1 intact, 1 unknown", run, sum)
		}
	}
	if ds, err := st.DigestsOf(t.Context(), []string{"/c/nuovo.txt"}); err != nil || len(ds) != 0 {
		t.Errorf("a report-only run recorded %v (%v)", ds, err)
	}
	if _, err := verify.Run(t.Context(), fs, st, "/", verify.Options{ReportOnly: true, Fill: true}); err == nil {
		t.Error("Run with Fill and ReportOnly: no error")
	}
}

// hookStorage runs before once, the first time Open is asked for path.
type hookStorage struct {
	*local.Backend
	path   string
	before func()
	done   bool
}

func (h *hookStorage) Open(ctx context.Context, p string, r *backends.Range) (*backends.Object, error) {
	if p == h.path && !h.done {
		h.done = true
		h.before()
	}
	return h.Backend.Open(ctx, p, r)
}

// hookStore runs before once, the first time DigestsOf is asked for path.
type hookStore struct {
	*sqlite.Store
	path   string
	before func()
	done   bool
}

func (h *hookStore) DigestsOf(ctx context.Context, paths []string) (map[string]state.Digest, error) {
	if slices.Contains(paths, h.path) && !h.done {
		h.done = true
		h.before()
	}
	return h.Store.DigestsOf(ctx, paths)
}

// TestWrittenWhileChecked: a file written through the archive after the
// listing saw it, before its digest was looked up or before it was read,
// is intact, not changed; and its new digest stays bound to its new
// version.
func TestWrittenWhileChecked(t *testing.T) {
	const p = "/c/pratica/tavola.dwg"
	tests := []struct {
		name string
		wrap func(fs *local.Backend, st *sqlite.Store, write func()) (verify.Storage, verify.Store)
	}{
		{"before the lookup", func(fs *local.Backend, st *sqlite.Store, write func()) (verify.Storage, verify.Store) {
			return fs, &hookStore{Store: st, path: p, before: write}
		}},
		{"before the read", func(fs *local.Backend, st *sqlite.Store, write func()) (verify.Storage, verify.Store) {
			return &hookStorage{Backend: fs, path: p[1:], before: write}, st
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fs, st, op := archiveOn(t, map[string]string{p: "linee", "/c/pratica/domanda.pdf": "domanda"})
			write := func() {
				if _, _, err := op.Put(p, strings.NewReader("altre linee, più lunghe"), -1); err != nil {
					t.Errorf("Put: %v", err)
				}
			}
			vfs, vst := tt.wrap(fs, st, write)
			var problems []string
			sum, err := verify.Run(t.Context(), vfs, vst, "/", verify.Options{
				Problem: func(pr verify.Problem) { problems = append(problems, string(pr.Kind)+" "+pr.Path+": "+pr.Detail) },
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(problems) > 0 || sum.Intact != 2 || sum.Rebound != 0 {
				t.Errorf("%+v, problems %q; want 2 intact", sum, problems)
			}
			again, err := verify.Run(t.Context(), fs, st, "/", verify.Options{})
			if err != nil || again.Intact != 2 || !again.OK() {
				t.Errorf("a second run: %+v, %v; want 2 intact", again, err)
			}
		})
	}
}
