//go:build bench

package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"

	"github.com/bassareggiana/faldone/tests/harness"
)

// importJobs is the files written at once by every subject: faldone
// import's --jobs, rclone copy's --transfers, the direct uploads.
const importJobs = 4

// TestImportBenchmark measures issue 14's budget: `faldone import` of a
// delivery with its manifest (every file checked against it) against `rclone copy` of the same folder to the same bucket
// with --transfers equal to --jobs, and the SDK's transfer manager as the
// limit; each through its own counting proxy, medians of BENCH_RUNS.
func TestImportBenchmark(t *testing.T) {
	runs := envInt(t, "BENCH_RUNS", 3)
	smallN := envInt(t, "BENCH_IMPORT_FILES", 10000)
	bigN := envInt(t, "BENCH_IMPORT_BIG", 16)
	bigMiB := envInt(t, "BENCH_IMPORT_BIG_MIB", 256)
	only := envRegexp(t, "BENCH_ONLY")
	began, load := time.Now(), loadAverage()

	s3srv := harness.StartS3(t)
	s3srv.CreateBucket(t, bucket)
	vgw, err := findPID(s3srv.Dir)
	if err != nil {
		t.Fatal(err)
	}
	deliveries := []struct {
		name  string
		files int
		size  int64
	}{
		{fmt.Sprintf("import of %s files of 200 KiB", thousands(smallN)), smallN, 200 << 10},
		{fmt.Sprintf("import of %d files of %d MiB", bigN, bigMiB), bigN, int64(bigMiB) << 20},
	}
	type row struct {
		name, subject string
		runs          []sample
		rss           []int64
	}
	var rows []*row
	for _, dl := range deliveries {
		if only != nil && !only.MatchString(dl.name) {
			continue
		}
		dir := t.TempDir()
		t.Logf("%s: writing the delivery", dl.name)
		// The scanning firm's index, as deliveries come with one.
		var index bytes.Buffer
		index.WriteString("percorso;sha256\r\n")
		for i := range dl.files {
			p := filepath.Join(dir, fmt.Sprintf("PC-2019-%04d", i/50), fmt.Sprintf("tavola-%05d.pdf", i))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			n := newNoise(dl.size)
			n.stamp(i)
			h := sha256.New()
			if _, err := f.ReadFrom(io.TeeReader(n, h)); err != nil {
				t.Fatal(err)
			}
			f.Close()
			rel, _ := filepath.Rel(dir, p)
			fmt.Fprintf(&index, "%s;%x\r\n", filepath.ToSlash(rel), h.Sum(nil))
		}
		manifest := filepath.Join(t.TempDir(), "indice.csv")
		if err := os.WriteFile(manifest, index.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		total := int64(dl.files) * dl.size
		fal := &row{name: dl.name, subject: faldone}
		rcl := &row{name: dl.name, subject: rclone}
		dir3 := &row{name: dl.name, subject: direct}
		rows = append(rows, fal, rcl, dir3)
		for r := range runs {
			counter := s3srv.Counting(t)
			m := meter{s3: counter, vgwPID: vgw}
			prefix := fmt.Sprintf("%s/%d-r%d", comune, len(rows), r)

			// Faldone: the command, on a configuration of its own.
			data := t.TempDir()
			storage := fmt.Sprintf("s3://%s/%s?endpoint=%s&region=%s&path_style=true", bucket, comune, counter.Endpoint, s3srv.Region)
			cfg := filepath.Join(data, "faldone.yaml")
			os.WriteFile(cfg, []byte(fmt.Sprintf("comuni:\n  - id: %s\n    storage: %q\n    access_key_id: %q\n    secret_access_key: %q\n",
				comune, storage, s3srv.AccessKey, s3srv.SecretKey)), 0o600)
			cmd := exec.Command(harness.Binary(t), "import", "--config", cfg, "--data", data, "--comune", comune,
				"--from", dir, "--to", fmt.Sprintf("/faldone-%d-r%d", len(rows), r), "--jobs", fmt.Sprint(importJobs),
				"--manifest", manifest)
			cmd.Env = childEnv()
			var peak int64
			s := m.measure(t, func() { peak = runChild(t, cmd) })
			s.n, s.ops = float64(total), dl.files
			fal.runs, fal.rss = append(fal.runs, s), append(fal.rss, peak)

			// rclone copy, the peer.
			rc := exec.Command(rcloneBinary(t), "copy", dir, fmt.Sprintf(":s3:%s/%s/rclone-%d-r%d", bucket, comune, len(rows), r),
				"--transfers", fmt.Sprint(importJobs), "--s3-provider", "Other", "--s3-endpoint", counter.Endpoint,
				"--s3-region", s3srv.Region, "--s3-force-path-style=true")
			rc.Env = childEnv("RCLONE_CONFIG="+filepath.Join(data, "rclone.conf"),
				"RCLONE_S3_ACCESS_KEY_ID="+s3srv.AccessKey, "RCLONE_S3_SECRET_ACCESS_KEY="+s3srv.SecretKey)
			s = m.measure(t, func() { peak = runChild(t, rc) })
			s.n, s.ops = float64(total), dl.files
			rcl.runs, rcl.rss = append(rcl.runs, s), append(rcl.rss, peak)

			// The SDK's transfer manager, importJobs files at once.
			tm := transfermanager.New(counter.Client())
			var files []string
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					files = append(files, p)
				}
				return nil
			})
			s = m.measure(t, func() {
				parallel(len(files), importJobs, func(i int) {
					f, err := os.Open(files[i])
					if err != nil {
						t.Error(err)
						return
					}
					defer f.Close()
					rel, _ := filepath.Rel(dir, files[i])
					if _, err := tm.UploadObject(context.Background(), &transfermanager.UploadObjectInput{
						Bucket: aws.String(bucket), Key: aws.String(prefix + "/" + filepath.ToSlash(rel)), Body: f,
					}); err != nil {
						t.Error(err)
					}
				})
			})
			s.n, s.ops = float64(total), dl.files
			dir3.runs = append(dir3.runs, s)
			// What the run stored goes, lest the disk fill up over the runs.
			for _, sub := range []string{fmt.Sprintf("faldone-%d-r%d", len(rows), r), fmt.Sprintf("rclone-%d-r%d", len(rows), r), fmt.Sprintf("%d-r%d", len(rows), r)} {
				os.RemoveAll(filepath.Join(s3srv.Dir, bucket, comune, sub))
			}
			t.Logf("%s, run %d: Faldone %.0f MB/s, rclone %.0f MB/s, direct %.0f MB/s", dl.name, r+1,
				mbPerSec.value(fal.runs[r])/1e6, mbPerSec.value(rcl.runs[r])/1e6, mbPerSec.value(dir3.runs[r])/1e6)
		}
		os.RemoveAll(dir)
	}

	median := func(rw *row) (sample, int64) {
		idx := make([]int, len(rw.runs))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return int(rw.runs[a].dur - rw.runs[b].dur) })
		m := idx[(len(idx)-1)/2]
		var rss int64
		if m < len(rw.rss) {
			rss = rw.rss[m]
		}
		return rw.runs[m], rss
	}
	fmt.Printf("\n%s; import benchmark took %v; load average %s at its start, %s at its end.\n\n",
		machine(t, &davServer{proc: &proc{argv: []string{rcloneBinary(t)}}}), time.Since(began).Round(time.Second), load, loadAverage())
	fmt.Printf("| Work (median of %d runs, %d files at once) | Subject | MB/s | files/s | S3 requests a file | peak RSS | ÷ rclone | ÷ direct |\n|---|---|---|---|---|---|---|---|\n", runs, importJobs)
	for i := 0; i+2 < len(rows); i += 3 {
		rs, _ := median(rows[i+1])
		ds, _ := median(rows[i+2])
		for _, rw := range rows[i : i+3] {
			s, rss := median(rw)
			rssText := "—"
			if rss > 0 {
				rssText = fmt.Sprintf("%d MiB", rss>>20)
			}
			fmt.Printf("| %s | %s | %.0f | %.0f | %.2f | %s | %.2f× | %.2f× |\n", rw.name, rw.subject,
				mbPerSec.value(s)/1e6, float64(s.ops)/s.dur.Seconds(), perOp(s), rssText,
				mbPerSec.value(s)/mbPerSec.value(rs), mbPerSec.value(s)/mbPerSec.value(ds))
		}
		s, _ := median(rows[i])
		fmt.Printf("\nFaldone's requests by operation (median run): %v; rclone's: %v\n\n", s.reqs, rs.reqs)
	}
}

// runChild runs cmd to its end, failing the test on a failure, and
// returns its peak resident set: the last VmHWM read while it ran. (The
// rusage of a child that Go starts reports the parent's resident set at
// the fork when that is larger, as the benchmark's own is.)
func runChild(t *testing.T, cmd *exec.Cmd) int64 {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peak int64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v\n%.3000s", filepath.Base(cmd.Path), err, out.String())
			}
			return peak
		case <-tick.C:
			if hwm, ok := vmHWM(cmd.Process.Pid); ok {
				peak = max(peak, hwm)
			}
		}
	}
}

// vmHWM is the peak resident set of a running process; false once it has
// ended.
func vmHWM(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}

// stamp makes the stream's bytes its own: the i-th file of a delivery.
func (r *noise) stamp(i int) { binary.LittleEndian.PutUint64(r.block[8:], uint64(i)) }
