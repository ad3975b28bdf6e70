package verify_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/archive/verify"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends/local"
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
