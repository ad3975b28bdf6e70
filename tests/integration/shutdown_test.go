package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/bassareggiana/faldone/tests/harness"
)

// slowBody yields n bytes in chunks, pausing after each, and calls mid
// once half of it is sent.
type slowBody struct {
	left, sent, n int
	pause         time.Duration
	mid           func()
}

func (b *slowBody) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, io.EOF
	}
	k := min(len(p), b.left, 1<<20)
	for i := range p[:k] {
		p[i] = 'N'
	}
	b.left -= k
	b.sent += k
	if b.mid != nil && b.sent >= b.n/2 {
		b.mid()
		b.mid = nil
	}
	time.Sleep(b.pause)
	return k, nil
}

func s3Yaml(srv *harness.S3Server, extra string) string {
	return fmt.Sprintf(`comuni:
  - id: guastalla
    storage: "s3://%s/guastalla?endpoint=%s&region=us-east-1&path_style=true"
    access_key_id: %s
    secret_access_key: %s
`, bucket, srv.Endpoint, srv.AccessKey, srv.SecretKey) + extra
}

func openUploads(t *testing.T, srv *harness.S3Server) int {
	t.Helper()
	out, err := srv.Client().ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	return len(out.Uploads)
}

func objectSum(t *testing.T, srv *harness.S3Server, key string) [32]byte {
	t.Helper()
	obj, err := srv.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	h := sha256.New()
	io.Copy(h, obj.Body)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// TestCrashDuringUpload: a replica killed with SIGKILL in the middle of a
// 200 MiB upload leaves the old object intact; the next replica's cleanup
// aborts the multipart upload the crash left open.
func TestCrashDuringUpload(t *testing.T) {
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	yaml := s3Yaml(srv, "webdav:\n  stale_upload_age: 1s\n")
	g := harness.StartServe(t, yaml)
	old := bytes.Repeat([]byte("originale "), 100000)
	mustStatus(t, g, "PUT", "/guastalla/rilievo.tif", nil, string(old), http.StatusCreated)
	const size = 200 << 20
	started := make(chan struct{})
	go func() {
		req, _ := http.NewRequest("PUT", g.URL+"/guastalla/rilievo.tif", &slowBody{left: size, n: size, pause: 2 * time.Millisecond, mid: func() { close(started) }})
		req.ContentLength = size
		req.SetBasicAuth(g.User, g.Pass)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	for deadline := time.Now().Add(20 * time.Second); openUploads(t, srv) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no multipart upload began")
		}
	}
	g.Kill()
	if objectSum(t, srv, "guastalla/rilievo.tif") != sha256.Sum256(old) {
		t.Fatal("the crash changed the object")
	}
	if openUploads(t, srv) == 0 {
		t.Fatal("the crash left no upload to clean up: the test proves nothing")
	}
	time.Sleep(1100 * time.Millisecond) // older than stale_upload_age
	harness.StartServe(t, yaml)         // its housekeeping runs at start
	for deadline := time.Now().Add(20 * time.Second); openUploads(t, srv) != 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d multipart uploads still open after the cleanup", openUploads(t, srv))
		}
	}
}

// TestGracefulShutdown: SIGTERM during an upload lets it finish within the
// grace period, then the process exits.
func TestGracefulShutdown(t *testing.T) {
	srv := harness.StartS3(t)
	srv.CreateBucket(t, bucket)
	g := harness.StartServe(t, s3Yaml(srv, "shutdown_grace: 30s\n"))
	const size = 48 << 20
	result := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("PUT", g.URL+"/guastalla/scansione.pdf", &slowBody{left: size, n: size, pause: 3 * time.Millisecond, mid: g.Terminate})
		req.ContentLength = size
		req.SetBasicAuth(g.User, g.Pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			result <- 0
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	select {
	case code := <-result:
		if code != http.StatusCreated {
			t.Fatalf("upload during shutdown: %d, want 201", code)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the upload did not finish")
	}
	if !g.Exited(20 * time.Second) {
		t.Fatal("the process did not exit after the upload")
	}
	if objectSum(t, srv, "guastalla/scansione.pdf") != sha256.Sum256(bytes.Repeat([]byte{'N'}, size)) {
		t.Error("the object is not the whole upload")
	}
	if !strings.Contains(g.Log(), "shutting down") {
		t.Error("no shutdown in the log")
	}
}
