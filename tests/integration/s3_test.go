package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bassareggiana/faldone/tests/harness"
)

const bucket = "archivio"

// s3Gateway starts versitygw, a counting proxy in front of it, and faldone
// with Guastalla on S3 (through the proxy) and Luzzara on local disk.
func s3Gateway(t *testing.T, extraYAML ...string) (*harness.Gateway, *harness.S3Server, *harness.S3Counter) {
	t.Helper()
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	counter := srv.Counting(t)
	yaml := fmt.Sprintf(`comuni:
  - id: guastalla
    name: Guastalla
    storage: "s3://%s/guastalla?endpoint=%s&region=us-east-1&path_style=true"
    access_key_id: %s
    secret_access_key: %s
  - id: luzzara
    name: Luzzara
`, bucket, counter.Endpoint, srv.AccessKey, srv.SecretKey) + strings.Join(extraYAML, "")
	g := harness.StartServe(t, yaml)
	return g, srv, counter
}

func TestLitmusS3(t *testing.T) {
	litmus, err := exec.LookPath("litmus")
	if err != nil {
		t.Fatal("litmus is not installed: the test command installs it (apt-get install litmus)")
	}
	g, srv, _ := s3Gateway(t)
	runLitmus(t, litmus, g.URL+"/guastalla/", g.User, g.Pass, func() string { return g.Log() + "\n--- versitygw:\n" + srv.Log() })
}

func TestClientSaveSequencesS3(t *testing.T) {
	g, _, _ := s3Gateway(t)
	saveSequences(t, g)
}

// seed writes n small files into a folder of the bucket directly on
// versitygw's disk, as another tool would: no folder markers.
func seed(t *testing.T, srv *harness.S3Server, dir string, n int) {
	t.Helper()
	full := filepath.Join(srv.Dir, bucket, filepath.FromSlash(dir))
	if err := os.MkdirAll(full, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		name := fmt.Sprintf("PC-2019-%04d.pdf", i)
		if err := os.WriteFile(filepath.Join(full, name), []byte("pratica "+name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestS3RequestCounts counts, on the wire, what each WebDAV operation costs.
func TestS3RequestCounts(t *testing.T) {
	g, srv, counter := s3Gateway(t)
	seed(t, srv, "guastalla/2019", 2500)
	windowsProps := `<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:prop>` +
		`<D:name/><D:getcontenttype/><D:getcontentlength/><D:getlastmodified/><D:creationdate/><D:resourcetype/><D:displayname/><D:getetag/>` +
		`<Z:Win32CreationTime/><Z:Win32LastAccessTime/><Z:Win32LastModifiedTime/><Z:Win32FileAttributes/></D:prop></D:propfind>`
	tests := []struct {
		name    string
		method  string
		path    string
		header  map[string]string
		body    string
		status  int
		want    map[string]int // exact counts of these operations
		exactly bool           // and no other operation
		check   func(t *testing.T, body string)
	}{
		{name: "PROPFIND Depth 1, empty body, 2,500 entries", method: "PROPFIND", path: "/guastalla/2019/", header: map[string]string{"Depth": "1"},
			status: 207, want: map[string]int{"ListObjectsV2": 3}, exactly: true,
			check: func(t *testing.T, body string) {
				if n := strings.Count(body, "<response>"); n != 2501 {
					t.Errorf("%d responses, want 2501", n)
				}
			}},
		{name: "PROPFIND Depth 1, Windows' properties", method: "PROPFIND", path: "/guastalla/2019/", header: map[string]string{"Depth": "1"}, body: windowsProps,
			status: 207, want: map[string]int{"ListObjectsV2": 3}, exactly: true,
			check: func(t *testing.T, body string) {
				if n := strings.Count(body, "<getcontenttype>application/pdf</getcontenttype>"); n != 2500 {
					t.Errorf("%d content types, want 2500", n)
				}
			}},
		{name: "GET with a Range", method: "GET", path: "/guastalla/2019/PC-2019-0042.pdf", header: map[string]string{"Range": "bytes=8-11"},
			status: 206, want: map[string]int{"GetObject": 1}, exactly: true,
			check: func(t *testing.T, body string) {
				if body != "PC-2" {
					t.Errorf("range body %q", body)
				}
			}},
		{name: "HEAD", method: "HEAD", path: "/guastalla/2019/PC-2019-0042.pdf", status: 200, want: map[string]int{"HeadObject": 1}, exactly: true},
		// One listing finds the file it may replace and any folder at the
		// path; the folder that holds it was listed just before; the write.
		{name: "small PUT", method: "PUT", path: "/guastalla/2019/nuova.pdf", body: "una pratica nuova", status: 201,
			want: map[string]int{"ListObjectsV2": 1, "PutObject": 1}, exactly: true},
		{name: "PUT on a folder without a marker", method: "PUT", path: "/guastalla/2019", body: "x", status: 405,
			want: map[string]int{"PutObject": 0, "CreateMultipartUpload": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counter.Reset()
			code, body, _ := g.Status(tt.method, tt.path, tt.header, tt.body)
			if code != tt.status {
				t.Fatalf("status %d, want %d", code, tt.status)
			}
			got := counter.Counts()
			for op, n := range tt.want {
				if got[op] != n {
					t.Errorf("%s: %d requests, want %d (all: %v)", op, got[op], n, got)
				}
			}
			if tt.exactly {
				for op, n := range got {
					if _, ok := tt.want[op]; !ok && n > 0 {
						t.Errorf("unexpected %d %s requests (all: %v)", n, op, got)
					}
				}
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
	// The archive page of the same folder lists it as PROPFIND does.
	t.Run("archive page, 2,500 entries", func(t *testing.T) {
		web := harness.NewBrowser(t, g)
		web.SignIn(g.User, g.Pass)
		counter.Reset()
		code, page := web.Get("/_/archivio/guastalla/2019/")
		got := counter.Counts()
		if code != 200 || !strings.Contains(page, "2501 elementi") { // the small PUT's file too
			t.Fatalf("archive page: %d", code)
		}
		for op, n := range got {
			if op != "ListObjectsV2" && n > 0 {
				t.Errorf("archive page: unexpected %d %s requests (all: %v)", n, op, got)
			}
		}
		if got["ListObjectsV2"] != 3 {
			t.Errorf("archive page: %d ListObjectsV2 requests, want 3 as PROPFIND", got["ListObjectsV2"])
		}
	})
}

// TestS3InterruptedLargePut: a 100 MiB overwrite whose client goes away
// half-way leaves the old object intact and no multipart upload open.
func TestS3InterruptedLargePut(t *testing.T) {
	g, srv, _ := s3Gateway(t)
	old := bytes.Repeat([]byte("tavola originale "), 1<<16) // ~1 MiB
	if code, _, _ := g.Status("PUT", "/guastalla/tavola.dwg", nil, string(old)); code != http.StatusCreated {
		t.Fatalf("seed PUT: %d", code)
	}
	const size = 100 << 20
	rawPut(t, g, "/guastalla/tavola.dwg", size, bytes.Repeat([]byte{'N'}, size/2), false)
	client := srv.Client()
	ctx := t.Context()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Uploads) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d multipart uploads still open", len(out.Uploads))
		}
		time.Sleep(100 * time.Millisecond)
	}
	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("guastalla/tavola.dwg")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if sha256.Sum256(got) != sha256.Sum256(old) {
		t.Fatalf("object changed: %d bytes, want the old %d", len(got), len(old))
	}
}

// TestS3FolderMovePartialFailure: when the storage fails part-way through a
// folder MOVE, every file is still at its source or its destination, and the
// client learns which resources failed.
func TestS3FolderMovePartialFailure(t *testing.T) {
	g, _, counter := s3Gateway(t)
	const d = "/guastalla/PC-2020-0100"
	if code, _, _ := g.Status("MKCOL", d, nil, ""); code != http.StatusCreated {
		t.Fatalf("MKCOL: %d", code)
	}
	files := map[string]string{}
	for i := range 20 {
		name := fmt.Sprintf("tavola-%02d.pdf", i)
		files[name] = "contenuto " + name
		if code, _, _ := g.Status("PUT", d+"/"+name, nil, files[name]); code != http.StatusCreated {
			t.Fatalf("PUT %s: %d", name, code)
		}
	}
	counter.FailAfter("CopyObject", 8, http.StatusInternalServerError)
	code, body, _ := g.Status("MOVE", d, map[string]string{"Destination": "/guastalla/PC-2020-0100-spostata"}, "")
	counter.Clear()
	if code != 207 || !strings.Contains(body, "HTTP/1.1 5") {
		t.Fatalf("MOVE with failing copies: %d\n%s", code, body)
	}
	for name, want := range files {
		src, srcBody, _ := g.Status("GET", d+"/"+name, nil, "")
		dst, dstBody, _ := g.Status("GET", "/guastalla/PC-2020-0100-spostata/"+name, nil, "")
		if !(src == 200 && srcBody == want) && !(dst == 200 && dstBody == want) {
			t.Errorf("%s lost: source %d, destination %d", name, src, dst)
		}
	}
	// The source is whole: the move can be retried.
	code, _, _ = g.Status("MOVE", d, map[string]string{"Destination": "/guastalla/PC-2020-0100-spostata"}, "")
	if code != http.StatusNoContent && code != http.StatusCreated {
		t.Fatalf("retried MOVE: %d", code)
	}
	for name, want := range files {
		if code, got, _ := g.Status("GET", "/guastalla/PC-2020-0100-spostata/"+name, nil, ""); code != 200 || got != want {
			t.Errorf("after retry %s: %d %q", name, code, got)
		}
	}
	if code, _, _ := g.Status("PROPFIND", d+"/", map[string]string{"Depth": "0"}, ""); code != http.StatusNotFound {
		t.Errorf("source after the retried move: %d, want 404", code)
	}
}

// TestS3ForeignObjects: objects written by another tool, with nested keys
// and no folder markers, are folders and files through Faldone.
func TestS3ForeignObjects(t *testing.T) {
	g, srv, _ := s3Gateway(t)
	client := srv.Client()
	ctx := context.Background()
	for key, content := range map[string]string{
		"guastalla/2021/PC-2021-0007/tavola-01.pdf":     "tavola 1",
		"guastalla/2021/PC-2021-0007/rilievi/foto.jpg":  "foto",
		"guastalla/2021/SCIA-2021-0100/domanda.pdf.p7m": "firmata",
	} {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(content)}); err != nil {
			t.Fatal(err)
		}
	}
	code, body, _ := g.Status("PROPFIND", "/guastalla/2021/", map[string]string{"Depth": "1"}, "")
	if code != 207 || !strings.Contains(body, "<href>/guastalla/2021/PC-2021-0007/</href>") || !strings.Contains(body, "/guastalla/2021/SCIA-2021-0100/") {
		t.Fatalf("listing of implicit folders: %d\n%s", code, body)
	}
	if code, got, _ := g.Status("GET", "/guastalla/2021/PC-2021-0007/rilievi/foto.jpg", nil, ""); code != 200 || got != "foto" {
		t.Fatalf("GET in an implicit folder: %d %q", code, got)
	}
	if code, _, _ := g.Status("MOVE", "/guastalla/2021/PC-2021-0007", map[string]string{"Destination": "/guastalla/2021/PC-2021-0007-bis"}, ""); code != http.StatusCreated {
		t.Fatalf("MOVE of an implicit folder: %d", code)
	}
	if code, got, _ := g.Status("GET", "/guastalla/2021/PC-2021-0007-bis/rilievi/foto.jpg", nil, ""); code != 200 || got != "foto" {
		t.Fatalf("GET after MOVE: %d %q", code, got)
	}
	if code, _, _ := g.Status("DELETE", "/guastalla/2021/SCIA-2021-0100", nil, ""); code != http.StatusNoContent {
		t.Fatalf("DELETE of an implicit folder: %d", code)
	}
	out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("guastalla/2021/")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
	}
	want := []string{"guastalla/2021/PC-2021-0007-bis/", "guastalla/2021/PC-2021-0007-bis/rilievi/", "guastalla/2021/PC-2021-0007-bis/rilievi/foto.jpg", "guastalla/2021/PC-2021-0007-bis/tavola-01.pdf"}
	if strings.Join(keys, "\n") != strings.Join(want, "\n") {
		t.Errorf("bucket holds:\n%s\nwant:\n%s", strings.Join(keys, "\n"), strings.Join(want, "\n"))
	}
}

// TestS3Unreachable: when the storage goes away, requests get 503 and a log
// line, never a Go error string; the local Comune keeps working.
func TestS3Unreachable(t *testing.T) {
	g, srv, _ := s3Gateway(t)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ method, path, body string }{
		{"PROPFIND", "/guastalla/", ""}, {"GET", "/guastalla/x.pdf", ""}, {"PUT", "/guastalla/x.pdf", "x"},
	} {
		code, body, _ := g.Status(tc.method, tc.path, map[string]string{"Depth": "1"}, tc.body)
		if code != http.StatusServiceUnavailable && code != http.StatusBadGateway {
			t.Errorf("%s %s with the storage down: %d, want 503 or 502", tc.method, tc.path, code)
		}
		if strings.Contains(body, "dial") || strings.Contains(body, "127.0.0.1") {
			t.Errorf("%s %s: the body leaks an error: %s", tc.method, tc.path, body)
		}
	}
	if code, _, _ := g.Status("PROPFIND", "/luzzara/", map[string]string{"Depth": "1"}, ""); code != 207 {
		t.Errorf("local Comune while S3 is down: %d", code)
	}
	if !strings.Contains(g.Log(), "status=503") {
		t.Errorf("no log line for the failures")
	}
}

// TestS3ListingCostIsTheSameForEveryone: authorization filters listings in
// memory; a reader or a grantee costs the storage what an administrator does.
func TestS3ListingCostIsTheSameForEveryone(t *testing.T) {
	const grantee = "TCNATV80A01H223A"
	g, srv, counter := s3Gateway(t, "access:\n  admins: [operatore]\n  assignments:\n    - {person: lettore, comune: guastalla, role: reader}\n")
	// 1998 files and a dossier: 1999 entries, two listing pages.
	seed(t, srv, "guastalla/2019", 1998)
	seed(t, srv, "guastalla/2019/PC-2019-1998", 1)
	for _, name := range []string{"lettore", grantee} {
		if out, err := faldone(t, pw(name)+"\n", "user", "add", name, "--data", g.DataDir); err != nil {
			t.Fatalf("user add: %v\n%s", err, out)
		}
	}
	until := time.Now().AddDate(0, 0, 7).Format("2006-01-02")
	if out, err := faldone(t, "", "grant", "add", "--person", grantee, "--path", "/guastalla/2019/PC-2019-1998", "--until", until, "--reason", "Prot. 7/2026",
		"--config", filepath.Join(g.DataDir, "faldone.yaml"), "--data", g.DataDir); err != nil {
		t.Fatalf("grant add: %v\n%s", err, out)
	}
	cost := map[string]map[string]int{}
	responses := map[string]int{}
	for name, client := range map[string]*harness.Gateway{"admin": g, "reader": g.As("lettore", pw("lettore")), "grantee": g.As(grantee, pw(grantee))} {
		counter.Reset()
		code, body, _ := client.Status("PROPFIND", "/guastalla/2019/", map[string]string{"Depth": "1"}, "")
		if code != 207 {
			t.Fatalf("%s PROPFIND: %d", name, code)
		}
		cost[name] = counter.Counts()
		responses[name] = strings.Count(body, "<response>")
	}
	for _, name := range []string{"reader", "grantee"} {
		if fmt.Sprint(cost[name]) != fmt.Sprint(cost["admin"]) {
			t.Errorf("%s listing cost %v, administrator %v", name, cost[name], cost["admin"])
		}
	}
	if cost["admin"]["ListObjectsV2"] != 2 || len(cost["admin"]) != 1 {
		t.Errorf("administrator listing cost %v, want 2 ListObjectsV2", cost["admin"])
	}
	if responses["admin"] != 2000 || responses["reader"] != 2000 || responses["grantee"] != 2 {
		t.Errorf("responses: %v", responses)
	}
}

// TestS3DesktopStorms: the files Finder and Explorer look for in every
// folder cost the storage one lookup, not one per request, until written;
// AppleDouble files are stored like any other; NFD and NFC spellings name
// the same file.
func TestS3DesktopStorms(t *testing.T) {
	g, _, counter := s3Gateway(t)
	mustStatus(t, g, "MKCOL", "/guastalla/PC-2022-0001", nil, "", http.StatusCreated)
	for _, name := range []string{"._.", ".DS_Store", "._tavola.pdf", "desktop.ini", "Thumbs.db", ".Spotlight-V100", "Backups.backupdb"} {
		p := "/guastalla/PC-2022-0001/" + name
		if code, _, _ := g.Status("PROPFIND", p, map[string]string{"Depth": "0"}, ""); code != http.StatusNotFound {
			t.Fatalf("PROPFIND %s: %d", name, code)
		}
		counter.Reset()
		for range 5 {
			if code, _, _ := g.Status("PROPFIND", p, map[string]string{"Depth": "0"}, ""); code != http.StatusNotFound {
				t.Fatalf("PROPFIND %s again: %d", name, code)
			}
			if code, _, _ := g.Status("HEAD", p, nil, ""); code != http.StatusNotFound {
				t.Fatalf("HEAD %s: %d", name, code)
			}
		}
		if n := len(counter.Counts()); n != 0 {
			t.Errorf("repeated lookups of %s cost %v", name, counter.Counts())
		}
	}
	// Writing one makes it visible at once.
	mustStatus(t, g, "PUT", "/guastalla/PC-2022-0001/._tavola.pdf", map[string]string{"X-Expected-Entity-Length": "9"}, "appledbl!", http.StatusCreated)
	mustStatus(t, g, "PUT", "/guastalla/PC-2022-0001/.DS_Store", nil, "ds", http.StatusCreated)
	if code, body, _ := g.Status("GET", "/guastalla/PC-2022-0001/._tavola.pdf", nil, ""); code != 200 || body != "appledbl!" {
		t.Errorf("AppleDouble file after PUT: %d %q", code, body)
	}
	if code, _, _ := g.Status("PROPFIND", "/guastalla/PC-2022-0001/.DS_Store", map[string]string{"Depth": "0"}, ""); code != 207 {
		t.Errorf(".DS_Store after PUT: %d", code)
	}
	// "città" written composed (NFC) is read decomposed (NFD, as macOS spells it) and back.
	mustStatus(t, g, "PUT", "/guastalla/PC-2022-0001/citt%C3%A0.pdf", nil, "nfc", http.StatusCreated)
	if code, body, _ := g.Status("GET", "/guastalla/PC-2022-0001/citta%CC%80.pdf", nil, ""); code != 200 || body != "nfc" {
		t.Errorf("NFD spelling of an NFC name: %d %q", code, body)
	}
	mustStatus(t, g, "PUT", "/guastalla/PC-2022-0001/relazione-e%CC%81.pdf", nil, "nfd", http.StatusCreated)
	if code, body, _ := g.Status("GET", "/guastalla/PC-2022-0001/relazione-%C3%A9.pdf", nil, ""); code != 200 || body != "nfd" {
		t.Errorf("NFC spelling of an NFD name: %d %q", code, body)
	}
}

// TestS3FinderChunkedPut: Finder sends chunked bodies with
// X-Expected-Entity-Length; a whole one is stored, one that ends early is
// refused and leaves the old file as it was.
func TestS3FinderChunkedPut(t *testing.T) {
	g, _, _ := s3Gateway(t)
	const p = "/guastalla/relazione.pdf"
	mustStatus(t, g, "PUT", p, nil, "versione originale", http.StatusCreated)
	chunked := func(expected int, body string) int {
		// A body of unknown length goes out chunked.
		req, err := http.NewRequest("PUT", g.URL+p, io.NopCloser(strings.NewReader(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = -1
		req.SetBasicAuth(g.User, g.Pass)
		req.Header.Set("X-Expected-Entity-Length", fmt.Sprint(expected))
		req.Header.Set("User-Agent", "WebDAVFS/3.0.0 (03008000) Darwin/22.1.0 (x86_64)")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := chunked(40, "versione troncata"); code < 400 {
		t.Fatalf("chunked PUT shorter than announced: %d", code)
	}
	if code, body, _ := g.Status("GET", p, nil, ""); code != 200 || body != "versione originale" {
		t.Fatalf("after a short chunked PUT: %d %q", code, body)
	}
	whole := strings.Repeat("pagina ", 1000)
	if code := chunked(len(whole), whole); code != http.StatusNoContent {
		t.Fatalf("whole chunked PUT: %d", code)
	}
	if code, body, _ := g.Status("GET", p, nil, ""); code != 200 || body != whole {
		t.Fatalf("after a whole chunked PUT: %d, %d bytes", code, len(body))
	}
	for deadline := time.Now().Add(3 * time.Second); !strings.Contains(g.Log(), "bytes_in=-1") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond) // the access log line follows the answer
	}
	if !strings.Contains(g.Log(), "bytes_in=-1") {
		t.Errorf("the PUTs did not arrive chunked (no body of unknown length in the log)")
	}
}

// TestS3Quota: a Comune's quota is reported (RFC 4331, as macOS and davfs2
// read it) and enforced on uploads.
func TestS3Quota(t *testing.T) {
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	yaml := fmt.Sprintf(`comuni:
  - id: guastalla
    storage: "s3://%s/guastalla?endpoint=%s&region=us-east-1&path_style=true"
    access_key_id: %s
    secret_access_key: %s
    quota: 10KiB
`, bucket, srv.Endpoint, srv.AccessKey, srv.SecretKey)
	q := harness.StartServe(t, yaml)
	mustStatus(t, q, "PUT", "/guastalla/a.pdf", nil, strings.Repeat("a", 4000), http.StatusCreated)
	quotaProps := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>`
	var body string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		var code int
		code, body, _ = q.Status("PROPFIND", "/guastalla/", map[string]string{"Depth": "0"}, quotaProps)
		if code == 207 && strings.Contains(body, "<quota-used-bytes>") {
			break
		}
	}
	if !strings.Contains(body, "<quota-used-bytes>4000</quota-used-bytes>") || !strings.Contains(body, "<quota-available-bytes>6240</quota-available-bytes>") {
		t.Fatalf("quota properties:\n%s", body)
	}
	if code, _, _ := q.Status("PUT", "/guastalla/b.pdf", nil, strings.Repeat("b", 7000)); code != http.StatusInsufficientStorage {
		t.Errorf("upload beyond the quota: %d, want 507", code)
	}
	mustStatus(t, q, "PUT", "/guastalla/c.pdf", nil, strings.Repeat("c", 6000), http.StatusCreated)
	_, body, _ = q.Status("PROPFIND", "/guastalla/", map[string]string{"Depth": "0"}, quotaProps)
	if !strings.Contains(body, "<quota-used-bytes>10000</quota-used-bytes>") {
		t.Errorf("usage after an upload:\n%s", body)
	}
	if _, body, _ := q.Status("PROPFIND", "/guastalla/", map[string]string{"Depth": "0"}, ""); strings.Contains(body, "quota") {
		t.Errorf("allprop shows quota properties (RFC 4331 keeps them out)")
	}
}

// TestS3FolderMoveRequests: a folder MOVE copies each file with one
// CopyObject, keeping its content; what it costs besides does not grow
// with the files.
func TestS3FolderMoveRequests(t *testing.T) {
	g, _, counter := s3Gateway(t)
	const d = "/guastalla/PC-2021-0007"
	mustStatus(t, g, "MKCOL", d, nil, "", http.StatusCreated)
	mustStatus(t, g, "MKCOL", d+"/tavole", nil, "", http.StatusCreated)
	files := map[string]string{}
	for i := range 40 {
		name := fmt.Sprintf("tavola-%02d.pdf", i)
		if i%2 == 1 {
			name = "tavole/" + name
		}
		files[name] = "contenuto " + name
		mustStatus(t, g, "PUT", d+"/"+name, nil, files[name], http.StatusCreated)
	}
	counter.Reset()
	mustStatus(t, g, "MOVE", d, map[string]string{"Destination": d + "-spostata"}, "", http.StatusCreated)
	got := counter.Counts()
	if got["CopyObject"] != 40 || got["HeadObject"] > 4 || got["ListObjectsV2"] > 12 {
		t.Errorf("MOVE of 40 files: %v; want 40 CopyObject and a few other requests", got)
	}
	t.Logf("MOVE of 40 files in 2 folders: %v", got)
	for name, want := range files {
		if code, body, _ := g.Status("GET", d+"-spostata/"+name, nil, ""); code != 200 || body != want {
			t.Errorf("moved %s: %d %q", name, code, body)
		}
		if code, _, _ := g.Status("HEAD", d+"/"+name, nil, ""); code != 404 {
			t.Errorf("source %s after MOVE: %d", name, code)
		}
	}
}

// TestS3UploadChecksums: by default every request of an upload carries its
// bytes' SHA-256, and S3 keeps for a small file the same digest that the
// server answers in Repr-Digest; s3.upload_checksums: false sends none.
func TestS3UploadChecksums(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // x-amz-sdk-checksum-algorithm of every PutObject and UploadPart
	}{
		{name: "default", want: "SHA256"},
		{name: "off", yaml: "s3:\n  upload_checksums: false\n", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, srv, counter := s3Gateway(t, tt.yaml)
			var sent []string
			counter.Inject(func(op string, r *http.Request) (int, bool) {
				if op == "PutObject" || op == "UploadPart" {
					sent = append(sent, op+" "+r.Header.Get("X-Amz-Sdk-Checksum-Algorithm"))
				}
				return 0, false
			})
			small, large := "versione 2", strings.Repeat("pagina ", 1_500_000) // one PutObject; two parts of 8 MiB
			mustStatus(t, g, "PUT", "/guastalla/relazione.pdf", nil, small, http.StatusCreated)
			mustStatus(t, g, "PUT", "/guastalla/tavola.dwg", nil, large, http.StatusCreated)
			counter.Clear()
			want := []string{"PutObject " + tt.want, "UploadPart " + tt.want, "UploadPart " + tt.want}
			slices.Sort(sent)
			if !slices.Equal(sent, want) {
				t.Errorf("sent %q, want %q", sent, want)
			}
			head, err := srv.Client().HeadObject(t.Context(), &s3.HeadObjectInput{
				Bucket: aws.String(bucket), Key: aws.String("guastalla/relazione.pdf"), ChecksumMode: types.ChecksumModeEnabled,
			})
			if err != nil {
				t.Fatal(err)
			}
			_, _, h := g.Status("HEAD", "/guastalla/relazione.pdf", nil, "")
			stored := aws.ToString(head.ChecksumSHA256)
			switch digest := h.Get("Repr-Digest"); {
			case tt.want != "" && digest != "sha-256=:"+stored+":":
				t.Errorf("S3 keeps SHA-256 %q, the server answers Repr-Digest %q", stored, digest)
			case tt.want == "" && stored != "":
				t.Errorf("S3 keeps SHA-256 %q with checksums off", stored)
			}
		})
	}
}
