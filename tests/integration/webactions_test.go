package integration

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestArchiveActionsInTheBrowser: an editor uploads, makes a folder,
// renames and deletes from the archive pages; a reader sees none of those
// controls, and the server refuses them when forced. Every change goes
// through WebDAV's authorization and is audited.
func TestArchiveActionsInTheBrowser(t *testing.T) {
	w := accessWorld(t)
	ed := harness.NewBrowser(t, w.g)
	ed.SignIn("editore", pw("editore"))
	code, page := ed.Get("/_/archivio" + ownDir + "/")
	if code != 200 || !strings.Contains(page, `id="modulo-carica"`) || !strings.Contains(page, `class="elimina`) {
		t.Fatalf("editor's folder page: %d, upload or delete controls missing", code)
	}
	big := bytes.Repeat([]byte("tavola "), 1<<20) // 7 MiB, streamed
	if code, _ := ed.Upload("/_/carica"+ownDir, map[string][]byte{"tavola.dwg": big, "relazione.pdf": []byte("%PDF relazione")}); code != 200 {
		t.Fatalf("upload: %d", code)
	}
	for name, want := range map[string][]byte{"tavola.dwg": big, "relazione.pdf": []byte("%PDF relazione")} {
		if code, got, _ := w.admin.Status("GET", ownDir+"/"+name, nil, ""); code != 200 || !bytes.Equal([]byte(got), want) {
			t.Errorf("uploaded %s: %d, %d bytes", name, code, len(got))
		}
	}
	ed.Get("/_/archivio" + ownDir + "/")
	if code, _ := ed.Post("/_/modifica"+ownDir, url.Values{"azione": {"cartella"}, "nome": {"rilievi"}}); code != 200 {
		t.Errorf("new folder: %d", code)
	}
	if code, _ := ed.Post("/_/modifica"+ownDir+"/relazione.pdf", url.Values{"azione": {"rinomina"}, "nome": {"relazione-tecnica.pdf"}}); code != 200 {
		t.Errorf("rename: %d", code)
	}
	if code, _ := ed.Post("/_/modifica"+ownDir+"/tavola.dwg", url.Values{"azione": {"elimina"}}); code != 200 {
		t.Errorf("delete a file: %d", code)
	}
	if code, _ := ed.Post("/_/modifica"+ownDir+"/rilievi", url.Values{"azione": {"elimina"}}); code != http.StatusForbidden {
		t.Errorf("an editor deleting a folder: %d, want 403", code)
	}
	for p, want := range map[string]int{ownDir + "/rilievi/": 207, ownDir + "/relazione-tecnica.pdf": 207, ownDir + "/relazione.pdf": 404, ownDir + "/tavola.dwg": 404} {
		if code, _, _ := w.admin.Status("PROPFIND", p, map[string]string{"Depth": "0"}, ""); code != want {
			t.Errorf("after the editor's changes, %s: %d, want %d", p, code, want)
		}
	}

	// A reader: no controls, and forcing them changes nothing.
	rd := harness.NewBrowser(t, w.g)
	rd.SignIn("lettore", pw("lettore"))
	code, page = rd.Get("/_/archivio" + ownDir + "/")
	if code != 200 || strings.Contains(page, "modulo-carica") || strings.Contains(page, `class="elimina`) || strings.Contains(page, "rinomina") {
		t.Fatalf("reader's folder page shows write controls (%d)", code)
	}
	if code, _ := rd.Upload("/_/carica"+ownDir, map[string][]byte{"intruso.pdf": []byte("x")}); code != http.StatusForbidden {
		t.Errorf("forced upload by a reader: %d, want 403", code)
	}
	if code, _ := rd.Post("/_/modifica"+ownDir+"/relazione-tecnica.pdf", url.Values{"azione": {"elimina"}}); code != http.StatusForbidden {
		t.Errorf("forced delete by a reader: %d, want 403", code)
	}
	if code, _, _ := w.admin.Status("GET", ownDir+"/intruso.pdf", nil, ""); code != 404 {
		t.Errorf("the reader's forced upload was stored: %d", code)
	}
	if code, _, _ := w.admin.Status("GET", ownDir+"/relazione-tecnica.pdf", nil, ""); code != 200 {
		t.Errorf("the reader's forced delete removed the file: %d", code)
	}
	// A page for a Comune without rights tells nothing.
	if code, page := rd.Get("/_/archivio/luzzara/"); code != 404 || strings.Contains(page, "2020") {
		t.Errorf("reader's page of another Comune: %d", code)
	}
}
