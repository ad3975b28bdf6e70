package integration

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bassareggiana/faldone/tests/harness"
)

// binWorld runs a gateway's commands and reads its recycle bin and versions.
type binWorld struct {
	t   *testing.T
	g   *harness.Gateway
	bin string
}

func newBinWorld(t *testing.T, g *harness.Gateway) *binWorld {
	return &binWorld{t: t, g: g, bin: harness.Binary(t)}
}

// cli runs a command on the gateway's configuration and data.
func (w *binWorld) cli(args ...string) (int, string) {
	w.t.Helper()
	code, out, errOut := runCLI(w.t, w.bin, w.t.TempDir(), "", append(args, "--config", w.g.ConfigFile(), "--data", w.g.DataDir)...)
	return code, out + errOut
}

// ids runs a listing command and returns the IDs of the lines whose text
// holds want (the first column; the header left out).
func (w *binWorld) ids(want string, args ...string) []string {
	w.t.Helper()
	code, out := w.cli(args...)
	if code != 0 {
		w.t.Fatalf("%v: exit %d\n%s", args, code, out)
	}
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for first := true; sc.Scan(); first = false {
		if first || !strings.Contains(sc.Text(), want) {
			continue
		}
		ids = append(ids, strings.Fields(sc.Text())[0])
	}
	return ids
}

// one is ids that must find exactly one line.
func (w *binWorld) one(want string, args ...string) string {
	w.t.Helper()
	ids := w.ids(want, args...)
	if len(ids) != 1 {
		_, out := w.cli(args...)
		w.t.Fatalf("%v: %d lines with %q, want 1\n%s", args, len(ids), want, out)
	}
	return ids[0]
}

// put writes body at p.
func (w *binWorld) put(p, body string) {
	w.t.Helper()
	code, resp, _ := w.g.Status("PUT", p, nil, body)
	if code != http.StatusCreated && code != http.StatusNoContent {
		w.t.Fatalf("PUT %s: %d %s", p, code, resp)
	}
}

// served checks that the drive serves want at p, with its Repr-Digest.
func (w *binWorld) served(p, want string) {
	w.t.Helper()
	code, body, h := w.g.Status("GET", p, map[string]string{"Want-Repr-Digest": "sha-256=1"}, "")
	if code != http.StatusOK || body != want {
		w.t.Errorf("GET %s: %d, %d bytes %.40q; want %d bytes %.40q", p, code, len(body), body, len(want), want)
		return
	}
	sum := sha256.Sum256([]byte(want))
	if d := h.Get("Repr-Digest"); d != "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":" {
		w.t.Errorf("GET %s: Repr-Digest %q, want the content's SHA-256", p, d)
	}
}

// gone checks that nothing is at p.
func (w *binWorld) gone(p string) {
	w.t.Helper()
	if code, _, _ := w.g.Status("GET", p, nil, ""); code != http.StatusNotFound {
		w.t.Errorf("GET %s: %d, want 404", p, code)
	}
}

// prop sets a dead property on p; hasProp checks it is there.
func (w *binWorld) prop(p, value string) {
	w.t.Helper()
	body := `<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:F="urn:faldone:test"><D:set><D:prop><F:protocollo>` + value + `</F:protocollo></D:prop></D:set></D:propertyupdate>`
	if code, resp, _ := w.g.Status("PROPPATCH", p, map[string]string{"Content-Type": "application/xml"}, body); code != http.StatusMultiStatus {
		w.t.Fatalf("PROPPATCH %s: %d %s", p, code, resp)
	}
}

func (w *binWorld) hasProp(p, value string) {
	w.t.Helper()
	body := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:F="urn:faldone:test"><D:prop><F:protocollo/></D:prop></D:propfind>`
	code, resp, _ := w.g.Status("PROPFIND", p, map[string]string{"Depth": "0", "Content-Type": "application/xml"}, body)
	if code != http.StatusMultiStatus || !strings.Contains(resp, value) {
		w.t.Errorf("PROPFIND %s: %d, want the property %q\n%.600s", p, code, value, resp)
	}
}

// listed reports whether a Depth 1 PROPFIND of dir names name.
func (w *binWorld) listed(dir, name string) bool {
	w.t.Helper()
	code, resp, _ := w.g.Status("PROPFIND", dir, map[string]string{"Depth": "1"}, "")
	if code != http.StatusMultiStatus {
		w.t.Fatalf("PROPFIND %s: %d", dir, code)
	}
	return strings.Contains(resp, name)
}

// recycleBin runs every way of losing a file on the Comune's folder dir
// (a WebDAV delete, a manager's delete of a 500-file dossier, a PUT over a
// file, AutoCAD's and Office's save sequences) and restores each, through
// the commands, checking bytes, digests, properties and names.
func recycleBin(t *testing.T, w *binWorld, dir string) {
	comune := strings.Split(dir, "/")[1]
	mustStatus(t, w.g, "MKCOL", dir, nil, "", http.StatusCreated)

	t.Run("file deleted", func(t *testing.T) {
		w.t = t
		p := dir + "/relazione tecnica è.pdf"
		w.put(p, "relazione, prima stesura")
		w.prop(p, "PG-2019-0042")
		mustStatus(t, w.g, "DELETE", p, nil, "", http.StatusNoContent)
		w.gone(p)
		if w.listed(dir, "relazione") {
			t.Errorf("the deleted file is still listed in %s", dir)
		}
		if w.listed("/"+comune, ".faldone") {
			t.Errorf("the recycle bin's own folder is listed in /%s", comune)
		}
		id := w.one("relazione tecnica è.pdf", "trash", "list", "--comune", comune)
		if code, out := w.cli("trash", "list", "--path", dir, "--search", "RELAZIONE"); code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "WebDAV") {
			t.Errorf("trash list --search: exit %d\n%s", code, out)
		}
		if code, out := w.cli("trash", "restore", id); code != 0 {
			t.Fatalf("trash restore: exit %d\n%s", code, out)
		}
		w.served(p, "relazione, prima stesura")
		w.hasProp(p, "PG-2019-0042")
		if ids := w.ids("relazione", "trash", "list", "--comune", comune); len(ids) != 0 {
			t.Errorf("the restored entry is still in the bin: %v", ids)
		}
		// Restoring over something there asks for another name.
		mustStatus(t, w.g, "DELETE", p, nil, "", http.StatusNoContent)
		id = w.one("relazione tecnica è.pdf", "trash", "list", "--comune", comune)
		w.put(dir+"/altro.pdf", "un altro file")
		if code, out := w.cli("trash", "restore", id, "--as", dir+"/altro.pdf"); code == 0 || !strings.Contains(out, "--as") {
			t.Errorf("restore over a file: exit %d\n%s", code, out)
		}
		if code, out := w.cli("trash", "restore", id, "--as", dir+"/ripristinata/relazione.pdf"); code != 0 {
			t.Fatalf("trash restore --as: exit %d\n%s", code, out)
		}
		w.served(dir+"/ripristinata/relazione.pdf", "relazione, prima stesura")
		w.served(dir+"/altro.pdf", "un altro file")
	})

	t.Run("dossier of 500 files deleted", func(t *testing.T) {
		w.t = t
		d := dir + "/PC-2019-0042"
		want := map[string]string{}
		mustStatus(t, w.g, "MKCOL", d, nil, "", http.StatusCreated)
		for _, sub := range []string{"/tavole", "/foto", "/vuota"} {
			mustStatus(t, w.g, "MKCOL", d+sub, nil, "", http.StatusCreated)
		}
		for i := range 500 {
			p := fmt.Sprintf("%s/%s/file-%03d.pdf", d, []string{"tavole", "foto"}[i%2], i)
			want[p] = fmt.Sprintf("contenuto %d %s", i, strings.Repeat("x", i))
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for p, body := range want {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if code, _, _ := w.g.Status("PUT", p, nil, body); code != http.StatusCreated {
					t.Errorf("PUT %s: %d", p, code)
				}
			})
		}
		wg.Wait()
		w.prop(d, "fascicolo")
		w.prop(d+"/tavole/file-000.pdf", "tavola-zero")
		mustStatus(t, w.g, "DELETE", d, nil, "", http.StatusNoContent)
		w.gone(d + "/tavole/file-000.pdf")
		id := w.one("PC-2019-0042/", "trash", "list", "--comune", comune)
		if _, out := w.cli("trash", "list", "--comune", comune); !strings.Contains(out, " 500 ") {
			t.Errorf("the entry does not count 500 files:\n%s", out)
		}
		if code, out := w.cli("trash", "restore", id); code != 0 {
			t.Fatalf("trash restore of the dossier: exit %d\n%s", code, out)
		}
		for p, body := range want {
			w.served(p, body)
		}
		w.hasProp(d, "fascicolo")
		w.hasProp(d+"/tavole/file-000.pdf", "tavola-zero")
		if code, _, _ := w.g.Status("PROPFIND", d+"/vuota", map[string]string{"Depth": "0"}, ""); code != http.StatusMultiStatus {
			t.Errorf("the empty subfolder is not back: %d", code)
		}
	})

	t.Run("file replaced by PUT", func(t *testing.T) {
		w.t = t
		p := dir + "/computo.xlsx"
		w.put(p, "computo v1")
		w.put(p, "computo v2")
		w.served(p, "computo v2")
		id := w.one("computo.xlsx", "versions", "list", p)
		if code, out := w.cli("versions", "restore", p, id); code != 0 {
			t.Fatalf("versions restore: exit %d\n%s", code, out)
		}
		w.served(p, "computo v1")
		// The content it replaced is a version in turn.
		id = w.one("computo.xlsx", "versions", "list", p)
		if code, out := w.cli("versions", "restore", p, id, "--as", dir+"/computo v2.xlsx"); code != 0 {
			t.Fatalf("versions restore --as: exit %d\n%s", code, out)
		}
		w.served(dir+"/computo v2.xlsx", "computo v2")
	})

	t.Run("AutoCAD save", func(t *testing.T) {
		w.t = t
		dwg, bak, tmp := dir+"/tavola.dwg", dir+"/tavola.bak", dir+"/tavola.tmp"
		w.put(dwg, "disegno v1")
		w.prop(dwg, "tavola-1")
		for _, v := range []string{"disegno v2", "disegno v3"} {
			w.put(tmp, v)
			w.g.Status("DELETE", bak, nil, "")
			mustStatus(t, w.g, "MOVE", dwg, map[string]string{"Destination": w.g.URL + bak}, "", http.StatusCreated)
			mustStatus(t, w.g, "MOVE", tmp, map[string]string{"Destination": w.g.URL + dwg}, "", http.StatusCreated)
		}
		w.served(dwg, "disegno v3")
		ids := w.ids("tavola.dwg", "versions", "list", dwg)
		if len(ids) != 2 {
			_, out := w.cli("versions", "list", dwg)
			t.Fatalf("%d versions of the drawing after two saves, want 2\n%s\n%s", len(ids), out, tail(w.g.Log(), 4000))
		}
		// Newest first: v2, then v1.
		if code, out := w.cli("versions", "restore", dwg, ids[1]); code != 0 {
			t.Fatalf("versions restore: exit %d\n%s", code, out)
		}
		w.served(dwg, "disegno v1")
		w.hasProp(dwg, "tavola-1")
	})

	t.Run("Office save", func(t *testing.T) {
		w.t = t
		doc := dir + "/relazione.docx"
		w.put(doc, "documento v1")
		mustStatus(t, w.g, "DELETE", doc, nil, "", http.StatusNoContent)
		w.put(doc, "documento v2")
		id := w.one("relazione.docx", "versions", "list", doc)
		if ids := w.ids("relazione.docx", "trash", "list", "--comune", comune); len(ids) != 0 {
			t.Errorf("the saved document is also in the bin: %v", ids)
		}
		if code, out := w.cli("versions", "restore", doc, id); code != 0 {
			t.Fatalf("versions restore: exit %d\n%s", code, out)
		}
		w.served(doc, "documento v1")
	})

	t.Run("purge", func(t *testing.T) {
		w.t = t
		p := dir + "/da-eliminare.pdf"
		w.put(p, "x")
		mustStatus(t, w.g, "DELETE", p, nil, "", http.StatusNoContent)
		id := w.one("da-eliminare.pdf", "trash", "list", "--comune", comune)
		if code, out := w.cli("trash", "purge", id); code != 0 {
			t.Fatalf("trash purge: exit %d\n%s", code, out)
		}
		if code, out := w.cli("trash", "restore", id); code == 0 {
			t.Errorf("restore after purge: exit 0\n%s", out)
		}
	})
}

// TestRecycleBin: on local disk and on an unversioned bucket.
func TestRecycleBin(t *testing.T) {
	g, _, _ := s3Gateway(t)
	w := newBinWorld(t, g)
	if !strings.Contains(g.Log(), `comune=guastalla mode="hidden prefix"`) {
		t.Errorf("the log does not say how guastalla keeps what is deleted:\n%s", tail(g.Log(), 3000))
	}
	t.Run("disk", func(t *testing.T) { recycleBin(t, w, "/luzzara/2019") })
	t.Run("s3", func(t *testing.T) { recycleBin(t, w, "/guastalla/2019") })
}

// versionedGateway serves guastalla from a versioned bucket and reggiolo
// from one with Object Lock, on a versitygw with versioning.
func versionedGateway(t *testing.T, extraYAML ...string) (*harness.Gateway, *harness.S3Server) {
	t.Helper()
	srv := harness.StartS3Versioned(t)
	srv.CreateBucketVersioned(t, "versioned")
	srv.CreateBucketLocked(t, "locked")
	yaml := ""
	for _, c := range []struct{ id, bucket string }{{"guastalla", "versioned"}, {"reggiolo", "locked"}} {
		yaml += fmt.Sprintf(`  - id: %s
    storage: "s3://%s/%s?endpoint=%s&region=us-east-1&path_style=true"
    access_key_id: %s
    secret_access_key: %s
`, c.id, c.bucket, c.id, srv.Endpoint, srv.AccessKey, srv.SecretKey)
	}
	return harness.StartServe(t, "comuni:\n"+yaml+strings.Join(extraYAML, "")), srv
}

// versionsOf lists, straight from the bucket, the versions and the delete
// markers of the objects under prefix.
func versionsOf(t *testing.T, srv *harness.S3Server, bucket, prefix string) (versions, markers []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	for {
		out, err := srv.Client().ListObjectVersions(ctx, in)
		if err != nil {
			t.Fatalf("list the versions under %s: %v", prefix, err)
		}
		for _, v := range out.Versions {
			versions = append(versions, aws.ToString(v.Key)+"@"+aws.ToString(v.VersionId))
		}
		for _, m := range out.DeleteMarkers {
			markers = append(markers, aws.ToString(m.Key))
		}
		if !aws.ToBool(out.IsTruncated) {
			return versions, markers
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}

// TestRecycleBinVersioned: on a versioned bucket the bin is the bucket's
// own versions: a delete copies nothing, and a purge lets the versions go.
func TestRecycleBinVersioned(t *testing.T) {
	g, srv := versionedGateway(t)
	for _, want := range []string{`comune=guastalla mode="bucket versioning"`, `comune=reggiolo mode="bucket versioning"`} {
		if !strings.Contains(g.Log(), want) {
			t.Errorf("the log does not say %s:\n%s", want, tail(g.Log(), 3000))
		}
	}
	w := newBinWorld(t, g)
	recycleBin(t, w, "/guastalla/2019")
	w.t = t

	// Nothing of the bin is in a hidden prefix: it is all versions.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("versioned"), Prefix: aws.String("guastalla/.faldone-cestino/")})
	if err != nil || len(out.Contents) != 0 {
		t.Errorf("a versioned bucket's bin copied objects into the hidden prefix: %d objects, %v", len(out.Contents), err)
	}
	// The purged file's content is gone from the bucket, every version.
	if vs, _ := versionsOf(t, srv, "versioned", "guastalla/2019/da-eliminare.pdf"); len(vs) != 0 {
		t.Errorf("versions left after the purge: %v", vs)
	}
	// A deleted file's version is there until the purge, then gone.
	p := "/guastalla/2019/foto.jpg"
	w.put(p, "foto")
	mustStatus(t, g, "DELETE", p, nil, "", http.StatusNoContent)
	if vs, _ := versionsOf(t, srv, "versioned", "guastalla/2019/foto.jpg"); len(vs) != 1 {
		t.Errorf("a deleted file is not kept as one version of the bucket: %v", vs)
	}
	id := w.one("foto.jpg", "trash", "list", "--comune", "guastalla")
	if code, out := w.cli("trash", "purge", id); code != 0 {
		t.Fatalf("trash purge: exit %d\n%s", code, out)
	}
	if vs, _ := versionsOf(t, srv, "versioned", "guastalla/2019/foto.jpg"); len(vs) != 0 {
		t.Errorf("versions left after the purge: %v", vs)
	}
}

// TestClosedDossierObjectLock: closing a dossier on a bucket with Object
// Lock puts a legal hold on every version of its files, so that not even
// the bucket's keys delete them; reopening lifts it.
func TestClosedDossierObjectLock(t *testing.T) {
	g, srv := versionedGateway(t)
	w := newBinWorld(t, g)
	d := "/reggiolo/2021/PdC-2021-0003"
	mustStatus(t, g, "MKCOL", "/reggiolo/2021", nil, "", http.StatusCreated)
	mustStatus(t, g, "MKCOL", d, nil, "", http.StatusCreated)
	mustStatus(t, g, "MKCOL", d+"/tavole", nil, "", http.StatusCreated)
	w.put(d+"/domanda.pdf", "domanda v1")
	w.put(d+"/domanda.pdf", "domanda v2") // v1 is a version now
	w.put(d+"/tavole/pianta.dwg", "pianta")
	if code, out := w.cli("dossier", "close", d, "--reason", "Agibilità rilasciata"); code != 0 {
		t.Fatalf("dossier close: exit %d\n%s", code, out)
	}
	vs, _ := versionsOf(t, srv, "locked", "reggiolo/2021/PdC-2021-0003/")
	if len(vs) < 3 {
		t.Fatalf("%d versions in the dossier, want at least 3: %v", len(vs), vs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	deleteVersion := func(kv string) error {
		key, id, _ := strings.Cut(kv, "@")
		_, err := srv.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String(key), VersionId: aws.String(id)})
		return err
	}
	for _, kv := range vs {
		if strings.HasSuffix(strings.Split(kv, "@")[0], "/") {
			continue // a folder marker holds no document
		}
		if err := deleteVersion(kv); err == nil {
			t.Errorf("a direct S3 delete of %s in the closed dossier succeeded", kv)
		}
	}
	mustStatus(t, g, "DELETE", d+"/domanda.pdf", nil, "", http.StatusForbidden)
	w.served(d+"/domanda.pdf", "domanda v2")

	if code, out := w.cli("dossier", "reopen", d, "--reason", "Variante in corso d'opera"); code != 0 {
		t.Fatalf("dossier reopen: exit %d\n%s", code, out)
	}
	// Reopened, the storage lets go again: the gateway deletes, and the
	// bucket's owner may drop a version.
	mustStatus(t, g, "DELETE", d+"/tavole/pianta.dwg", nil, "", http.StatusNoContent)
	old, _ := versionsOf(t, srv, "locked", "reggiolo/2021/PdC-2021-0003/domanda.pdf")
	if len(old) != 2 {
		t.Fatalf("domanda.pdf has %d versions, want 2: %v", len(old), old)
	}
	for _, kv := range old {
		if err := deleteVersion(kv); err != nil {
			t.Errorf("a direct S3 delete of %s after the reopening: %v", kv, err)
		}
	}
}

// TestRetentionTwoReplicas: two replicas on one PostgreSQL and one bucket,
// started together once the retention has passed, purge each entry of
// the recycle bin and each version once, and the bucket lets their
// copies go.
func TestRetentionTwoReplicas(t *testing.T) {
	yaml, _, _, srv := replicaConfig(t)
	yaml += "trash:\n  retention: 3s\n  version_age: 3s\n"
	a := harness.StartServe(t, yaml)
	b := harness.StartServe(t, yaml)
	mustStatus(t, a, "MKCOL", "/guastalla/r", nil, "", http.StatusCreated)
	for i := range 20 {
		mustStatus(t, a, "PUT", fmt.Sprintf("/guastalla/r/f%02d.pdf", i), nil, fmt.Sprintf("v1 %d", i), http.StatusCreated)
	}
	want := 0
	for i := range 20 {
		p := fmt.Sprintf("/guastalla/r/f%02d.pdf", i)
		switch g := []*harness.Gateway{a, b}[i%2]; {
		case i < 12: // deleted, through either replica
			mustStatus(t, g, "DELETE", p, nil, "", http.StatusNoContent)
		default: // replaced: the first content is a version
			mustStatus(t, g, "PUT", p, nil, fmt.Sprintf("v2 %d", i), http.StatusNoContent)
		}
		want++
	}
	hidden := func() int {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := srv.Client().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("guastalla/.faldone-cestino/")})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Contents)
	}
	if n := hidden(); n != want {
		t.Fatalf("%d kept copies in the bucket, want %d", n, want)
	}

	time.Sleep(3500 * time.Millisecond)
	a.Stop()
	b.Stop()
	from := [2]int{len(a.Log()), len(b.Log())}
	var wg sync.WaitGroup
	for _, g := range []*harness.Gateway{a, b} {
		wg.Go(g.Restart)
	}
	wg.Wait()
	purged := func() (n int, lines string) {
		for i, g := range []*harness.Gateway{a, b} {
			for _, l := range strings.Split(g.Log()[from[i]:], "\n") {
				if !strings.Contains(l, "recycle bin retention") {
					continue
				}
				lines += l + "\n"
				var k int
				if _, err := fmt.Sscanf(l[strings.Index(l, "purged=")+len("purged="):], "%d", &k); err == nil {
					n += k
				}
			}
		}
		return n, lines
	}
	deadline := time.Now().Add(30 * time.Second)
	for n, _ := purged(); n < want && time.Now().Before(deadline); n, _ = purged() {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // a second purge, if there were one, would show by now
	n, lines := purged()
	t.Logf("retention:\n%s", lines)
	if n != want || strings.Contains(lines, "level=ERROR") {
		t.Errorf("the replicas purged %d, want %d, once:\n%s", n, want, lines)
	}
	if n := hidden(); n != 0 {
		t.Errorf("%d kept copies left in the bucket after the retention", n)
	}
	w := newBinWorld(t, a)
	if ids := w.ids("/guastalla/r/", "trash", "list", "--comune", "guastalla"); len(ids) != 0 {
		t.Errorf("entries left in the bin: %v", ids)
	}
	for i := 12; i < 20; i++ {
		p := fmt.Sprintf("/guastalla/r/f%02d.pdf", i)
		w.served(p, fmt.Sprintf("v2 %d", i))
		if ids := w.ids("f", "versions", "list", p); len(ids) != 0 {
			t.Errorf("versions of %s left: %v", p, ids)
		}
	}
}

// TestClosedDossierCompliance: with dossiers.object_lock: compliance, a
// closed dossier's versions are retained by the storage for the retention,
// and a reopening does not release them.
func TestClosedDossierCompliance(t *testing.T) {
	g, srv := versionedGateway(t, "dossiers:\n  object_lock: compliance\n  retention: 1h\n")
	w := newBinWorld(t, g)
	d := "/reggiolo/2022/SCIA-2022-0011"
	mustStatus(t, g, "MKCOL", "/reggiolo/2022", nil, "", http.StatusCreated)
	mustStatus(t, g, "MKCOL", d, nil, "", http.StatusCreated)
	w.put(d+"/asseverazione.pdf", "asseverazione")
	if code, out := w.cli("dossier", "close", d, "--reason", "Fine lavori"); code != 0 {
		t.Fatalf("dossier close: exit %d\n%s", code, out)
	}
	if code, out := w.cli("dossier", "reopen", d, "--reason", "Errore materiale"); code != 0 {
		t.Fatalf("dossier reopen: exit %d\n%s", code, out)
	}
	vs, _ := versionsOf(t, srv, "locked", "reggiolo/2022/SCIA-2022-0011/asseverazione.pdf")
	if len(vs) != 1 {
		t.Fatalf("versions %v", vs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key, id, _ := strings.Cut(vs[0], "@")
	out, err := srv.Client().GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String("locked"), Key: aws.String(key), VersionId: aws.String(id)})
	if err != nil || out.Retention == nil || out.Retention.Mode != "COMPLIANCE" || time.Until(aws.ToTime(out.Retention.RetainUntilDate)) < 50*time.Minute {
		t.Errorf("retention of the closed dossier's version: %+v, %v", out, err)
	}
	if _, err := srv.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String(key), VersionId: aws.String(id)}); err == nil {
		t.Error("a direct S3 delete of a version under compliance retention succeeded after the reopening")
	}
	// Reopened, the dossier takes changes again: a new version.
	w.put(d+"/asseverazione.pdf", "asseverazione, integrazione")
	w.served(d+"/asseverazione.pdf", "asseverazione, integrazione")
}
