//go:build bench

package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/bassareggiana/faldone/tests/harness"
)

// The shape of the recycle bin's work.
const (
	binFiles     = 10      // files deleted, and files overwritten, one after the other, per run
	binFileSize  = 1 << 20 // bytes of each
	binTreeFiles = 1000    // files of the folder deleted at once
	binTreeSize  = 4 << 10
)

// bucketKind is one way the bucket keeps what Faldone's recycle bin keeps:
// the same work runs on each, through the subjects that serve it.
type bucketKind struct {
	name string // "unversioned bucket", "versioned bucket"
	// fal keeps what is deleted or replaced; off is a Faldone with its
	// recycle bin disabled (the figure before the bin), nil where none
	// runs; rcl is nil where rclone does not run.
	fal, off, rcl *davServer
	dir           *directS3
	sd            *seeder
}

// servers are the WebDAV servers of the kind, with the row each records
// its samples in: off's rows say "recycle bin off".
func (k bucketKind) servers() []struct {
	s   *davServer
	off bool
} {
	var out []struct {
		s   *davServer
		off bool
	}
	for _, s := range []*davServer{k.fal, k.off, k.rcl} {
		if s != nil {
			out = append(out, struct {
				s   *davServer
				off bool
			}{s, s == k.off})
		}
	}
	return out
}

// startVersioned starts a second versitygw, with versioning, whose bucket
// of the same name is versioned, and a Faldone and a direct client on it.
func startVersioned(t *testing.T) bucketKind {
	srv := harness.StartS3Versioned(t)
	srv.CreateBucketVersioned(t, bucket)
	vgw, err := findPID(srv.Dir)
	if err != nil {
		t.Fatal(err)
	}
	sd := &seeder{client: srv.Client(), api: true}
	sd.folder(t, comune+"/")
	k := bucketKind{name: "versioned bucket", sd: sd, dir: newDirect(srv.Counting(t), vgw)}
	k.fal = startFaldone(t, srv, srv.Counting(t), vgw, "")
	return k
}

// binSlug names a subject's folders of the recycle bin's work.
func binSlug(sub string, off bool) string {
	if off {
		return "faldone-off"
	}
	return map[string]string{faldone: "faldone", rclone: "rclone", direct: "direct"}[sub]
}

// seedBin writes what the recycle bin's work deletes and replaces, for
// every subject of the kind and every run.
func seedBin(t *testing.T, k bucketKind, runs int) {
	subs := []struct {
		name string
		off  bool
	}{{direct, false}}
	for _, s := range k.servers() {
		subs = append(subs, struct {
			name string
			off  bool
		}{s.s.name, s.off})
	}
	k.sd.folder(t, comune+"/bin/")
	for r := range runs {
		for _, sub := range subs {
			base := fmt.Sprintf("%s/bin/%s-r%d/", comune, binSlug(sub.name, sub.off), r)
			k.sd.folder(t, base)
			for _, d := range []string{"del/", "over/"} {
				k.sd.folder(t, base+d)
				for i := range binFiles {
					k.sd.object(t, fmt.Sprintf("%s%s%s", base, d, smallName(i)), newNoise(binFileSize))
				}
			}
			k.sd.files(t, base+"tree/", binTreeFiles, binTreeSize, smallName)
			for _, size := range drawingSizes {
				dir := fmt.Sprintf("%sautocad-%dmib/", base, size)
				k.sd.folder(t, dir)
				k.sd.object(t, dir+"tavola.dwg", newNoise(int64(size)*mib))
				k.sd.object(t, dir+"tavola.bak", newNoise(int64(size)*mib))
			}
		}
	}
}

// benchRecycleBin measures what the recycle bin costs: a DELETE of a file,
// a PUT over one, a DELETE of a 1,000-file folder and the AutoCAD save
// sequence, on each kind of bucket, by Faldone with its bin (and without
// it, where the kind has such a Faldone), rclone and direct S3.
func benchRecycleBin(t *testing.T, kinds []bucketKind, runs int, do func(work, string) bool, record func(work, string, int, sample)) {
	rows := func(k bucketKind, what string, u unit, per string) (on, off work) {
		tg := keepCopy
		if k.off == nil { // versioned
			tg = noCopy
		}
		on = work{name: fmt.Sprintf("%s, %s", what, k.name), unit: u, per: per, target: tg}
		off = work{name: fmt.Sprintf("%s, %s, recycle bin off", what, k.name), unit: u, per: per}
		return on, off
	}
	for _, k := range kinds {
		seedBin(t, k, runs)
		del, delOff := rows(k, fmt.Sprintf("DELETE of a %d MiB file (per file, %d files)", binFileSize>>20, binFiles), secondsEach, "file")
		over, overOff := rows(k, fmt.Sprintf("PUT over a %d MiB file (per file, %d files)", binFileSize>>20, binFiles), secondsEach, "file")
		tree, treeOff := rows(k, fmt.Sprintf("DELETE of a %s-file folder (%d KiB files)", thousands(binTreeFiles), binTreeSize>>10), seconds, "")
		var saves []pair
		for _, size := range drawingSizes {
			on, off := rows(k, fmt.Sprintf("AutoCAD save sequence, %d MiB drawing (per save, %d saves)", size, savesBin), secondsEach, "save")
			on.target, off.target = saveSequence, saveSequence
			saves = append(saves, pair{on, off})
		}
		for r := range runs {
			at := func(sub string, off bool) string {
				return fmt.Sprintf("/bin/%s-r%d/", binSlug(sub, off), r)
			}
			// The work of the direct client, recorded in both rows.
			both := func(on, off work, s sample) {
				record(on, direct, r, s)
				if k.off != nil && do(off, faldone) {
					record(off, direct, r, s)
				}
			}
			names := func(dir string) []string {
				var ps []string
				for i := range binFiles {
					ps = append(ps, dir+smallName(i))
				}
				return ps
			}
			for _, w := range []struct {
				on, off work
				dav     func(s *davServer, dir string) sample
				direct  func(prefix string) sample
				check   func(prefix string)
			}{
				{del, delOff,
					func(s *davServer, dir string) sample { return s.deleteEach(t, names(dir+"del/")) },
					func(prefix string) sample { return k.dir.deleteEach(t, names(prefix+"del/")) },
					func(prefix string) {
						if n := k.sd.count(t, prefix+"del/"); n != 0 {
							t.Errorf("%s: %d files left after the DELETEs", prefix, n)
						}
					}},
				{over, overOff,
					func(s *davServer, dir string) sample { return s.putEach(t, names(dir+"over/"), binFileSize) },
					func(prefix string) sample { return k.dir.putEach(t, names(prefix+"over/"), binFileSize) },
					func(prefix string) {
						if n := k.sd.count(t, prefix+"over/"); n != binFiles {
							t.Errorf("%s: %d files after the PUTs, want %d", prefix, n, binFiles)
						}
					}},
				{tree, treeOff,
					func(s *davServer, dir string) sample { return s.delete(t, dir+"tree/") },
					func(prefix string) sample { return k.dir.deleteTree(t, prefix+"tree/") },
					func(prefix string) {
						if n := k.sd.count(t, prefix+"tree/"); n != 0 {
							t.Errorf("%s: %d files left after the folder's DELETE", prefix, n)
						}
					}},
			} {
				for _, s := range k.servers() {
					row := pair{w.on, w.off}.of(s.off)
					if !do(row, s.s.name) {
						continue
					}
					currentWork = row.name
					smp := w.dav(s.s, at(s.s.name, s.off))
					w.check(comune + at(s.s.name, s.off))
					record(row, s.s.name, r, smp)
				}
				if do(w.on, direct) {
					prefix := comune + at(direct, false)
					smp := w.direct(prefix)
					w.check(prefix)
					both(w.on, w.off, smp)
				}
			}
			for i, size := range drawingSizes {
				sv := saves[i]
				folder := func(sub string, off bool) string { return fmt.Sprintf("%sautocad-%dmib/", at(sub, off), size) }
				for _, s := range k.servers() {
					row := sv.of(s.off)
					if !do(row, s.s.name) {
						continue
					}
					currentWork = row.name
					record(row, s.s.name, r, s.s.saves(t, folder(s.s.name, s.off), savesBin, int64(size)*mib))
				}
				if do(sv.on, direct) {
					drawing, err := io.ReadAll(newNoise(int64(size) * mib))
					if err != nil {
						t.Fatal(err)
					}
					both(sv.on, sv.off, k.dir.saves(t, comune+folder(direct, false), savesBin, drawing))
				}
			}
		}
	}
}

// pair is a row and its "recycle bin off" twin.
type pair struct{ on, off work }

// of is the row a server records in: off's, for the Faldone whose bin is off.
func (p pair) of(off bool) work {
	if off {
		return p.off
	}
	return p.on
}

// savesBin is the number of AutoCAD saves per run of the recycle bin's
// rows: fewer than the main rows', since each run has its own drawing.
const savesBin = 5

// deleteEach deletes the files at paths, one after the other.
func (s *davServer) deleteEach(t *testing.T, paths []string) sample {
	smp := s.meter.measure(t, func() {
		for _, p := range paths {
			if code, body := s.do(t, "DELETE", p, nil, 0); code != http.StatusNoContent && code != http.StatusOK {
				t.Fatalf("%s DELETE %s: %d\n%.1000s", s.name, p, code, body)
			}
		}
	})
	smp.ops = len(paths)
	return smp
}

// putEach writes size new bytes over each file at paths, one after the other.
func (s *davServer) putEach(t *testing.T, paths []string, size int64) sample {
	smp := s.meter.measure(t, func() {
		for _, p := range paths {
			if code, body := s.do(t, "PUT", p, newNoise(size), size); code != http.StatusNoContent && code != http.StatusCreated {
				t.Fatalf("%s PUT %s: %d\n%.1000s", s.name, p, code, body)
			}
		}
	})
	smp.ops = len(paths)
	return smp
}

// delete deletes the folder or file at p.
func (s *davServer) delete(t *testing.T, p string) sample {
	var code int
	var body []byte
	smp := s.meter.measure(t, func() { code, body = s.do(t, "DELETE", p, nil, 0) })
	if code != http.StatusNoContent && code != http.StatusOK {
		t.Fatalf("%s DELETE %s: %d\n%.1000s", s.name, p, code, body)
	}
	return smp
}

// deleteEach deletes the objects keys, one DeleteObject each, one after
// the other.
func (d *directS3) deleteEach(t *testing.T, keys []string) sample {
	ctx := context.Background()
	smp := d.measure(t, func() {
		for _, k := range keys {
			if _, err := d.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)}); err != nil {
				t.Fatalf("delete %s: %v", k, err)
			}
		}
	})
	smp.ops = len(keys)
	return smp
}

// putEach writes size bytes over each object of keys, one PutObject each.
func (d *directS3) putEach(t *testing.T, keys []string, size int64) sample {
	ctx := context.Background()
	smp := d.measure(t, func() {
		for _, k := range keys {
			body, err := io.ReadAll(newNoise(size))
			if err == nil {
				_, err = d.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: bytes.NewReader(body)})
			}
			if err != nil {
				t.Fatalf("put %s: %v", k, err)
			}
		}
	})
	smp.ops = len(keys)
	return smp
}

// deleteTree deletes every object under prefix: the listing, then one
// DeleteObjects a 1,000.
func (d *directS3) deleteTree(t *testing.T, prefix string) sample {
	ctx := context.Background()
	return d.measure(t, func() {
		var keys []string
		pages := s3.NewListObjectsV2Paginator(d.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				t.Fatalf("list %s: %v", prefix, err)
			}
			for _, o := range page.Contents {
				keys = append(keys, aws.ToString(o.Key))
			}
		}
		for batch := range slices.Chunk(keys, 1000) {
			ids := make([]types.ObjectIdentifier, len(batch))
			for i, k := range batch {
				ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
			}
			out, err := d.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
			if err != nil || len(out.Errors) > 0 {
				t.Fatalf("delete under %s: %v %v", prefix, err, out)
			}
		}
	})
}
