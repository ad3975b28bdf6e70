package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3Server is a running versitygw: a real S3 server keeping each bucket as a
// folder of Dir and each object as a file in it.
type S3Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Region    string
	// Dir is the posix root: the objects of bucket b are files under Dir/b/,
	// and files placed there directly are listed too.
	Dir string
	// VersionsDir, when not "", is where versitygw keeps the versions of
	// versioned buckets (--versioning-dir), beside Dir; "" when the server
	// was started without versioning (see WithVersioning).
	VersionsDir string
	ownVersions bool // VersionsDir was made by NewS3, and Close removes it

	cmd  *exec.Cmd
	out  *SyncBuffer
	done chan struct{} // closed when the process has exited
}

var (
	vgwOnce sync.Once
	vgwPath string
	vgwErr  error
)

// versityGW builds the versitygw pinned in tests/tools once per test process
// and returns its path. The binary is cached under the user's cache folder,
// named by the tools module's go.mod and go.sum and by the Go version, so
// later processes, and the test binaries of other packages, find it built.
func versityGW() (string, error) {
	vgwOnce.Do(func() { vgwPath, vgwErr = buildVersityGW() })
	return vgwPath, vgwErr
}

func buildVersityGW() (string, error) {
	tools := filepath.Join(Root(), "tests", "tools")
	h := sha256.New()
	for _, name := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(tools, name))
		if err != nil {
			return "", fmt.Errorf("versitygw: %w", err)
		}
		h.Write(b)
	}
	h.Write([]byte(runtime.Version()))
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("versitygw: %w", err)
	}
	dir := filepath.Join(cache, "faldone-tools")
	bin := filepath.Join(dir, "versitygw-"+hex.EncodeToString(h.Sum(nil))[:16])
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("versitygw: %w", err)
	}
	// Test binaries of several packages may build at once: each builds its
	// own file and renames it into place, which never disturbs a running copy.
	tmp := bin + ".tmp-" + rand.Text()
	cmd := exec.Command("go", "build", "-o", tmp, "github.com/versity/versitygw/cmd/versitygw")
	cmd.Dir = tools
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("building versitygw: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("versitygw: %w", err)
	}
	return bin, nil
}

// StartS3 starts versitygw over a temporary folder, for the duration of the test.
func StartS3(t testing.TB) *S3Server {
	t.Helper()
	s, err := NewS3(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// StartS3Versioned is StartS3 with WithVersioning: buckets can be
// versioned (CreateBucketVersioned) and hold objects (CreateBucketLocked).
func StartS3Versioned(t testing.TB) *S3Server {
	t.Helper()
	s, err := NewS3(t.TempDir(), WithVersioning(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// S3Option adjusts how NewS3 starts versitygw.
type S3Option func(*S3Server)

// WithVersioning starts versitygw with versioning (--versioning-dir) over
// the folder dir, which must lie outside the posix root; "" makes a
// temporary folder beside it, which Close removes.
func WithVersioning(dir string) S3Option {
	return func(s *S3Server) {
		s.VersionsDir = dir
		if dir == "" {
			s.ownVersions = true
		}
	}
}

// NewS3 starts versitygw over the existing folder dir, on a free loopback
// port, with random root credentials. It is for a TestMain or a sync.Once
// that shares one server among tests; Close stops it.
func NewS3(dir string, opts ...S3Option) (*S3Server, error) {
	bin, err := versityGW()
	if err != nil {
		return nil, err
	}
	var o S3Server
	for _, opt := range opts {
		opt(&o)
	}
	if o.ownVersions {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		if o.VersionsDir, err = os.MkdirTemp(filepath.Dir(abs), filepath.Base(abs)+"-versions-"); err != nil {
			return nil, fmt.Errorf("versitygw: %w", err)
		}
	}
	var errs []error
	// Another process may take the free port before versitygw binds it.
	for range 3 {
		s, err := startS3(bin, dir, o.VersionsDir)
		if err == nil {
			s.ownVersions = o.ownVersions
			return s, nil
		}
		errs = append(errs, err)
	}
	if o.ownVersions {
		os.RemoveAll(o.VersionsDir)
	}
	return nil, errors.Join(errs...)
}

func startS3(bin, dir, versions string) (*S3Server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &S3Server{
		Endpoint:    "http://" + addr,
		AccessKey:   "faldone-" + rand.Text()[:12],
		SecretKey:   rand.Text(),
		Region:      "us-east-1",
		Dir:         dir,
		VersionsDir: versions,
		out:         &SyncBuffer{},
	}
	if err := s.launch(bin, addr); err != nil {
		return nil, err
	}
	return s, nil
}

// launch starts versitygw on addr over s.Dir with s's credentials and
// waits until it answers.
func (s *S3Server) launch(bin, addr string) error {
	// Without --keep-alive versitygw closes every connection after one
	// request, which no real S3 does.
	args := []string{"--port", addr, "--region", s.Region, "--quiet", "--keep-alive", "posix"}
	if s.VersionsDir != "" {
		args = append(args, "--versioning-dir", s.VersionsDir)
	}
	s.cmd = exec.Command(bin, append(args, s.Dir)...)
	s.cmd.Env = append(s3Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	s.cmd.Stdout = s.out
	s.cmd.Stderr = s.out
	s.done = make(chan struct{})
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("versitygw: %w", err)
	}
	done := s.done
	go func() {
		s.cmd.Wait()
		close(done)
	}()
	if err := s.waitReady(30 * time.Second); err != nil {
		s.Close()
		return err
	}
	return nil
}

// Freeze stops the server with SIGSTOP, as a storage that hangs: the
// kernel still accepts its connections and their bytes, and nothing
// answers. Thaw lets it go on.
func (s *S3Server) Freeze(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// A test that fails while the server is frozen must not leave it so:
	// a stopped process ignores SIGTERM until it is continued.
	t.Cleanup(func() { s.cmd.Process.Signal(syscall.SIGCONT) })
	// The stop takes each thread when it next runs: on a loaded machine
	// one may still answer a request sent right after the signal. Frozen
	// means every thread stopped.
	for deadline := time.Now().Add(5 * time.Second); !stopped(s.cmd.Process.Pid); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("versitygw did not stop within 5 s of SIGSTOP")
		}
	}
}

// stopped reports whether every thread of the process is stopped (state T
// in /proc/PID/task/TID/stat).
func stopped(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil || len(tasks) == 0 {
		return false
	}
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] != 'T' && b[i+2] != 't') {
			return false
		}
	}
	return true
}

// Thaw continues a server that Freeze stopped.
func (s *S3Server) Thaw(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it:
// its connections are reset and its port refuses new ones.
func (s *S3Server) Kill(t testing.TB) {
	t.Helper()
	s.cmd.Process.Kill()
	<-s.done
}

// Restart starts the server again after Kill, on the same port and folder
// with the same credentials, so that clients find it where it was.
func (s *S3Server) Restart(t testing.TB) {
	t.Helper()
	bin, err := versityGW()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.launch(bin, strings.TrimPrefix(s.Endpoint, "http://")); err != nil {
		t.Fatal(err)
	}
}

// s3Environ is the environment without the variables that would configure
// versitygw or its AWS SDK behind our back: AWS_CA_BUNDLE, when set to a
// file the SDK cannot load, stops it.
func s3Environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "VGW_") || strings.HasPrefix(name, "ROOT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// waitReady waits until the server answers HTTP: an anonymous request is
// refused with 403, which is an answer.
func (s *S3Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(s.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("versitygw exited: %v\n%s", s.cmd.ProcessState, s.out)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("versitygw did not answer on %s within %v\n%s", s.Endpoint, timeout, s.out)
		}
	}
}

// Close stops the server and waits for it to exit.
func (s *S3Server) Close() error {
	StopProcess(s.cmd.Process, s.done, 10*time.Second)
	if s.ownVersions {
		os.RemoveAll(s.VersionsDir)
	}
	return nil
}

// Log returns what the server printed so far.
func (s *S3Server) Log() string { return s.out.String() }

// Client returns an SDK client for the server, with path-style addressing.
func (s *S3Server) Client() *s3.Client { return s.client(s.Endpoint) }

func (s *S3Server) client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       s.Region,
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// CreateBucket creates a bucket through the S3 API: versitygw keeps a
// bucket's ACL in extended attributes of its folder, so a folder made by hand
// answers 500 on writes.
func (s *S3Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %q: %v", name, err)
	}
}

// CreateBucketVersioned creates a bucket and enables its versioning, on a
// server started with versioning.
func (s *S3Server) CreateBucketVersioned(t testing.TB, name string) {
	t.Helper()
	s.CreateBucket(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.Client().PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(name),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		t.Fatalf("enable versioning of bucket %q: %v", name, err)
	}
}

// CreateBucketLocked creates a bucket with Object Lock enabled, which
// versions it too, on a server started with versioning.
func (s *S3Server) CreateBucketLocked(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(true)})
	if err != nil {
		t.Fatalf("create bucket %q with Object Lock: %v", name, err)
	}
}

// freePort returns a loopback address that was free a moment ago.
func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// SyncBuffer collects a process's output while it runs.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// S3Counter is a reverse proxy in front of an S3Server that counts the
// requests it forwards by S3 operation, and can make chosen ones fail. It
// understands path-style requests only, which is what S3Server serves.
type S3Counter struct {
	Endpoint string // http://127.0.0.1:PORT, to use instead of the server's

	srv *S3Server

	mu     sync.Mutex
	counts map[string]int
	inject func(op string, r *http.Request) (status int, fail bool)
}

// Counting starts a counting proxy in front of the server, for the duration
// of the test.
func (s *S3Server) Counting(t testing.TB) *S3Counter {
	t.Helper()
	target, err := url.Parse(s.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			// SigV4 signs the Host header: the server must see the one
			// the client signed, that is the proxy's.
			pr.Out.Host = pr.In.Host
		},
		Transport: tr,
		// Requests that a test cancels on purpose are not news.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	c := &S3Counter{srv: s, counts: make(map[string]int)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := s3Operation(r)
		c.mu.Lock()
		c.counts[op]++
		status, fail := 0, false
		if c.inject != nil {
			status, fail = c.inject(op, r)
		}
		c.mu.Unlock()
		if fail {
			writeS3Error(w, r, status)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	c.Endpoint = srv.URL
	t.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	return c
}

// Client returns an SDK client that goes through the proxy.
func (c *S3Counter) Client() *s3.Client { return c.srv.client(c.Endpoint) }

// Counts returns how many requests of each operation the proxy received
// since it started or since Reset, failed ones and SDK retries included.
func (c *S3Counter) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]int, len(c.counts))
	for op, n := range c.counts {
		m[op] = n
	}
	return m
}

// Reset sets every count to zero.
func (c *S3Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.counts)
}

// Inject makes the proxy ask fn about every request, with the request's
// operation, before forwarding it: when fn says fail, the client gets an S3
// error with that status instead. fn runs with the counter locked, one
// request at a time, and must not call the counter. A nil fn clears it.
func (c *S3Counter) Inject(fn func(op string, r *http.Request) (status int, fail bool)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inject = fn
}

// FailAfter lets n requests of op through and fails every later one with
// status until Clear. The fault persists so that SDK retries meet it too:
// FailAfter("CopyObject", 2, 500) makes the third CopyObject call fail
// whatever the retry policy.
func (c *S3Counter) FailAfter(op string, n, status int) {
	seen := 0
	c.Inject(func(o string, _ *http.Request) (int, bool) {
		if o != op {
			return 0, false
		}
		seen++
		return status, seen > n
	})
}

// Clear removes any fault that Inject or FailAfter set.
func (c *S3Counter) Clear() { c.Inject(nil) }

// s3Operation names the S3 operation of a path-style request, as the S3 API
// reference does; an unknown one is named by its method and level.
func s3Operation(r *http.Request) string {
	q := r.URL.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	copySource := r.Header.Get("X-Amz-Copy-Source") != ""
	switch {
	case bucket == "":
		if r.Method == http.MethodGet {
			return "ListBuckets"
		}
		return r.Method + " Service"
	case key == "":
		switch r.Method {
		case http.MethodGet:
			switch {
			case q.Get("list-type") == "2":
				return "ListObjectsV2"
			case has("uploads"):
				return "ListMultipartUploads"
			case has("versions"):
				return "ListObjectVersions"
			case has("location"):
				return "GetBucketLocation"
			case has("versioning"):
				return "GetBucketVersioning"
			case has("object-lock"):
				return "GetObjectLockConfiguration"
			case len(q) == 0:
				return "ListObjects"
			}
		case http.MethodHead:
			return "HeadBucket"
		case http.MethodPut:
			if len(q) == 0 {
				return "CreateBucket"
			}
		case http.MethodDelete:
			if len(q) == 0 {
				return "DeleteBucket"
			}
		case http.MethodPost:
			if has("delete") {
				return "DeleteObjects"
			}
		}
		return r.Method + " Bucket"
	}
	switch r.Method {
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return "ListParts"
		case has("tagging"):
			return "GetObjectTagging"
		case has("attributes"):
			return "GetObjectAttributes"
		case !has("acl"):
			return "GetObject"
		}
	case http.MethodHead:
		return "HeadObject"
	case http.MethodPut:
		switch {
		case has("partNumber") && has("uploadId") && copySource:
			return "UploadPartCopy"
		case has("partNumber") && has("uploadId"):
			return "UploadPart"
		case has("legal-hold"):
			return "PutObjectLegalHold"
		case has("tagging"), has("acl"), has("retention"):
		case copySource:
			return "CopyObject"
		default:
			return "PutObject"
		}
	case http.MethodPost:
		switch {
		case has("uploads"):
			return "CreateMultipartUpload"
		case has("uploadId"):
			return "CompleteMultipartUpload"
		}
	case http.MethodDelete:
		switch {
		case has("uploadId"):
			return "AbortMultipartUpload"
		case !has("tagging"):
			return "DeleteObject"
		}
	}
	return r.Method + " Object"
}

// writeS3Error answers as S3 does when it fails, with an error code that
// the SDK recognises for the status: 5xx ones are retried.
func writeS3Error(w http.ResponseWriter, r *http.Request, status int) {
	code := map[int]string{
		http.StatusBadRequest:                   "InvalidRequest",
		http.StatusForbidden:                    "AccessDenied",
		http.StatusNotFound:                     "NoSuchKey",
		http.StatusRequestEntityTooLarge:        "EntityTooLarge",
		http.StatusRequestedRangeNotSatisfiable: "InvalidRange",
		http.StatusInternalServerError:          "InternalError",
		http.StatusServiceUnavailable:           "SlowDown",
	}[status]
	if code == "" {
		code = "InjectedFault"
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>injected by the test</Message><Resource>%s</Resource></Error>", code, r.URL.EscapedPath())
	}
}
