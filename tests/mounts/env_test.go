// Package mounts drives Faldone with the Linux WebDAV clients people really
// use — rclone mount, davfs2 and cadaver — over TLS with a self-signed
// certificate, on the S3 backend, and checks the bucket directly afterwards.
//
// It needs root, /dev/fuse and the Debian packages fuse3, rclone, davfs2 and
// cadaver, which the test command installs. Anything missing fails the tests:
// in CI a mount test that skips is a mount test that never runs.
package mounts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/tests/harness"
)

const (
	bucket = "archivio"
	comune = "guastalla" // also the key prefix of its archive in the bucket
)

// env is a running Faldone over HTTPS with Guastalla in a versitygw bucket.
type env struct {
	g    *harness.Gateway
	s3   *harness.S3Server
	url  string // https://127.0.0.1:PORT, no trailing slash
	cert string // the self-signed certificate, which is its own CA
}

// startEnv starts versitygw with a bucket, makes a self-signed certificate
// with `faldone cert` and serves Guastalla from the bucket over HTTPS.
func startEnv(t *testing.T) *env {
	t.Helper()
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)

	certDir := t.TempDir()
	out, err := exec.Command(harness.Binary(t), "cert", "--host", "127.0.0.1,localhost", "--out", certDir, "--days", "2").CombinedOutput()
	if err != nil {
		t.Fatalf("faldone cert: %v\n%s", err, out)
	}
	cert, key := filepath.Join(certDir, "cert.pem"), filepath.Join(certDir, "key.pem")

	yaml := fmt.Sprintf(`tls:
  cert_file: %q
  key_file: %q
comuni:
  - id: %s
    name: Guastalla
    storage: "s3://%s/%s?endpoint=%s&region=%s&path_style=true"
    access_key_id: %s
    secret_access_key: %s
`, cert, key, comune, bucket, comune, srv.Endpoint, srv.Region, srv.AccessKey, srv.SecretKey)
	g := harness.StartServeTLS(t, yaml, cert)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("faldone log (tail):\n%s", tail(g.Log(), 6000))
		}
	})
	return &env{g: g, s3: srv, url: g.URL, cert: cert}
}

// openUp makes p, and the folders above it up to the temporary folder,
// readable and searchable by everyone: t.TempDir makes them 0700, and the
// davfs2 daemon does not run as root.
func openUp(t *testing.T, p string) {
	t.Helper()
	top := filepath.Clean(os.TempDir())
	for dir := filepath.Clean(p); dir != top && strings.HasPrefix(dir, top+"/"); dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		want := fi.Mode().Perm() | 0o044
		if fi.IsDir() {
			want |= 0o011
		}
		if want != fi.Mode().Perm() {
			if err := os.Chmod(dir, want|fi.Mode()&(os.ModeSticky|os.ModeSetgid)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// tree is a set of files: slash-separated path relative to the archive's
// root → content.
type tree map[string][]byte

// paths returns the file paths in order.
func (tr tree) paths() []string {
	ps := make([]string, 0, len(tr))
	for p := range tr {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// folders returns every folder that holds a file of the tree, at any depth.
func (tr tree) folders() map[string]bool {
	dirs := map[string]bool{}
	for p := range tr {
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	return dirs
}

// renameFolder moves every file under from/ to under to/.
func (tr tree) renameFolder(from, to string) {
	for p, b := range tr {
		if rest, ok := strings.CutPrefix(p, from+"/"); ok {
			delete(tr, p)
			tr[to+"/"+rest] = b
		}
	}
}

// Folders of the generated archive: a few levels, spaces and accented
// letters, as the Comuni's staff name them.
var treeFolders = []string{
	"pratiche-2023",
	"pratiche-2023/varianti in corso d'opera",
	"pratiche-2024",
	"Tavole di progetto",
	"perizie — città di Guastalla",
	"fotografie/sopralluoghi/più recenti",
}

// File name stems: Italian words with accented letters in NFC, which is
// what Linux programs write.
var treeStems = []string{"pratica", "relazione-attività", "perizia già vista", "caffè-Po", "Società Edilizia", "pietà", "È-conforme", "agibilità"}

var treeExts = []string{".pdf", ".p7m", ".dxf", ".jpg", ".txt", ".docx"}

// genTree makes n files with random content of 0 to 200 KiB spread over
// treeFolders, some empty. The content comes from seed, which the test logs
// so that a failure can be replayed.
func genTree(seed uint64, n int) tree {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	tr := tree{}
	for i := range n {
		dir := treeFolders[i%len(treeFolders)]
		name := fmt.Sprintf("%s %03d%s", treeStems[r.IntN(len(treeStems))], i, treeExts[r.IntN(len(treeExts))])
		size := r.IntN(200<<10 + 1)
		if i%40 == 7 {
			size = 0 // empty files are a case of their own for every client
		}
		b := make([]byte, size)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		tr[dir+"/"+name] = b
	}
	return tr
}

// writeTree writes tr under root, folders first, as cp -r does.
func writeTree(root string, tr tree) error {
	for _, p := range tr.paths() {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, tr[p], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// compareTree reads every file under root and reports how it differs from
// tr: missing, unexpected or different files.
func compareTree(root string, tr tree) error {
	seen := map[string]bool{}
	var problems []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		want, ok := tr[rel]
		if !ok {
			// davfs2 keeps files it could not upload here.
			problems = append(problems, "unexpected file "+rel)
			return nil
		}
		seen[rel] = true
		got, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			problems = append(problems, fmt.Sprintf("%s: %d bytes differ from the %d written", rel, len(got), len(want)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range tr.paths() {
		if !seen[p] {
			problems = append(problems, "missing "+p)
		}
	}
	return joinProblems(problems)
}

func joinProblems(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	const show = 20
	more := ""
	if len(problems) > show {
		more = fmt.Sprintf("\n… and %d more", len(problems)-show)
		problems = problems[:show]
	}
	return fmt.Errorf("%d differences:\n%s%s", len(problems), strings.Join(problems, "\n"), more)
}

// checkStorage lists Guastalla's prefix in the bucket with the S3 API and
// compares it with tr: exactly its files, with the same SHA-256, and no
// folder marker but for folders that hold a file of tr (a marker left
// behind by a rename or a delete is a folder the drive still shows).
func checkStorage(t *testing.T, e *env, tr tree, extraFolders ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := e.s3.Client()
	folders := tr.folders()
	for _, f := range extraFolders {
		folders[f] = true
	}
	prefix := comune + "/"
	got := map[string]bool{}
	var problems []string
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatalf("listing the bucket: %v", err)
		}
		for _, obj := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(obj.Key), prefix)
			// What the client deleted or replaced is in the recycle bin,
			// which is no part of the drive.
			if strings.HasPrefix(key, backends.KeepFolder+"/") {
				continue
			}
			if dir, ok := strings.CutSuffix(key, "/"); ok {
				if dir != "" && !folders[dir] {
					problems = append(problems, "folder marker for a folder that should not exist: "+aws.ToString(obj.Key))
				}
				continue
			}
			got[key] = true
			want, ok := tr[key]
			if !ok {
				problems = append(problems, fmt.Sprintf("unexpected object %s (%d bytes)", aws.ToString(obj.Key), aws.ToInt64(obj.Size)))
				continue
			}
			sum, n, err := objectSum(ctx, client, aws.ToString(obj.Key))
			if err != nil {
				t.Fatalf("reading %s: %v", aws.ToString(obj.Key), err)
			}
			if sum != sha256.Sum256(want) {
				problems = append(problems, fmt.Sprintf("%s: %d bytes with another hash than the %d expected", aws.ToString(obj.Key), n, len(want)))
			}
		}
	}
	for _, p := range tr.paths() {
		if !got[p] {
			problems = append(problems, "missing object "+prefix+p)
		}
	}
	if err := joinProblems(problems); err != nil {
		t.Errorf("storage differs from what was done through the client: %v", err)
	}
}

func objectSum(ctx context.Context, client *s3.Client, key string) ([32]byte, int64, error) {
	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return [32]byte{}, 0, err
	}
	defer obj.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, obj.Body)
	if err != nil {
		return [32]byte{}, n, err
	}
	return [32]byte(h.Sum(nil)), n, nil
}

// The gateway's access log line for a request.
var requestLine = regexp.MustCompile(`msg=request id=\S+ method=(\S+) path=\S+ status=(\d+)`)

// requests counts the requests the gateway logged from offset on by method
// and status ("PUT 201"), and returns where its log ends now.
func (e *env) requests(offset int) (map[string]int, int) {
	log := e.g.Log()
	counts := map[string]int{}
	for _, m := range requestLine.FindAllStringSubmatch(log[offset:], -1) {
		counts[m[1]+" "+m[2]]++
	}
	return counts, len(log)
}

// summary shows counts in order.
func summary(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s ×%d, ", k, counts[k])
	}
	return strings.TrimSuffix(b.String(), ", ")
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
