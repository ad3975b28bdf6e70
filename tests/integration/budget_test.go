package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestS3WriteBudgets counts on the wire the S3 requests of the writes that
// DESIGN.md section 7 budgets: a new small file at most 2, an AutoCAD save
// at most 12 (direct S3 needs 6). The archive service makes each check once
// and tells the storage what it found.
func TestS3WriteBudgets(t *testing.T) {
	g, srv, counter := s3Gateway(t)
	const d = "/guastalla/PC-2022-0001"
	mustStatus(t, g, "MKCOL", d, nil, "", http.StatusCreated)
	// spend runs the requests and fails if they cost more than budget.
	spend := func(t *testing.T, what string, budget int, steps []step) {
		t.Helper()
		counter.Reset()
		for _, s := range steps {
			mustStatus(t, g, s.method, s.path, s.header, s.body, s.want)
		}
		got := counter.Counts()
		n := 0
		for _, v := range got {
			n += v
		}
		if n > budget {
			t.Errorf("%s: %d S3 requests, budget %d: %v", what, n, budget, got)
		}
		t.Logf("%s: %d S3 requests %v", what, n, got)
	}
	t.Run("new small file", func(t *testing.T) {
		spend(t, "PUT of a new file", 2, []step{{"PUT", d + "/relazione.pdf", nil, "relazione tecnica", http.StatusCreated, ""}})
		assertContent(t, g, d+"/relazione.pdf", "relazione tecnica")
	})
	t.Run("small file replaced", func(t *testing.T) {
		// The replaced content is kept as a version: one server-side copy
		// on a bucket without versioning (issue 15's budget).
		spend(t, "PUT over a file", 3, []step{{"PUT", d + "/relazione.pdf", nil, "relazione tecnica, rev. 1", http.StatusNoContent, ""}})
		assertContent(t, g, d+"/relazione.pdf", "relazione tecnica, rev. 1")
	})
	save := func(dir string) []step {
		return []step{
			{"PUT", dir + "/tavola-03.tmp", nil, "disegno v2", http.StatusCreated, ""},
			{"DELETE", dir + "/tavola-03.bak", nil, "", http.StatusNoContent, ""},
			{"MOVE", dir + "/tavola-03.dwg", map[string]string{"Destination": dir + "/tavola-03.bak"}, "", http.StatusCreated, ""},
			{"MOVE", dir + "/tavola-03.tmp", map[string]string{"Destination": dir + "/tavola-03.dwg"}, "", http.StatusCreated, ""},
		}
	}
	saved := func(t *testing.T, dir string) {
		t.Helper()
		assertContent(t, g, dir+"/tavola-03.dwg", "disegno v2")
		assertContent(t, g, dir+"/tavola-03.bak", "disegno v1")
		mustStatus(t, g, "HEAD", dir+"/tavola-03.tmp", nil, "", http.StatusNotFound)
	}
	t.Run("AutoCAD save", func(t *testing.T) {
		mustStatus(t, g, "PUT", d+"/tavola-03.dwg", nil, "disegno v1", http.StatusCreated)
		mustStatus(t, g, "PUT", d+"/tavola-03.bak", nil, "disegno v0", http.StatusCreated)
		// 12, and the recycle bin's copies on a bucket without versioning:
		// the deleted name.bak, and the previous drawing as a version.
		spend(t, "AutoCAD save", 15, save(d))
		saved(t, d)
	})
	// A drawing in a folder this server has not looked at yet: the backup
	// beside the temporary file shows the folder.
	t.Run("AutoCAD save in a folder not seen", func(t *testing.T) {
		dir := filepath.Join(srv.Dir, bucket, "guastalla", "PC-2022-0002")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range map[string]string{"tavola-03.dwg": "disegno v1", "tavola-03.bak": "disegno v0"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		spend(t, "AutoCAD save", 15, save("/guastalla/PC-2022-0002"))
		saved(t, "/guastalla/PC-2022-0002")
	})
}

// TestS3WriteRefusals: what the archive service tells the storage keeps
// every refusal of a write, on folders with markers and without (written
// by another tool), including folders that a write here just removed.
func TestS3WriteRefusals(t *testing.T) {
	g, srv, _ := s3Gateway(t)
	// Folders as another tool leaves them: keys, no markers.
	for _, f := range []string{"guastalla/implicita/unico.pdf", "guastalla/piena/cartella/dentro.pdf", "guastalla/piena/altro.pdf"} {
		full := filepath.Join(srv.Dir, bucket, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte("altro strumento"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustStatus(t, g, "MKCOL", "/guastalla/marcata", nil, "", http.StatusCreated)
	mustStatus(t, g, "MKCOL", "/guastalla/marcata/sotto", nil, "", http.StatusCreated)
	mustStatus(t, g, "MKCOL", "/guastalla/da-cancellare", nil, "", http.StatusCreated)
	mustStatus(t, g, "PUT", "/guastalla/da-cancellare/a.pdf", nil, "a", http.StatusCreated)
	mustStatus(t, g, "PUT", "/guastalla/file.pdf", nil, "un file", http.StatusCreated)
	mustStatus(t, g, "PUT", "/guastalla/marcata/tavola.dwg", nil, "tavola", http.StatusCreated)
	// Names that sort between a file and its folder: "tavola.dwg.bak" < "tavola.dwg/".
	for i := range 120 {
		mustStatus(t, g, "PUT", fmt.Sprintf("/guastalla/piena/cartella.%03d", i), nil, "x", http.StatusCreated)
	}
	// The service learns every folder above: the refusals must hold all the same.
	mustStatus(t, g, "PROPFIND", "/guastalla/implicita/", map[string]string{"Depth": "1"}, "", http.StatusMultiStatus)
	mustStatus(t, g, "PROPFIND", "/guastalla/piena/", map[string]string{"Depth": "1"}, "", http.StatusMultiStatus)
	// Removals through the gateway, right before the writes.
	mustStatus(t, g, "DELETE", "/guastalla/da-cancellare", nil, "", http.StatusNoContent)
	mustStatus(t, g, "DELETE", "/guastalla/implicita/unico.pdf", nil, "", http.StatusNoContent)

	dest := func(p string) map[string]string { return map[string]string{"Destination": p} }
	for _, tt := range []struct {
		name         string
		method, path string
		header       map[string]string
		want         int
		mustNotExist string // a prefix that must hold no key after it
	}{
		{"PUT into a missing folder", "PUT", "/guastalla/manca/x.pdf", nil, http.StatusConflict, "guastalla/manca/"},
		{"PUT into a folder just deleted", "PUT", "/guastalla/da-cancellare/b.pdf", nil, http.StatusConflict, "guastalla/da-cancellare/"},
		{"PUT into an implicit folder whose only file was just deleted", "PUT", "/guastalla/implicita/nuovo.pdf", nil, http.StatusConflict, "guastalla/implicita/"},
		{"PUT below a file", "PUT", "/guastalla/file.pdf/x.pdf", nil, http.StatusConflict, "guastalla/file.pdf/"},
		{"PUT on a folder with a marker", "PUT", "/guastalla/marcata/sotto", nil, http.StatusMethodNotAllowed, ""},
		{"PUT on an implicit folder", "PUT", "/guastalla/piena/cartella", nil, http.StatusMethodNotAllowed, ""},
		{"MOVE into a missing folder", "MOVE", "/guastalla/marcata/tavola.dwg", dest("/guastalla/manca/tavola.dwg"), http.StatusConflict, "guastalla/manca/"},
		{"MOVE into a folder just deleted", "MOVE", "/guastalla/marcata/tavola.dwg", dest("/guastalla/da-cancellare/tavola.dwg"), http.StatusConflict, "guastalla/da-cancellare/"},
		{"COPY into a missing folder", "COPY", "/guastalla/marcata/tavola.dwg", dest("/guastalla/manca/tavola.dwg"), http.StatusConflict, "guastalla/manca/"},
		{"COPY without overwrite onto an implicit folder", "COPY", "/guastalla/marcata/tavola.dwg", map[string]string{"Destination": "/guastalla/piena/cartella", "Overwrite": "F"}, http.StatusPreconditionFailed, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if code, body, _ := g.Status(tt.method, tt.path, tt.header, "contenuto"); code != tt.want {
				t.Errorf("%s %s = %d, want %d\n%s", tt.method, tt.path, code, tt.want, body)
			}
			if tt.mustNotExist != "" {
				if keys := listKeys(t, srv, tt.mustNotExist); len(keys) > 0 {
					t.Errorf("the bucket holds %v", keys)
				}
			}
		})
	}
	// Nothing was written beside the folders it refused to replace.
	if keys := listKeys(t, srv, "guastalla/piena/cartella"); !slices.Contains(keys, "guastalla/piena/cartella/dentro.pdf") || slices.Contains(keys, "guastalla/piena/cartella") {
		t.Errorf("around the implicit folder: %v", keys)
	}
	assertContent(t, g, "/guastalla/marcata/tavola.dwg", "tavola")
}

// listKeys lists the keys under prefix, straight from the bucket.
func listKeys(t *testing.T, srv *harness.S3Server, prefix string) []string {
	t.Helper()
	out, err := srv.Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}
