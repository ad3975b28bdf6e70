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
	if code != 200 || !strings.Contains(page, `id="modulo-carica"`) || !strings.Contains(page, `elimina revoca"`) {
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
	// A folder dropped on the page: its tree, an empty subfolder included.
	tree := map[string][]byte{"rilievi-2024/pianta.dwg": []byte("pianta"), "rilievi-2024/foto/01.jpg": []byte("foto uno")}
	if code, _ := ed.UploadTree("/_/carica"+ownDir, []string{"rilievi-2024", "rilievi-2024/vuota"}, tree); code != 200 {
		t.Fatalf("folder upload: %d", code)
	}
	for name, want := range tree {
		if code, got, _ := w.admin.Status("GET", ownDir+"/"+name, nil, ""); code != 200 || got != string(want) {
			t.Errorf("uploaded %s: %d %q", name, code, got)
		}
	}
	if code, _, _ := w.admin.Status("PROPFIND", ownDir+"/rilievi-2024/vuota/", map[string]string{"Depth": "0"}, ""); code != 207 {
		t.Errorf("empty folder of the upload: %d", code)
	}
	// The drive's address of a folder, opened in a browser, is its page.
	if code, page := ed.Get(ownDir + "/rilievi-2024/"); code != 200 || !strings.Contains(page, `id="elenco"`) || !strings.Contains(page, "pianta.dwg") {
		t.Errorf("GET of the folder's WebDAV address: %d, not its archive page", code)
	}
	// A file's address under the folder pages leads to the file's page.
	if code, page := ed.Get("/_/archivio" + ownDir + "/rilievi-2024/pianta.dwg"); code != 200 || !strings.Contains(page, `id="nome-file">pianta.dwg<`) {
		t.Errorf("folder page of a file: %d, not the file's page", code)
	}
	// Paths that climb out of the folder, or name nothing, are refused.
	for _, bad := range []string{"../fuori.pdf", "a//b.pdf", "a/./b.pdf", "a/\\b.pdf"} {
		if code, _ := ed.UploadTree("/_/carica"+ownDir+"/rilievi-2024", nil, map[string][]byte{bad: []byte("x")}); code != http.StatusConflict {
			t.Errorf("upload named %q: %d, want 409", bad, code)
		}
	}
	if code, _, _ := w.admin.Status("GET", ownDir+"/fuori.pdf", nil, ""); code != 404 {
		t.Errorf("an upload climbed out of its folder: %d", code)
	}

	// A file's page: its details, and who has it open.
	const lockBody = `<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner><D:href>geom. Bianchi</D:href></D:owner></D:lockinfo>`
	code, _, lh := w.who["editore"].Status("LOCK", ownDir+"/rilievi-2024/pianta.dwg", map[string]string{"Timeout": "Second-600"}, lockBody)
	if code != 200 {
		t.Fatalf("LOCK: %d", code)
	}
	code, page = ed.Get("/_/scheda" + ownDir + "/rilievi-2024/pianta.dwg")
	if code != 200 || !strings.Contains(page, "Aperto da <strong>editore</strong> (geom. Bianchi)") || !strings.Contains(page, "6 byte") || !strings.Contains(page, "Disegno CAD (DWG)") {
		t.Errorf("details of a locked file: %d\n%s", code, page)
	}
	if _, page = ed.Get("/_/archivio" + ownDir + "/rilievi-2024/"); strings.Count(page, `class="in-uso"`) != 1 {
		t.Errorf("folder page marks %d files in use, want 1", strings.Count(page, `class="in-uso"`))
	}
	w.who["editore"].Status("UNLOCK", ownDir+"/rilievi-2024/pianta.dwg", map[string]string{"Lock-Token": lh.Get("Lock-Token")}, "")
	if _, page = ed.Get("/_/scheda" + ownDir + "/rilievi-2024/pianta.dwg"); !strings.Contains(page, "nessuno ha il file aperto") {
		t.Errorf("details after UNLOCK still show a lock")
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
	if code != 200 || strings.Contains(page, "modulo-carica") || strings.Contains(page, `elimina revoca"`) || strings.Contains(page, "rinomina") {
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
