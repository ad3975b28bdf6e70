//go:build bench

package bench

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	bucket = "faldone-bench"
	comune = "guastalla" // the Comune's folder in the bucket, and its id in Faldone
	mib    = 1 << 20
)

// seeder puts the benchmark's data in the bucket without counting it.
// Files go straight into versitygw's posix folder, which lists them like the
// objects it writes: ten thousand files take a second where PutObject takes
// a minute. Each gets the ETag attribute versitygw keeps for its own
// objects, so that every server sees ordinary objects.
type seeder struct {
	root   string     // the bucket's folder
	client *s3.Client // straight to versitygw, past every counting proxy
	// api writes every file with PutObject instead: on a versioned
	// bucket, whose objects' versions only versitygw itself records.
	api bool
}

// folder creates the marker object of the folder key (with its final
// slash) through the API, as a WebDAV MKCOL does.
func (sd *seeder) folder(t *testing.T, key string) {
	_, err := sd.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(""),
	})
	if err != nil {
		t.Fatalf("marker %s: %v", key, err)
	}
}

// files creates the folder key and n files of size bytes in it, named by name.
func (sd *seeder) files(t *testing.T, key string, n, size int, name func(int) string) {
	sd.folder(t, key)
	if sd.api {
		errs := make([]error, n)
		parallel(n, 16, func(i int) {
			_, errs[i] = sd.client.PutObject(context.Background(), &s3.PutObjectInput{
				Bucket: aws.String(bucket), Key: aws.String(key + name(i)), Body: strings.NewReader(smallFile(i, size)),
			})
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("seed %s: %v", key+name(i), err)
			}
		}
		return
	}
	dir := filepath.Join(sd.root, filepath.FromSlash(key))
	for i := range n {
		sd.write(t, filepath.Join(dir, name(i)), strings.NewReader(smallFile(i, size)))
	}
}

// write writes the file at path, with r's bytes, and its ETag attribute.
func (sd *seeder) write(t *testing.T, path string, r io.Reader) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h := md5.New()
	if _, err := io.Copy(io.MultiWriter(f, h), r); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Setxattr(path, "user.etag", []byte(hex.EncodeToString(h.Sum(nil))), 0); err != nil {
		t.Fatalf("etag of %s: %v", path, err)
	}
}

// object writes the object key with r's bytes: with PutObject when the
// seeder writes through the API, else straight into the bucket's folder.
func (sd *seeder) object(t *testing.T, key string, r io.Reader) {
	if !sd.api {
		sd.write(t, filepath.Join(sd.root, filepath.FromSlash(key)), r)
		return
	}
	body, err := io.ReadAll(r)
	if err == nil {
		_, err = sd.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	}
	if err != nil {
		t.Fatalf("seed %s: %v", key, err)
	}
}

// remove deletes an object, or the objects under a prefix, uncounted.
func (sd *seeder) remove(t *testing.T, key string) {
	if err := os.RemoveAll(filepath.Join(sd.root, filepath.FromSlash(key))); err != nil {
		t.Fatal(err)
	}
}

// count is the number of files under the prefix: folder markers aside.
func (sd *seeder) count(t *testing.T, prefix string) int {
	n := 0
	pages := s3.NewListObjectsV2Paginator(sd.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list %s: %v", prefix, err)
		}
		for _, o := range page.Contents {
			if !strings.HasSuffix(aws.ToString(o.Key), "/") {
				n++
			}
		}
	}
	return n
}

// size is the size of the object key.
func (sd *seeder) size(t *testing.T, key string) int64 {
	out, err := sd.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("head %s: %v", key, err)
	}
	return aws.ToInt64(out.ContentLength)
}

// smallName names the i-th file of a folder: the kinds of file a dossier holds.
func smallName(i int) string {
	ext := []string{".pdf", ".pdf.p7m", ".dwg", ".tif", ".jpg"}[i%5]
	return fmt.Sprintf("documento-%05d%s", i, ext)
}

// smallFile is the content of the i-th small file: size bytes, different
// for every i.
func smallFile(i, size int) string {
	line := fmt.Sprintf("pratica edilizia, documento %08d\n", i)
	return strings.Repeat(line, size/len(line)+1)[:size]
}

// randomMiB is one MiB of random bytes, made once.
var randomMiB = sync.OnceValue(func() []byte {
	b := make([]byte, mib)
	rand.Read(b)
	return b
})

// noise is a stream of size bytes that never repeats a MiB, at almost no
// CPU cost: copies of one random MiB, each stamped with its index. The
// benchmark never holds a big file in memory.
type noise struct {
	block     []byte // this stream's copy, stamped for the current MiB
	size, off int64
}

func newNoise(size int64) *noise {
	return &noise{block: append([]byte(nil), randomMiB()...), size: size}
}

func (r *noise) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	// A read never crosses a MiB boundary: each MiB starts a read.
	i := r.off % mib
	if i == 0 {
		binary.LittleEndian.PutUint64(r.block, uint64(r.off/mib))
	}
	n := copy(p, r.block[i:min(mib, i+r.size-r.off)])
	r.off += int64(n)
	return n, nil
}
