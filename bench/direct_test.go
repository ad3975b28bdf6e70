//go:build bench

package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bassareggiana/faldone/tests/harness"
)

// directS3 does the same work with the AWS SDK straight against the
// bucket, through a counting proxy of its own like the servers: the
// reference that the servers' figures are divided by.
type directS3 struct {
	client *s3.Client
	tm     *transfermanager.Client // with the SDK's defaults
	meter
}

func newDirect(counter *harness.S3Counter, vgwPID string) *directS3 {
	c := counter.Client()
	return &directS3{client: c, tm: transfermanager.New(c), meter: meter{s3: counter, vgwPID: vgwPID}}
}

// list lists the folder whose key is prefix as a client of S3 does: pages
// of ListObjectsV2 with the delimiter "/".
func (d *directS3) list(t *testing.T, prefix string, want int) sample {
	ctx := context.Background()
	n := 0
	smp := d.measure(t, func() {
		pages := s3.NewListObjectsV2Paginator(d.client, &s3.ListObjectsV2Input{
			Bucket: aws.String(bucket), Prefix: aws.String(prefix), Delimiter: aws.String("/"),
		})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				t.Fatalf("list %s: %v", prefix, err)
			}
			for _, o := range page.Contents {
				if aws.ToString(o.Key) != prefix { // the folder's own marker
					n++
				}
			}
			n += len(page.CommonPrefixes)
		}
	})
	if n != want {
		t.Errorf("direct list %s: %d entries, want %d", prefix, n, want)
	}
	return smp
}

// get reads the object whole with one GetObject.
func (d *directS3) get(t *testing.T, key string, size int64) sample {
	var n int64
	smp := d.measure(t, func() {
		out, err := d.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject %s: %v", key, err)
		}
		defer out.Body.Close()
		if n, err = drain(out.Body); err != nil {
			t.Fatalf("GetObject %s: %v", key, err)
		}
	})
	if n != size {
		t.Fatalf("GetObject %s: %d bytes, want %d", key, n, size)
	}
	smp.n = float64(n)
	return smp
}

// getMany reads the objects whole, all at once, one GetObject each.
func (d *directS3) getMany(t *testing.T, keys []string, size int64) sample {
	errs := make([]error, len(keys))
	smp := d.measure(t, func() {
		parallel(len(keys), len(keys), func(i int) {
			out, err := d.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(keys[i])})
			if err != nil {
				errs[i] = err
				return
			}
			defer out.Body.Close()
			if n, err := drain(out.Body); err != nil || n != size {
				errs[i] = fmt.Errorf("%d bytes of %d: %v", n, size, err)
			}
		})
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("GetObject %s: %v", keys[i], err)
		}
	}
	smp.n = float64(size) * float64(len(keys))
	return smp
}

// put uploads size bytes with the SDK's transfer manager: parts of 8 MiB,
// five at once.
func (d *directS3) put(t *testing.T, key string, size int64) sample {
	smp := d.measure(t, func() {
		_, err := d.tm.UploadObject(context.Background(), &transfermanager.UploadObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), Body: newNoise(size), ContentLength: aws.Int64(size),
		})
		if err != nil {
			t.Fatalf("upload %s: %v", key, err)
		}
	})
	smp.n = float64(size)
	return smp
}

// putMany creates n objects of size bytes each under prefix, one PutObject
// each, conc at a time.
func (d *directS3) putMany(t *testing.T, prefix string, n, size, conc int) sample {
	var (
		mu   sync.Mutex
		errs []error
	)
	smp := d.measure(t, func() {
		parallel(n, conc, func(i int) {
			_, err := d.client.PutObject(context.Background(), &s3.PutObjectInput{
				Bucket: aws.String(bucket), Key: aws.String(prefix + smallName(i)),
				Body: bytes.NewReader([]byte(smallFile(i, size))),
			})
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	})
	if len(errs) > 0 {
		t.Fatalf("PutObject under %s: %d failed: %v", prefix, len(errs), errs[0])
	}
	smp.n, smp.ops = float64(n), n
	return smp
}

// saves does what a WebDAV server must do for each of n AutoCAD saves of
// the drawing prefix+"tavola.dwg" (see davServer.saves), as a client of S3
// that checks nothing: PutObject of the temporary file, DeleteObject of the
// backup, then CopyObject and DeleteObject for each move.
func (d *directS3) saves(t *testing.T, prefix string, n int, content []byte) sample {
	ctx := context.Background()
	dwg, bak, tmp := prefix+"tavola.dwg", prefix+"tavola.bak", prefix+"tavola.tmp"
	move := func(from, to string) error {
		_, err := d.client.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(to),
			CopySource: aws.String(bucket + "/" + strings.ReplaceAll(url.PathEscape(from), "%2F", "/")),
		})
		if err == nil {
			_, err = d.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(from)})
		}
		return err
	}
	smp := d.measure(t, func() {
		for range n {
			_, err := d.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(tmp), Body: bytes.NewReader(content)})
			if err == nil {
				_, err = d.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(bak)})
			}
			if err == nil {
				err = move(dwg, bak)
			}
			if err == nil {
				err = move(tmp, dwg)
			}
			if err != nil {
				t.Fatalf("save %s: %v", dwg, err)
			}
		}
	})
	smp.ops = n
	return smp
}

// move moves every object under the prefix src to dst as a careful S3
// client would: CopyObject of each, conc at a time, then DeleteObjects in
// batches of 1000 once every copy succeeded. The listing is part of it.
func (d *directS3) move(t *testing.T, src, dst string, conc int) sample {
	ctx := context.Background()
	return d.measure(t, func() {
		var keys []string
		pages := s3.NewListObjectsV2Paginator(d.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(src)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				t.Fatalf("list %s: %v", src, err)
			}
			for _, o := range page.Contents {
				keys = append(keys, aws.ToString(o.Key))
			}
		}
		errs := make([]error, len(keys))
		parallel(len(keys), conc, func(i int) {
			to := aws.String(dst + strings.TrimPrefix(keys[i], src))
			if strings.HasSuffix(keys[i], "/") {
				// A folder marker is made anew: versitygw refuses to copy one.
				_, errs[i] = d.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: to, Body: strings.NewReader("")})
				return
			}
			_, errs[i] = d.client.CopyObject(ctx, &s3.CopyObjectInput{
				Bucket:     aws.String(bucket),
				Key:        to,
				CopySource: aws.String(bucket + "/" + strings.ReplaceAll(url.PathEscape(keys[i]), "%2F", "/")),
			})
		})
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("copy %s: %v", src, err)
		}
		for batch := range slices.Chunk(keys, 1000) {
			ids := make([]types.ObjectIdentifier, len(batch))
			for i, k := range batch {
				ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
			}
			out, err := d.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
				Bucket: aws.String(bucket), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
			})
			if err != nil {
				t.Fatalf("delete under %s: %v", src, err)
			}
			if len(out.Errors) > 0 {
				t.Fatalf("delete under %s: %d failed, first %s: %s", src, len(out.Errors), aws.ToString(out.Errors[0].Key), aws.ToString(out.Errors[0].Message))
			}
		}
	})
}
