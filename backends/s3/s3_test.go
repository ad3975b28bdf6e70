package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/backends/backendtest"
	"github.com/bassareggiana/faldone/tests/harness"
)

// testBucket holds the prefixes of the tests that share it.
const testBucket = "faldone-test"

// partSize is the smallest part S3 takes, so that tests reach multipart
// uploads with few bytes.
const partSize = 5 << 20

// shared is the versitygw that the tests of this package share, started by
// the first one that needs it and stopped by TestMain.
var shared struct {
	once sync.Once
	srv  *harness.S3Server
	dir  string
	err  error
}

// sharedVersioned is a second versitygw, with versioning, for the tests of
// versioned and locked buckets.
var sharedVersioned struct {
	once sync.Once
	srv  *harness.S3Server
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Close()
		os.RemoveAll(shared.dir)
	}
	if sharedVersioned.srv != nil {
		sharedVersioned.srv.Close()
		os.RemoveAll(sharedVersioned.dir)
	}
	os.Exit(code)
}

// versionedServer returns the shared server with versioning.
func versionedServer(t *testing.T) *harness.S3Server {
	t.Helper()
	sv := &sharedVersioned
	sv.once.Do(func() {
		sv.dir, sv.err = os.MkdirTemp("", "faldone-s3v-")
		if sv.err != nil {
			return
		}
		sv.srv, sv.err = harness.NewS3(sv.dir, harness.WithVersioning(""))
	})
	if sv.err != nil {
		t.Fatal(sv.err)
	}
	return sv.srv
}

// newVersioned returns a backend at the root of a new versioned bucket
// (locked: with Object Lock) of the versioned server, through a counter.
func newVersioned(t *testing.T, locked bool) (*Backend, *harness.S3Counter) {
	t.Helper()
	srv := versionedServer(t)
	bucket := uniqueName("ver")
	if locked {
		srv.CreateBucketLocked(t, bucket)
	} else {
		srv.CreateBucketVersioned(t, bucket)
	}
	c := srv.Counting(t)
	b, err := New(t.Context(), Config{
		Bucket:    bucket,
		Endpoint:  c.Endpoint,
		Region:    srv.Region,
		PathStyle: true,
		AccessKey: srv.AccessKey,
		SecretKey: srv.SecretKey,
		PartSize:  partSize,
	})
	if err != nil {
		t.Fatal(err)
	}
	// As Check does at start.
	if _, _, err := b.learn(t.Context()); err != nil {
		t.Fatal(err)
	}
	return b, c
}

// server returns the shared server, with testBucket created.
func server(t *testing.T) *harness.S3Server {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "faldone-s3-")
		if shared.err != nil {
			return
		}
		shared.srv, shared.err = harness.NewS3(shared.dir)
		if shared.err != nil {
			return
		}
		shared.err = createBucket(shared.srv.Client(), testBucket)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv
}

func createBucket(c *awss3.Client, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(name)})
	return err
}

// uniqueName returns a name that no other test uses, fit for a bucket.
func uniqueName(kind string) string {
	return kind + "-" + strings.ToLower(rand.Text()[:12])
}

// newBackend returns a backend on the shared server, under a prefix of its
// own in testBucket, with the smallest part size; opts adjust its Config.
func newBackend(t *testing.T, opts ...func(*Config)) *Backend {
	t.Helper()
	srv := server(t)
	cfg := Config{
		Bucket:    testBucket,
		Prefix:    uniqueName("t"),
		Endpoint:  srv.Endpoint,
		Region:    srv.Region,
		PathStyle: true,
		AccessKey: srv.AccessKey,
		SecretKey: srv.SecretKey,
		PartSize:  partSize,
	}
	for _, o := range opts {
		o(&cfg)
	}
	b, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// through sends the backend's requests through the counter.
func through(c *harness.S3Counter) func(*Config) {
	return func(cfg *Config) { cfg.Endpoint = c.Endpoint }
}

func TestConformance(t *testing.T) {
	t.Run("prefix", func(t *testing.T) {
		backendtest.Run(t, func(t *testing.T) backends.Backend { return newBackend(t) })
	})
	// At the root of a bucket of its own, and through the counting proxy,
	// which must pass every name as the client signed it.
	t.Run("root", func(t *testing.T) {
		backendtest.Run(t, func(t *testing.T) backends.Backend {
			srv := server(t)
			bucket := uniqueName("root")
			if err := createBucket(srv.Client(), bucket); err != nil {
				t.Fatal(err)
			}
			return newBackend(t, through(srv.Counting(t)), func(cfg *Config) {
				cfg.Bucket, cfg.Prefix = bucket, ""
			})
		})
	})
	// A versioned bucket keeps content as versions.
	t.Run("versioned", func(t *testing.T) {
		backendtest.Run(t, func(t *testing.T) backends.Backend {
			b, _ := newVersioned(t, false)
			if got := b.KeepMode(); got != modeVersioned {
				t.Fatalf("KeepMode of a versioned bucket = %q", got)
			}
			return b
		})
	})
}

// putObject writes an object with the SDK, as another tool would.
func putObject(t *testing.T, key, content string) {
	t.Helper()
	_, err := server(t).Client().PutObject(t.Context(), &awss3.PutObjectInput{
		Bucket: aws.String(testBucket),
		Key:    aws.String(key),
		Body:   strings.NewReader(content),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// seedFiles writes files straight into versitygw's folder for the bucket,
// which it lists like any object: far faster than uploading them.
func seedFiles(t *testing.T, b *Backend, paths []string) {
	t.Helper()
	root := filepath.Join(server(t).Dir, testBucket, filepath.FromSlash(b.prefix))
	for _, p := range paths {
		name := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// put stores content at p through the backend.
func put(t *testing.T, b *Backend, p string, content []byte) backends.Entry {
	t.Helper()
	u, err := b.Create(t.Context(), p, int64(len(content)), backends.CreateOptions{})
	if err != nil {
		t.Fatalf("Create(%q): %v", p, err)
	}
	if _, err := u.Write(content); err != nil {
		t.Fatalf("Write(%q): %v", p, err)
	}
	e, err := u.Commit(t.Context())
	if err != nil {
		t.Fatalf("Commit(%q): %v", p, err)
	}
	return e
}

func read(t *testing.T, b *Backend, p string) []byte {
	t.Helper()
	obj, err := b.Open(t.Context(), p, nil)
	if err != nil {
		t.Fatalf("Open(%q): %v", p, err)
	}
	defer obj.Body.Close()
	content, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatalf("reading %q: %v", p, err)
	}
	return content
}

// listAll returns the keys of every entry of a listing, and its pages.
func listAll(t *testing.T, b *Backend, dir string, recursive bool) (keys []string, pages int) {
	t.Helper()
	opts := backends.ListOptions{Recursive: recursive}
	for {
		fallbacks := b.listFallbacks.Load()
		page, err := b.List(t.Context(), dir, opts)
		if err != nil {
			t.Fatalf("List(%q, %+v): %v", dir, opts, err)
		}
		// versitygw's listings are of the kind the scanner reads itself.
		if n := b.listFallbacks.Load() - fallbacks; n != 0 {
			t.Errorf("List(%q, %+v): %d pages left to the SDK's decoder", dir, opts, n)
		}
		pages++
		if len(page.Entries) > pageSize {
			t.Errorf("List(%q, %+v): a page of %d entries", dir, opts, len(page.Entries))
		}
		for _, e := range page.Entries {
			keys = append(keys, entryKey(e))
		}
		if page.Next == "" {
			return keys, pages
		}
		opts.Token = page.Next
	}
}

// multipartUploads returns the keys of the multipart uploads in progress
// under the backend's prefix.
func multipartUploads(t *testing.T, b *Backend) []string {
	t.Helper()
	out, err := server(t).Client().ListMultipartUploads(context.Background(), &awss3.ListMultipartUploadsInput{
		Bucket: aws.String(testBucket),
		Prefix: aws.String(b.prefix),
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

func randomBytes(n int) []byte {
	p := make([]byte, n)
	rand.Read(p)
	return p
}

// TestRequests counts the requests that each operation sends to S3.
func TestRequests(t *testing.T) {
	content := randomBytes(100_000)
	var told backends.Entry // what a setup looked up, for its op to tell
	tests := []struct {
		name  string
		setup func(t *testing.T, b *Backend)
		op    func(t *testing.T, b *Backend)
		want  map[string]int
	}{
		{
			name: "Depth-1 listing of 2,500 entries",
			setup: func(t *testing.T, b *Backend) {
				var paths []string
				for i := range 2500 {
					paths = append(paths, fmt.Sprintf("anno/PC-%04d.pdf", i))
				}
				seedFiles(t, b, paths)
			},
			op: func(t *testing.T, b *Backend) {
				keys, _ := listAll(t, b, "anno", false)
				if len(keys) != 2500 || keys[0] != "anno/PC-0000.pdf" || keys[2499] != "anno/PC-2499.pdf" {
					t.Errorf("listed %d entries, from %q to %q", len(keys), keys[0], keys[len(keys)-1])
				}
			},
			want: map[string]int{"ListObjectsV2": 3},
		},
		{
			name:  "Open of a range",
			setup: func(t *testing.T, b *Backend) { put(t, b, "f.bin", content) },
			op: func(t *testing.T, b *Backend) {
				obj, err := b.Open(t.Context(), "f.bin", &backends.Range{Start: 1000, Length: 500})
				if err != nil {
					t.Fatal(err)
				}
				defer obj.Body.Close()
				got, err := io.ReadAll(obj.Body)
				if err != nil || obj.Start != 1000 || obj.Length != 500 || obj.Size != int64(len(content)) || !bytes.Equal(got, content[1000:1500]) {
					t.Errorf("Open of 500 bytes at 1000: start %d, length %d, size %d, %d bytes read (%v)", obj.Start, obj.Length, obj.Size, len(got), err)
				}
			},
			want: map[string]int{"GetObject": 1},
		},
		{
			name:  "Stat of a file",
			setup: func(t *testing.T, b *Backend) { put(t, b, "f.bin", content) },
			op: func(t *testing.T, b *Backend) {
				if _, err := b.Stat(t.Context(), "f.bin"); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]int{"HeadObject": 1},
		},
		{
			name:  "Stat of a folder",
			setup: func(t *testing.T, b *Backend) { seedFiles(t, b, []string{"d/f.txt"}) },
			op: func(t *testing.T, b *Backend) {
				if e, err := b.Stat(t.Context(), "d"); err != nil || !e.IsDir {
					t.Fatalf("Stat = %+v, %v", e, err)
				}
			},
			want: map[string]int{"HeadObject": 1, "ListObjectsV2": 1},
		},
		{
			name: "small upload in a folder",
			setup: func(t *testing.T, b *Backend) {
				if err := b.Mkdir(t.Context(), "d"); err != nil {
					t.Fatal(err)
				}
			},
			op:   func(t *testing.T, b *Backend) { put(t, b, "d/f.bin", content) },
			want: map[string]int{"ListObjectsV2": 2, "PutObject": 1},
		},
		{
			name: "small upload of unknown size at the root",
			op: func(t *testing.T, b *Backend) {
				u, err := b.Create(t.Context(), "f.bin", -1, backends.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				u.Write(content)
				if _, err := u.Commit(t.Context()); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]int{"ListObjectsV2": 1, "PutObject": 1},
		},
		{
			name: "upload above the part size",
			op: func(t *testing.T, b *Backend) {
				big := randomBytes(2*partSize + 1000)
				e := put(t, b, "big.bin", big)
				s, err := b.Stat(t.Context(), "big.bin")
				if err != nil || s != e {
					t.Errorf("Stat = %+v, %v; Commit gave %+v", s, err, e)
				}
				if !bytes.Equal(read(t, b, "big.bin"), big) {
					t.Error("the multipart upload stored other bytes")
				}
			},
			// The HeadObject finds the time; the other one and GetObject are the test's.
			want: map[string]int{"ListObjectsV2": 1, "CreateMultipartUpload": 1, "UploadPart": 3,
				"CompleteMultipartUpload": 1, "HeadObject": 2, "GetObject": 1},
		},
		{
			name: "Mkdir",
			op: func(t *testing.T, b *Backend) {
				if err := b.Mkdir(t.Context(), "d"); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]int{"HeadObject": 1, "ListObjectsV2": 1, "PutObject": 1},
		},
		{
			name: "Copy",
			setup: func(t *testing.T, b *Backend) {
				put(t, b, "f.bin", content)
				seedFiles(t, b, []string{"d/x.txt"})
			},
			op: func(t *testing.T, b *Backend) {
				if _, err := b.Copy(t.Context(), "f.bin", "d/g.bin", backends.CopyOptions{}); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]int{"HeadObject": 1, "ListObjectsV2": 2, "CopyObject": 1},
		},
		{
			name: "small upload told its folder and no folder at its name",
			setup: func(t *testing.T, b *Backend) {
				if err := b.Mkdir(t.Context(), "d"); err != nil {
					t.Fatal(err)
				}
			},
			op: func(t *testing.T, b *Backend) {
				u, err := b.Create(t.Context(), "d/f.bin", int64(len(content)), backends.CreateOptions{ParentExists: true, NoDir: true})
				if err != nil {
					t.Fatal(err)
				}
				u.Write(content)
				if _, err := u.Commit(t.Context()); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]int{"PutObject": 1},
		},
		{
			name: "Copy told the source's Stat and the destination",
			setup: func(t *testing.T, b *Backend) {
				put(t, b, "f.bin", content)
				seedFiles(t, b, []string{"d/x.txt"})
				var err error
				if told, err = b.Stat(t.Context(), "f.bin"); err != nil {
					t.Fatal(err)
				}
			},
			op: func(t *testing.T, b *Backend) {
				if _, err := b.Copy(t.Context(), "f.bin", "d/g.bin", backends.CopyOptions{Source: &told, ParentExists: true, NoDir: true}); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]int{"CopyObject": 1},
		},
		{
			name: "Copy told a listed source: its headers are read",
			setup: func(t *testing.T, b *Backend) {
				put(t, b, "f.bin", content)
				page, err := b.List(t.Context(), "", backends.ListOptions{})
				if err != nil || len(page.Entries) != 1 {
					t.Fatalf("List: %v, %v", page.Entries, err)
				}
				told = page.Entries[0]
			},
			op: func(t *testing.T, b *Backend) {
				if _, err := b.Copy(t.Context(), "f.bin", "g.bin", backends.CopyOptions{Source: &told, NoDir: true}); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]int{"HeadObject": 1, "CopyObject": 1},
		},
		{
			name:  "Probe",
			setup: func(t *testing.T, b *Backend) { seedFiles(t, b, []string{"d/f.bin", "d/f.bin.bak", "d/f.bin2/x"}) },
			op: func(t *testing.T, b *Backend) {
				pr, err := b.Probe(t.Context(), "d/f.bin")
				if err != nil || pr.File == nil || pr.File.Size != int64(len("d/f.bin")) || pr.Dir || !pr.Parent {
					t.Errorf("Probe = %+v, %v; want the file and the parent", pr, err)
				}
			},
			want: map[string]int{"ListObjectsV2": 1},
		},
		{
			name: "Probe of a new name beside files of its stem",
			setup: func(t *testing.T, b *Backend) {
				seedFiles(t, b, []string{"d/tavola.bak", "d/tavola.dwg", "d/tavola.dwl"})
			},
			op: func(t *testing.T, b *Backend) {
				pr, err := b.Probe(t.Context(), "d/tavola.tmp")
				if err != nil || pr.File != nil || pr.Dir || !pr.Parent {
					t.Errorf("Probe = %+v, %v; want nothing there, in a folder seen", pr, err)
				}
			},
			want: map[string]int{"ListObjectsV2": 1},
		},
		{
			name: "Probe behind more names of its stem than a page",
			setup: func(t *testing.T, b *Backend) {
				var names []string
				for i := range probeKeys + 1 {
					names = append(names, fmt.Sprintf("d/f.%03d", i))
				}
				seedFiles(t, b, append(names, "d/f.zip/x"))
			},
			op: func(t *testing.T, b *Backend) {
				pr, err := b.Probe(t.Context(), "d/f.zip")
				if err != nil || pr.File != nil || !pr.Dir || !pr.Parent {
					t.Errorf("Probe = %+v, %v; want the folder and the parent", pr, err)
				}
			},
			want: map[string]int{"ListObjectsV2": 2},
		},
		{
			name: "Probe behind more names than a page",
			setup: func(t *testing.T, b *Backend) {
				names := []string{"d/f/x"}
				for i := range probeKeys + 1 {
					names = append(names, fmt.Sprintf("d/f.%03d", i))
				}
				seedFiles(t, b, names)
			},
			op: func(t *testing.T, b *Backend) {
				pr, err := b.Probe(t.Context(), "d/f")
				if err != nil || pr.File != nil || !pr.Dir || !pr.Parent {
					t.Errorf("Probe = %+v, %v; want the folder and the parent", pr, err)
				}
			},
			want: map[string]int{"ListObjectsV2": 2},
		},
		{
			name: "Delete of files and folders",
			setup: func(t *testing.T, b *Backend) {
				seedFiles(t, b, []string{"a.txt", "b.txt", "d/e/f.txt"})
			},
			op: func(t *testing.T, b *Backend) {
				if err := b.Delete(t.Context(), []string{"a.txt", "b.txt", "d/e/f.txt", "d/e/", "d/"}); err != nil {
					t.Fatal(err)
				}
				if keys, _ := listAll(t, b, "", true); len(keys) != 0 {
					t.Errorf("left %v", keys)
				}
			},
			// One listing per folder, which finds no marker to delete;
			// the last listing is the test's.
			want: map[string]int{"DeleteObjects": 1, "ListObjectsV2": 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := server(t).Counting(t)
			b := newBackend(t, through(c))
			if tt.setup != nil {
				tt.setup(t, b)
			}
			// The bucket's versioning is learned once, as Check at start does.
			if _, _, err := b.learn(t.Context()); err != nil {
				t.Fatal(err)
			}
			c.Reset()
			tt.op(t, b)
			if got := c.Counts(); !maps.Equal(got, tt.want) {
				t.Errorf("requests %v, want %v", got, tt.want)
			}
		})
	}
}

// TestUploadFailures ends a 20 MiB upload half-way in every way there is:
// the old content stays and no multipart upload is left.
func TestUploadFailures(t *testing.T) {
	content := randomBytes(20 << 20)
	tests := []struct {
		name string
		// end ends the upload after half the content, given the cancel
		// function of Create's context, and returns the error that ended it.
		end  func(t *testing.T, u backends.Upload, cancel context.CancelFunc) error
		want error
	}{
		{
			name: "Abort",
			end: func(t *testing.T, u backends.Upload, _ context.CancelFunc) error {
				if err := u.Abort(t.Context()); err != nil {
					t.Errorf("Abort: %v", err)
				}
				_, err := u.Commit(t.Context())
				return err
			},
			want: backends.ErrUploadFinished,
		},
		{
			name: "cancelled context",
			end: func(t *testing.T, u backends.Upload, cancel context.CancelFunc) error {
				cancel()
				// The failing Write or Commit waits for the transfer manager
				// to abort: no Abort is needed for the parts to go.
				_, err := u.Write(content[10<<20:])
				if err == nil {
					_, err = u.Commit(t.Context())
				}
				return err
			},
			want: context.Canceled,
		},
		{
			name: "short Commit",
			end: func(t *testing.T, u backends.Upload, _ context.CancelFunc) error {
				_, err := u.Commit(t.Context())
				return err
			},
			want: backends.ErrIncomplete,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t)
			old := put(t, b, "tavola.dwg", []byte("versione 1"))
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			u, err := b.Create(ctx, "tavola.dwg", int64(len(content)), backends.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := u.Write(content[:10<<20]); err != nil {
				t.Fatal(err)
			}
			// The first part is on its way: a multipart upload is open.
			waitFor(t, func() bool { return len(multipartUploads(t, b)) == 1 })
			wantErr(t, tt.end(t, u, cancel), tt.want, "ending the upload")
			if got := multipartUploads(t, b); len(got) != 0 {
				t.Errorf("multipart uploads left: %v", got)
			}
			if got := read(t, b, "tavola.dwg"); string(got) != "versione 1" {
				t.Errorf("content after the failed upload: %d bytes", len(got))
			}
			if e, err := b.Stat(t.Context(), "tavola.dwg"); err != nil || e.ETag != old.ETag {
				t.Errorf("Stat after the failed upload = %+v, %v; want %+v", e, err, old)
			}
			if err := u.Abort(t.Context()); err != nil {
				t.Errorf("Abort after the end: %v", err)
			}
		})
	}
}

// TestUploadPartFails makes S3 fail the second part for good: the upload
// fails as unavailable and leaves nothing behind.
func TestUploadPartFails(t *testing.T) {
	c := server(t).Counting(t)
	b := newBackend(t, through(c))
	c.FailAfter("UploadPart", 1, 500)
	u, err := b.Create(t.Context(), "scansione.tif", -1, backends.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	content := randomBytes(partSize)
	var werr error
	for range 4 {
		if _, werr = u.Write(content); werr != nil {
			break
		}
	}
	_, err = u.Commit(t.Context())
	if werr != nil {
		err = werr
	}
	wantErr(t, err, backends.ErrUnavailable, "upload whose part fails")
	c.Clear()
	if got := multipartUploads(t, b); len(got) != 0 {
		t.Errorf("multipart uploads left: %v", got)
	}
	if _, err := b.Stat(t.Context(), "scansione.tif"); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Stat after the failed upload: %v", err)
	}
	if n := c.Counts()["AbortMultipartUpload"]; n == 0 {
		t.Error("no AbortMultipartUpload")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestImplicitFolders works on keys that another tool wrote, without
// folder markers.
func TestImplicitFolders(t *testing.T) {
	ctx := t.Context()
	b := newBackend(t)
	for _, k := range []string{
		"pratiche/2019/PC-1/tavola.dwg",
		"pratiche/2019/PC-1/relazione.pdf",
		"pratiche/2019/PC-2/foto.jpg",
		"pratiche/leggimi.txt",
	} {
		putObject(t, b.prefix+k, k)
	}
	for _, p := range []string{"pratiche", "pratiche/2019", "pratiche/2019/PC-1"} {
		if e, err := b.Stat(ctx, p); err != nil || !e.IsDir || e.Path != p {
			t.Errorf("Stat(%q) = %+v, %v; want a folder", p, e, err)
		}
	}
	checkKeys := func(dir string, recursive bool, want ...string) {
		t.Helper()
		if got, _ := listAll(t, b, dir, recursive); !slices.Equal(got, want) {
			t.Errorf("List(%q, recursive %t) = %q, want %q", dir, recursive, got, want)
		}
	}
	checkKeys("", false, "pratiche/")
	checkKeys("pratiche", false, "pratiche/2019/", "pratiche/leggimi.txt")
	checkKeys("pratiche", true, "pratiche/2019/", "pratiche/2019/PC-1/", "pratiche/2019/PC-1/relazione.pdf",
		"pratiche/2019/PC-1/tavola.dwg", "pratiche/2019/PC-2/", "pratiche/2019/PC-2/foto.jpg", "pratiche/leggimi.txt")
	checkKeys("pratiche/2019/PC-2", true, "pratiche/2019/PC-2/foto.jpg")

	if got := read(t, b, "pratiche/2019/PC-1/tavola.dwg"); string(got) != "pratiche/2019/PC-1/tavola.dwg" {
		t.Errorf("read %q", got)
	}
	_, err := b.Open(ctx, "pratiche/2019", nil)
	wantErr(t, err, backends.ErrIsDir, "Open of an implicit folder")
	wantErr(t, b.Mkdir(ctx, "pratiche/2019"), backends.ErrExist, "Mkdir of an implicit folder")
	_, err = b.Create(ctx, "pratiche/2019", 0, backends.CreateOptions{})
	wantErr(t, err, backends.ErrIsDir, "Create over an implicit folder")
	if _, err := b.Copy(ctx, "pratiche/2019/PC-1/tavola.dwg", "pratiche/2019/PC-2/tavola.dwg", backends.CopyOptions{}); err != nil {
		t.Errorf("Copy into an implicit folder: %v", err)
	}
	put(t, b, "pratiche/2019/PC-2/nuovo.pdf", []byte("nuovo"))

	var de *backends.DeleteError
	if err := b.Delete(ctx, []string{"pratiche/2019/PC-2/"}); !errors.As(err, &de) || !errors.Is(de.Failed["pratiche/2019/PC-2/"], backends.ErrExist) {
		t.Errorf("Delete of a full implicit folder: %v", err)
	}
	err = b.Delete(ctx, []string{"pratiche/2019/PC-2/foto.jpg", "pratiche/2019/PC-2/tavola.dwg", "pratiche/2019/PC-2/nuovo.pdf", "pratiche/2019/PC-2/"})
	if err != nil {
		t.Errorf("Delete of an implicit folder and its files: %v", err)
	}
	_, err = b.Stat(ctx, "pratiche/2019/PC-2")
	wantErr(t, err, backends.ErrNotFound, "Stat of a deleted implicit folder")
	checkKeys("pratiche/2019", false, "pratiche/2019/PC-1/")
}

// TestRecursivePages lists a tree whose 1,500 folders have no markers: the
// folders the listing adds make three times as many entries as keys, and
// pages must still hold 1,000 entries at most, in order, each once.
func TestRecursivePages(t *testing.T) {
	c := server(t).Counting(t)
	b := newBackend(t, through(c))
	var seed, want []string
	want = append(want, "archivio/")
	for i := range 1500 {
		d := fmt.Sprintf("archivio/PC-%04d/", i)
		seed = append(seed, d+"tavola.dwg")
		want = append(want, d, d+"tavola.dwg")
	}
	seedFiles(t, b, seed)
	c.Reset()
	got, pages := listAll(t, b, "", true)
	if !slices.Equal(got, want) {
		t.Errorf("recursive List returned %d keys, want %d", len(got), len(want))
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("first difference at %d: %q, want %q", i, got[i], want[i])
				break
			}
		}
	}
	if pages != 4 || c.Counts()["ListObjectsV2"] != 4 {
		t.Errorf("%d pages, %v requests; want 4 of each", pages, c.Counts())
	}
	if got, _ := listAll(t, b, "archivio", false); len(got) != 1500 {
		t.Errorf("direct List returned %d folders, want 1500", len(got))
	}
}

// TestMultipartCopy copies a file larger than the copy threshold, made
// small, in parts; and one whose second part fails, which must leave
// neither the copy nor its upload.
func TestMultipartCopy(t *testing.T) {
	c := server(t).Counting(t)
	b := newBackend(t, through(c))
	b.copyThreshold, b.copyPartSize = partSize, partSize
	content := randomBytes(2*partSize + 12345)
	put(t, b, "grande.tif", content)

	c.Reset()
	e, err := b.Copy(t.Context(), "grande.tif", "copia.tif", backends.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"HeadObject": 2, "ListObjectsV2": 1, "CreateMultipartUpload": 1,
		"UploadPartCopy": 3, "CompleteMultipartUpload": 1}
	if got := c.Counts(); !maps.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
	if s, err := b.Stat(t.Context(), "copia.tif"); err != nil || s != e {
		t.Errorf("Stat = %+v, %v; Copy gave %+v", s, err, e)
	}
	if !bytes.Equal(read(t, b, "copia.tif"), content) {
		t.Error("the copy holds other bytes")
	}

	c.FailAfter("UploadPartCopy", 1, 500)
	_, err = b.Copy(t.Context(), "grande.tif", "fallita.tif", backends.CopyOptions{})
	wantErr(t, err, backends.ErrUnavailable, "Copy whose part fails")
	c.Clear()
	if got := multipartUploads(t, b); len(got) != 0 {
		t.Errorf("multipart uploads left: %v", got)
	}
	_, err = b.Stat(t.Context(), "fallita.tif")
	wantErr(t, err, backends.ErrNotFound, "Stat of a failed copy")
}

func TestCopyRanges(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		size, partSize int64
		want           []string // all of them, or the first and the last
		n              int
	}{
		{1, 10, []string{"bytes=0-0"}, 1},
		{10, 10, []string{"bytes=0-9"}, 1},
		{11, 10, []string{"bytes=0-9", "bytes=10-10"}, 2},
		{25, 10, []string{"bytes=0-9", "bytes=10-19", "bytes=20-24"}, 3},
		{6 * gib, copyPartSize, []string{"bytes=0-536870911", "bytes=5905580032-6442450943"}, 12},
		// 5 TiB, the largest object: parts grow to stay within 10,000.
		{5 << 40, copyPartSize, []string{"bytes=0-549755813", "bytes=5497008384186-5497558138879"}, 10000},
		{10001, 1, []string{"bytes=0-1", "bytes=10000-10000"}, 5001},
	}
	for _, tt := range tests {
		got := copyRanges(tt.size, tt.partSize)
		if len(got) != tt.n {
			t.Errorf("copyRanges(%d, %d): %d parts, want %d", tt.size, tt.partSize, len(got), tt.n)
			continue
		}
		ends := []string{got[0], got[len(got)-1]}
		if len(tt.want) > 2 || tt.n == 1 {
			ends = got
		}
		if !slices.Equal(ends, tt.want) {
			t.Errorf("copyRanges(%d, %d) = %v…, want %v", tt.size, tt.partSize, ends, tt.want)
		}
		// The parts are contiguous and cover the size.
		var next int64
		for _, r := range got {
			var from, to int64
			fmt.Sscanf(r, "bytes=%d-%d", &from, &to)
			if from != next || to < from {
				t.Errorf("copyRanges(%d, %d): %s after %d", tt.size, tt.partSize, r, next)
				break
			}
			next = to + 1
		}
		if next != tt.size {
			t.Errorf("copyRanges(%d, %d) covers %d bytes", tt.size, tt.partSize, next)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		cfg      func(*Config)
		want     error
		mentions string
	}{
		{"ok", func(*Config) {}, nil, ""},
		{"missing bucket", func(c *Config) { c.Bucket = "manca-questo" }, backends.ErrNotFound, `"manca-questo" does not exist`},
		{"wrong secret", func(c *Config) { c.SecretKey = "sbagliata" }, backends.ErrAccessDenied, `"` + testBucket + `"`},
		{"unreachable", func(c *Config) { c.Endpoint = "http://127.0.0.1:1" }, backends.ErrUnavailable, "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t, tt.cfg)
			err := b.Check(t.Context())
			if tt.want == nil {
				if err != nil {
					t.Errorf("Check: %v", err)
				}
				return
			}
			t.Logf("Check: %v", err)
			if !errors.Is(err, tt.want) || !strings.Contains(fmt.Sprint(err), tt.mentions) {
				t.Errorf("Check: %v; want %v, mentioning %s", err, tt.want, tt.mentions)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		prefix string // "" when New must fail
	}{
		{"no prefix", Config{Bucket: "b", Endpoint: "http://x"}, ""},
		{"prefix", Config{Bucket: "b", Prefix: "guastalla", Endpoint: "http://x"}, "guastalla/"},
		{"prefix with slash", Config{Bucket: "b", Prefix: "a/b/", Endpoint: "http://x"}, "a/b/"},
		{"no bucket", Config{Endpoint: "http://x"}, "!"},
		{"bad prefix", Config{Bucket: "b", Prefix: "a/../b", Endpoint: "http://x"}, "!"},
		{"small parts", Config{Bucket: "b", PartSize: 1 << 20, Endpoint: "http://x"}, "!"},
		{"key without secret", Config{Bucket: "b", AccessKey: "k", Endpoint: "http://x"}, "!"},
		{"endpoint without scheme", Config{Bucket: "b", Endpoint: "s3.example:9000"}, "!"},
	}
	for _, tt := range tests {
		b, err := New(t.Context(), tt.cfg)
		switch {
		case tt.prefix == "!" && err == nil:
			t.Errorf("%s: New succeeded", tt.name)
		case tt.prefix != "!" && err != nil:
			t.Errorf("%s: New: %v", tt.name, err)
		case err == nil && b.prefix != tt.prefix:
			t.Errorf("%s: prefix %q, want %q", tt.name, b.prefix, tt.prefix)
		}
	}
}

func TestHTTPRange(t *testing.T) {
	tests := []struct {
		r    *backends.Range
		want string
	}{
		{nil, ""},
		{&backends.Range{Start: 0, Length: 10}, "bytes=0-9"},
		{&backends.Range{Start: 90, Length: -1}, "bytes=90-"},
		{&backends.Range{Start: -1, Length: 10}, "bytes=-10"},
		{&backends.Range{Start: 5, Length: 1<<63 - 1}, "bytes=5-"},
	}
	for _, tt := range tests {
		if got := aws.ToString(httpRange(tt.r)); got != tt.want {
			t.Errorf("httpRange(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
}

func TestClassify(t *testing.T) {
	b := &Backend{bucket: "archivio", endpoint: "http://s3.example"}
	status := func(code int) error {
		return &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: code}},
			Err:      errors.New("answer"),
		}
	}
	api := func(code string) error { return &smithy.GenericAPIError{Code: code} }
	tests := []struct {
		err      error
		want     error
		mentions string
	}{
		{api("NoSuchKey"), backends.ErrNotFound, ""},
		{api("NotFound"), backends.ErrNotFound, ""},
		{api("NoSuchBucket"), backends.ErrNotFound, `bucket "archivio" does not exist`},
		{api("AccessDenied"), backends.ErrAccessDenied, `"archivio"`},
		{status(http.StatusForbidden), backends.ErrAccessDenied, `"archivio"`},
		{api("InvalidRange"), backends.ErrRange, ""},
		{api("EntityTooLarge"), backends.ErrTooLarge, ""},
		{api("QuotaExceeded"), backends.ErrTooLarge, ""},
		{api("KeyTooLongError"), backends.ErrInvalidPath, ""},
		{api("SlowDown"), backends.ErrUnavailable, "http://s3.example"},
		{api("BadDigest"), backends.ErrUnavailable, "received other bytes than were sent"},
		{api("XAmzContentSHA256Mismatch"), backends.ErrUnavailable, "received other bytes than were sent"},
		{status(http.StatusBadGateway), backends.ErrUnavailable, "http://s3.example"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, backends.ErrUnavailable, "unreachable"},
		{fmt.Errorf("request: %w", context.Canceled), context.Canceled, ""},
		{fmt.Errorf("request: %w", context.DeadlineExceeded), context.DeadlineExceeded, ""},
	}
	for _, tt := range tests {
		got := b.classify(tt.err)
		if !errors.Is(got, tt.want) || !errors.Is(got, tt.err) || !strings.Contains(got.Error(), tt.mentions) {
			t.Errorf("classify(%v) = %v; want %v, mentioning %q", tt.err, got, tt.want, tt.mentions)
		}
	}
	// A cancelled request is no sign of unavailable storage.
	if err := b.classify(context.Canceled); errors.Is(err, backends.ErrUnavailable) {
		t.Errorf("classify(context.Canceled) = %v", err)
	}
}

// TestContentType checks the Content-Type that the objects get, which other
// tools reading the bucket see: from the name, also for a copy renamed.
func TestContentType(t *testing.T) {
	b := newBackend(t)
	put(t, b, "piccolo.dwg", []byte("x"))
	put(t, b, "grande.pdf", randomBytes(partSize+1))
	if _, err := b.Copy(t.Context(), "piccolo.dwg", "copia.txt", backends.CopyOptions{}); err != nil {
		t.Fatal(err)
	}
	// A copy onto itself, which S3 allows only with new metadata.
	if _, err := b.Copy(t.Context(), "piccolo.dwg", "piccolo.dwg", backends.CopyOptions{}); err != nil {
		t.Errorf("Copy onto itself: %v", err)
	}
	for name, want := range map[string]string{
		"piccolo.dwg": "image/vnd.dwg",
		"grande.pdf":  "application/pdf",
		"copia.txt":   "text/plain; charset=utf-8",
	} {
		out, err := server(t).Client().HeadObject(t.Context(), &awss3.HeadObjectInput{
			Bucket: aws.String(testBucket),
			Key:    aws.String(b.prefix + name),
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToString(out.ContentType); got != want {
			t.Errorf("%s: Content-Type %q, want %q", name, got, want)
		}
	}
}

// TestCopyKeepsHeaders: a copy keeps the user metadata and the headers
// that say how to read the content, also when handed the source's entry
// from Stat instead of reading them again; the content type follows the
// new name.
func TestCopyKeepsHeaders(t *testing.T) {
	c := server(t).Counting(t)
	b := newBackend(t, through(c))
	_, err := server(t).Client().PutObject(t.Context(), &awss3.PutObjectInput{
		Bucket:             aws.String(testBucket),
		Key:                aws.String(b.prefix + "scansione.tif"),
		Body:               strings.NewReader("scansione"),
		Metadata:           map[string]string{"protocollo": "2019/0042", "autore": "Ufficio tecnico"},
		CacheControl:       aws.String("no-cache"),
		ContentDisposition: aws.String(`attachment; filename="scansione.tif"`),
		ContentLanguage:    aws.String("it"),
	})
	if err != nil {
		t.Fatal(err)
	}
	src, err := b.Stat(t.Context(), "scansione.tif")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		dst  string
		opts backends.CopyOptions
		want map[string]int
	}{
		{"copia.pdf", backends.CopyOptions{}, map[string]int{"HeadObject": 1, "ListObjectsV2": 1, "CopyObject": 1}},
		{"copia-detta.pdf", backends.CopyOptions{Source: &src, ParentExists: true, NoDir: true}, map[string]int{"CopyObject": 1}},
	} {
		c.Reset()
		e, err := b.Copy(t.Context(), "scansione.tif", tt.dst, tt.opts)
		if err != nil {
			t.Fatalf("Copy to %s: %v", tt.dst, err)
		}
		if got := c.Counts(); !maps.Equal(got, tt.want) {
			t.Errorf("Copy to %s: requests %v, want %v", tt.dst, got, tt.want)
		}
		out, err := server(t).Client().HeadObject(t.Context(), &awss3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(b.prefix + tt.dst)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Metadata["protocollo"] != "2019/0042" || out.Metadata["autore"] != "Ufficio tecnico" ||
			aws.ToString(out.CacheControl) != "no-cache" || aws.ToString(out.ContentDisposition) != `attachment; filename="scansione.tif"` ||
			aws.ToString(out.ContentLanguage) != "it" || aws.ToString(out.ContentType) != "application/pdf" {
			t.Errorf("Copy to %s: headers %v, %q, %q, %q, %q", tt.dst, out.Metadata, aws.ToString(out.CacheControl),
				aws.ToString(out.ContentDisposition), aws.ToString(out.ContentLanguage), aws.ToString(out.ContentType))
		}
		if s, err := b.Stat(t.Context(), tt.dst); err != nil || s != e {
			t.Errorf("Stat of %s = %+v, %v; Copy gave %+v", tt.dst, s, err, e)
		}
	}
}

// TestStatFile: one HeadObject describes a file; a folder, with a marker or
// implicit, is no file, and nothing is listed to tell.
func TestStatFile(t *testing.T) {
	c := server(t).Counting(t)
	b := newBackend(t, through(c))
	putObject(t, b.prefix+"pratiche/PC-1/tavola.dwg", "tavola")
	putObject(t, b.prefix+"pratiche/PC-2/", "")
	for _, tt := range []struct {
		path string
		size int64 // -1: ErrNotFound
	}{
		{"pratiche/PC-1/tavola.dwg", 6},
		{"pratiche/PC-1", -1}, // implicit folder
		{"pratiche/PC-2", -1}, // folder with a marker
		{"pratiche/PC-3", -1}, // nothing
		{"", -1},              // the root
	} {
		c.Reset()
		e, err := b.StatFile(t.Context(), tt.path)
		switch {
		case tt.size < 0 && !errors.Is(err, backends.ErrNotFound):
			t.Errorf("StatFile(%q) = %+v, %v; want ErrNotFound", tt.path, e, err)
		case tt.size >= 0 && (err != nil || e.IsDir || e.Size != tt.size || e.Path != tt.path):
			t.Errorf("StatFile(%q) = %+v, %v; want the file of %d bytes", tt.path, e, err, tt.size)
		}
		if n := c.Counts()["ListObjectsV2"]; n != 0 {
			t.Errorf("StatFile(%q) listed %d times", tt.path, n)
		}
	}
}

// TestCopyListed: a listed file is copied with one CopyObject that keeps
// its content and metadata; one too large for CopyObject takes Copy's way.
func TestCopyListed(t *testing.T) {
	c := server(t).Counting(t)
	b := newBackend(t, through(c))
	b.copyThreshold, b.copyPartSize = partSize, partSize
	small, large := []byte("tavola 1:100"), randomBytes(partSize+4321)
	if err := b.Mkdir(t.Context(), "pratica"); err != nil {
		t.Fatal(err)
	}
	put(t, b, "pratica/tavola.dwg", small)
	put(t, b, "pratica/rilievo.tif", large)
	if err := b.Mkdir(t.Context(), "copia"); err != nil {
		t.Fatal(err)
	}
	page, err := b.List(t.Context(), "pratica", backends.ListOptions{})
	if err != nil || len(page.Entries) != 2 {
		t.Fatalf("List: %d entries, %v", len(page.Entries), err)
	}
	for _, e := range page.Entries {
		c.Reset()
		dst := "copia/" + e.Name()
		ce, err := b.CopyListed(t.Context(), e, dst)
		if err != nil {
			t.Fatalf("CopyListed(%s): %v", e.Path, err)
		}
		got := c.Counts()
		if e.Size <= partSize && (got["CopyObject"] != 1 || total(got) != 1) {
			t.Errorf("CopyListed of a small file: %v, want one CopyObject", got)
		}
		if e.Size > partSize && got["UploadPartCopy"] != 2 {
			t.Errorf("CopyListed of a large file: %v, want a multipart copy", got)
		}
		if ce.Path != dst || ce.Size != e.Size {
			t.Errorf("CopyListed(%s) = %+v", e.Path, ce)
		}
		if !bytes.Equal(read(t, b, dst), read(t, b, e.Path)) {
			t.Errorf("the copy of %s holds other bytes", e.Path)
		}
	}
	_, err = b.CopyListed(t.Context(), backends.Entry{Path: "pratica", IsDir: true}, "copia/pratica")
	wantErr(t, err, backends.ErrIsDir, "CopyListed of a folder")
}

func total(counts map[string]int) int {
	n := 0
	for _, v := range counts {
		n += v
	}
	return n
}

var _ backends.Keeper = (*Backend)(nil)

// versionsOf lists the versions (not delete markers) of key in the bucket.
func versionsOf(t *testing.T, c *harness.S3Counter, bucket, key string) []string {
	t.Helper()
	out, err := c.Client().ListObjectVersions(t.Context(), &awss3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range out.Versions {
		if aws.ToString(v.Key) == key {
			ids = append(ids, aws.ToString(v.VersionId))
		}
	}
	return ids
}

// TestVersionedKeep: Purge deletes the version itself; Delete leaves no
// noncurrent version of what it deletes, but keeps the older one that
// Preserve kept; and the requests each costs.
func TestVersionedKeep(t *testing.T) {
	b, c := newVersioned(t, false)
	ctx := t.Context()
	v1, v2 := []byte("prima"), []byte("seconda")
	put(t, b, "a.pdf", v1)
	e, err := b.Stat(ctx, "a.pdf")
	if err != nil {
		t.Fatal(err)
	}
	c.Reset()
	loc, err := b.Preserve(ctx, e, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Counts(); !maps.Equal(got, map[string]int{"HeadObject": 1}) {
		t.Errorf("Preserve: requests %v", got)
	}
	if !strings.HasPrefix(loc, "v:") || !strings.HasSuffix(loc, ":a.pdf") {
		t.Errorf("locator %q", loc)
	}
	put(t, b, "a.pdf", v2)
	if n := len(versionsOf(t, c, b.bucket, "a.pdf")); n != 2 {
		t.Fatalf("%d versions after an overwrite, want 2", n)
	}
	c.Reset()
	if err := b.Delete(ctx, []string{"a.pdf"}); err != nil {
		t.Fatal(err)
	}
	t.Logf("Delete of one file with an older version: %v", c.Counts())
	ids := versionsOf(t, c, b.bucket, "a.pdf")
	if len(ids) != 1 || !strings.Contains(loc, ids[0]) {
		t.Errorf("versions after Delete %v, want only the preserved one of %q", ids, loc)
	}
	if _, err := b.Stat(ctx, "a.pdf"); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("Stat after Delete: %v", err)
	}
	obj, err := b.OpenKept(ctx, loc, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !bytes.Equal(got, v1) {
		t.Errorf("preserved content %q", got)
	}
	c.Reset()
	if err := b.Purge(ctx, []string{loc}); err != nil {
		t.Fatal(err)
	}
	t.Logf("Purge of one version: %v", c.Counts())
	if ids := versionsOf(t, c, b.bucket, "a.pdf"); len(ids) != 0 {
		t.Errorf("versions after Purge %v, want none", ids)
	}

	// A file alone: Delete leaves nothing of it.
	put(t, b, "solo.pdf", v1)
	c.Reset()
	if err := b.Delete(ctx, []string{"solo.pdf"}); err != nil {
		t.Fatal(err)
	}
	if got := c.Counts(); !maps.Equal(got, map[string]int{"ListObjectVersions": 1, "DeleteObjects": 1}) {
		t.Errorf("Delete of a file with no other version: requests %v", got)
	}
	if ids := versionsOf(t, c, b.bucket, "solo.pdf"); len(ids) != 0 {
		t.Errorf("versions after Delete %v, want none", ids)
	}

	// A version still current is the file: Purge leaves it.
	put(t, b, "vivo.pdf", v1)
	e, _ = b.Stat(ctx, "vivo.pdf")
	loc, err = b.Preserve(ctx, e, "p2")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Purge(ctx, []string{loc}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, b, "vivo.pdf"); !bytes.Equal(got, v1) {
		t.Errorf("Purge of the current version took the file: %q", got)
	}

	// Discard of a folder of 20 files: a listing of versions, no copy.
	mkdir := func(p string) {
		if err := b.Mkdir(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	mkdir("d")
	for i := range 20 {
		put(t, b, fmt.Sprintf("d/f%02d.pdf", i), v1)
	}
	root, _ := b.Stat(ctx, "d")
	var tree []backends.Entry
	page, err := b.List(ctx, "d", backends.ListOptions{Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	tree = page.Entries
	c.Reset()
	locs, err := b.Discard(ctx, root, tree, "t1")
	if err != nil || len(locs) != 20 {
		t.Fatalf("Discard = %d locators, %v", len(locs), err)
	}
	t.Logf("Discard of a folder of 20 files, versioned: %v", c.Counts())
	if n := c.Counts()["CopyObject"]; n != 0 {
		t.Errorf("Discard on a versioned bucket copied %d objects", n)
	}
	c.Reset()
	if _, err := b.Restore(ctx, locs["d/f00.pdf"], "f00.pdf"); err != nil {
		t.Fatal(err)
	}
	t.Logf("Restore, versioned: %v", c.Counts())

	// A file that a HeadObject described is kept in the version it read:
	// its delete is all a discard costs, and restores the bytes read.
	put(t, b, "uno.pdf", v1)
	put(t, b, "uno.pdf", v2)
	one, err := b.Stat(ctx, "uno.pdf")
	if err != nil {
		t.Fatal(err)
	}
	c.Reset()
	locs, err = b.Discard(ctx, one, nil, "t3")
	if err != nil || len(locs) != 1 {
		t.Fatalf("Discard of one file = %v, %v", locs, err)
	}
	if got := c.Counts(); got["ListObjectVersions"] != 0 || got["CopyObject"] != 0 {
		t.Errorf("Discard of a file described by a HeadObject: requests %v, want no listing nor copy", got)
	}
	if _, err := b.Restore(ctx, locs["uno.pdf"], "uno.pdf"); err != nil {
		t.Fatal(err)
	}
	if got := read(t, b, "uno.pdf"); !bytes.Equal(got, v2) {
		t.Errorf("the discarded file restored as %q, want %q", got, v2)
	}
}

// TestHiddenKeep: the requests of the hidden prefix's Keeper, and a copy
// that fails deletes nothing and leaves no copy.
func TestHiddenKeep(t *testing.T) {
	c := server(t).Counting(t)
	b := newBackend(t, through(c))
	ctx := t.Context()
	if got := b.KeepMode(); got != modeHidden {
		t.Fatalf("KeepMode = %q", got)
	}
	if err := b.Mkdir(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		put(t, b, fmt.Sprintf("d/f%02d.pdf", i), []byte("x"))
	}
	root, _ := b.Stat(ctx, "d")
	page, err := b.List(ctx, "d", backends.ListOptions{Recursive: true})
	if err != nil {
		t.Fatal(err)
	}
	c.FailAfter("CopyObject", 10, http.StatusForbidden)
	if _, err := b.Discard(ctx, root, page.Entries, "t1"); err == nil {
		t.Fatal("Discard with failing copies succeeded")
	}
	c.Clear()
	if keys, _ := listAll(t, b, "d", true); len(keys) != 20 {
		t.Errorf("after a failed Discard, %d files in d, want 20", len(keys))
	}
	out, err := c.Client().ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String(b.prefix + backends.KeepFolder + "/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 0 {
		t.Errorf("a failed Discard left %d copies", len(out.Contents))
	}
	c.Reset()
	locs, err := b.Discard(ctx, root, page.Entries, "t2")
	if err != nil || len(locs) != 20 {
		t.Fatalf("Discard = %d, %v", len(locs), err)
	}
	t.Logf("Discard of a folder of 20 files, hidden prefix: %v", c.Counts())
	c.Reset()
	e := put(t, b, "p.pdf", []byte("p"))
	c.Reset()
	loc, err := b.Preserve(ctx, e, "p1")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Counts(); !maps.Equal(got, map[string]int{"CopyObject": 1}) {
		t.Errorf("Preserve: requests %v", got)
	}
	c.Reset()
	if _, err := b.Restore(ctx, loc, "q.pdf"); err != nil {
		t.Fatal(err)
	}
	t.Logf("Restore, hidden prefix: %v", c.Counts())
	c.Reset()
	all := []string{loc}
	for _, l := range locs {
		all = append(all, l)
	}
	if err := b.Purge(ctx, all); err != nil {
		t.Fatal(err)
	}
	if got := c.Counts(); !maps.Equal(got, map[string]int{"DeleteObjects": 1}) {
		t.Errorf("Purge of 21: requests %v", got)
	}
}

// TestHold: a held version refuses a delete by id, and once the hold is
// lifted it is deleted.
func TestHold(t *testing.T) {
	b, c := newVersioned(t, true)
	ctx := t.Context()
	if !b.Holdable() {
		t.Fatal("a bucket with Object Lock is not Holdable")
	}
	if err := b.Mkdir(ctx, "chiusa"); err != nil {
		t.Fatal(err)
	}
	put(t, b, "chiusa/a.pdf", []byte("a"))
	put(t, b, "chiusa/a.pdf", []byte("b"))
	put(t, b, "chiusa/b.pdf", []byte("c"))
	n, err := b.Hold(ctx, "chiusa", true, time.Time{})
	if err != nil || n != 3 {
		t.Fatalf("Hold on = %d, %v; want 3 versions", n, err)
	}
	ids := versionsOf(t, c, b.bucket, "chiusa/a.pdf")
	if len(ids) != 2 {
		t.Fatalf("versions %v", ids)
	}
	_, err = c.Client().DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(b.bucket), Key: aws.String("chiusa/a.pdf"), VersionId: aws.String(ids[1])})
	if err == nil {
		t.Error("a held version was deleted")
	}
	if n, err := b.Hold(ctx, "chiusa", false, time.Time{}); err != nil || n != 3 {
		t.Fatalf("Hold off = %d, %v", n, err)
	}
	_, err = c.Client().DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(b.bucket), Key: aws.String("chiusa/a.pdf"), VersionId: aws.String(ids[1])})
	if err != nil {
		t.Errorf("delete of a version no longer held: %v", err)
	}
	// A compliance retention outlasts a lifting of the hold.
	put(t, b, "chiusa/c.pdf", []byte("d"))
	if n, err := b.Hold(ctx, "chiusa", true, time.Now().Add(time.Hour)); err != nil || n != 3 {
		t.Fatalf("Hold with a retention = %d, %v; want the 3 versions left", n, err)
	}
	if _, err := b.Hold(ctx, "chiusa", false, time.Time{}); err != nil {
		t.Fatalf("Hold off: %v", err)
	}
	cv := versionsOf(t, c, b.bucket, "chiusa/c.pdf")
	_, err = c.Client().DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(b.bucket), Key: aws.String("chiusa/c.pdf"), VersionId: aws.String(cv[0])})
	if err == nil {
		t.Error("a version under a compliance retention was deleted")
	}
	nb := newBackend(t)
	if nb.Holdable() {
		t.Error("a bucket without Object Lock is Holdable")
	}
}
