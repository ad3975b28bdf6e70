//go:build bench

package bench

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// win32Propfind names the live properties a listing shows and the Win32
// times and attributes, which are dead properties here. Windows' WebClient
// itself lists with an empty body, the other row (captures cited in
// gateway/dav's TestWindowsListingSize); clients that imitate it send this.
const win32Propfind = `<?xml version="1.0" encoding="utf-8" ?>` +
	`<D:propfind xmlns:D="DAV:"><D:prop xmlns:Z="urn:schemas-microsoft-com:">` +
	`<D:getlastmodified/><D:getcontentlength/><D:resourcetype/><D:creationdate/><D:displayname/><D:getcontenttype/>` +
	`<Z:Win32FileAttributes/><Z:Win32CreationTime/><Z:Win32LastAccessTime/><Z:Win32LastModifiedTime/>` +
	`</D:prop></D:propfind>`

// The shape of the work; BENCH_RUNS and BENCH_BIG_MIB change the rest.
const (
	smallFiles   = 500
	smallSize    = 4 << 10
	smallConc    = 8 // PUTs at once, for every subject
	dossierFiles = 200
	dossierSize  = 64 << 10 // bytes per file of the dossier that is moved
	moveConc     = 8        // CopyObject requests at once, for direct S3
	saves        = 10       // AutoCAD saves of one drawing per run, one after the other
	readers      = 20       // GETs at once, each of its own file
	readSize     = 32 << 20 // bytes of each of those files
)

// drawingSizes are the sizes of the drawings saved, in MiB: a small one,
// written with one PutObject, and DESIGN.md's, which takes a multipart
// upload at Faldone's part size.
var drawingSizes = []int{1, 20}

var listSizes = []int{1000, 10000}

func TestBenchmark(t *testing.T) {
	runs := envInt(t, "BENCH_RUNS", 3)
	bigSize := int64(envInt(t, "BENCH_BIG_MIB", 1024)) * mib
	only := envRegexp(t, "BENCH_ONLY")
	want := func(name string) bool { return only == nil || only.MatchString(name) }
	withRclone := os.Getenv("BENCH_NO_RCLONE") == ""
	began, load := time.Now(), loadAverage()

	s3srv := harness.StartS3(t)
	s3srv.CreateBucket(t, bucket)
	sd := &seeder{root: filepath.Join(s3srv.Dir, bucket), client: s3srv.Client()}
	slugs := map[string]string{faldone: "faldone", rclone: "rclone", direct: "direct"}

	t.Log("seeding the bucket")
	sd.folder(t, comune+"/")
	for _, n := range listSizes {
		sd.files(t, fmt.Sprintf("%s/list-%d/", comune, n), n, 256, smallName)
	}
	sd.folder(t, comune+"/big/")
	sd.write(t, filepath.Join(sd.root, comune, "big", "source.bin"), newNoise(bigSize))
	for i := range readers {
		sd.write(t, filepath.Join(sd.root, comune, "big", readerName(i)), newNoise(readSize))
	}
	sd.folder(t, comune+"/small/")
	sd.folder(t, comune+"/move/")
	sd.folder(t, comune+"/autocad/")
	for r := range runs {
		for _, sub := range subjects {
			sd.files(t, fmt.Sprintf("%s/move/%s-r%d/PC-2019-0042/", comune, slugs[sub], r), dossierFiles, dossierSize, smallName)
		}
	}
	for _, size := range drawingSizes {
		for r := range runs {
			for _, sub := range subjects {
				dir := filepath.Join(sd.root, comune, "autocad", fmt.Sprintf("%s-%dmib-r%d", slugs[sub], size, r))
				sd.folder(t, fmt.Sprintf("%s/autocad/%s-%dmib-r%d/", comune, slugs[sub], size, r))
				sd.write(t, filepath.Join(dir, "tavola.dwg"), newNoise(int64(size)*mib))
				sd.write(t, filepath.Join(dir, "tavola.bak"), newNoise(int64(size)*mib))
			}
		}
	}
	t.Logf("seeded in %v", time.Since(began).Round(time.Second))

	vgw, err := findPID(s3srv.Dir)
	if err != nil {
		t.Fatal(err)
	}
	// Each subject has its own counting proxy: its S3 requests are its own.
	fal := startFaldone(t, s3srv, s3srv.Counting(t), vgw, "")
	defer fal.stop()
	servers := []*davServer{fal}
	var rcl *davServer
	if withRclone {
		rcl = startRclone(t, s3srv, s3srv.Counting(t), vgw)
		defer rcl.stop()
		servers = append(servers, rcl)
	}
	dir := newDirect(s3srv.Counting(t), vgw)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("faldone's log ends:\n%s", tail(fal.proc.log))
			if rcl != nil {
				t.Logf("rclone's log ends:\n%s", tail(rcl.proc.log))
			}
		}
	})

	res := newResults()
	// do reports whether the work is to run, and with which subjects.
	do := func(w work, sub string) bool {
		return want(w.name) && (sub != rclone || withRclone)
	}
	// Each work sets currentWork first, which names its profiles.
	record := func(w work, sub string, run int, s sample) {
		res.add(w, sub, s)
		t.Logf("%s — %s, run %d: %s, %d S3 requests", w.name, sub, run+1, w.unit.format(w.unit.value(s)), total(s.reqs))
	}

	// The runs of a work alternate between the subjects, so that whatever
	// else the machine does weighs on all of them alike.
	for r := range runs {
		for _, n := range listSizes {
			p := fmt.Sprintf("list-%d/", n)
			for _, body := range []struct{ name, xml string }{{"empty body", ""}, {"Win32 properties", win32Propfind}} {
				w := work{name: fmt.Sprintf("PROPFIND Depth 1, %s entries, %s", thousands(n), body.name), unit: seconds, target: nearDirect}
				if !want(w.name) {
					continue
				}
				currentWork = w.name
				for _, s := range servers {
					record(w, s.name, r, s.propfind(t, "/"+p, body.xml, n))
				}
				record(w, direct, r, dir.list(t, comune+"/"+p, n))
			}
		}
	}

	bigName := fmt.Sprintf("%s MiB", thousands(int(bigSize/mib)))
	if bigSize == 1<<30 {
		bigName = "1 GiB"
	}
	get := work{name: "GET " + bigName, unit: mbPerSec, target: mostOfDirect}
	currentWork = get.name
	for r := range runs {
		if !want(get.name) {
			break
		}
		for _, s := range servers {
			record(get, s.name, r, s.get(t, "/big/source.bin", bigSize))
		}
		record(get, direct, r, dir.get(t, comune+"/big/source.bin", bigSize))
	}

	many := work{name: fmt.Sprintf("%d GETs at once, %d MiB each", readers, readSize>>20), unit: mbPerSec, target: parallelReads}
	currentWork = many.name
	for r := range runs {
		if !want(many.name) {
			break
		}
		paths := make([]string, readers)
		for i := range paths {
			paths[i] = "/big/" + readerName(i)
		}
		for _, s := range servers {
			record(many, s.name, r, s.getMany(t, paths, readSize))
		}
		for i := range paths {
			paths[i] = comune + paths[i]
		}
		record(many, direct, r, dir.getMany(t, paths, readSize))
	}

	put := work{name: "PUT " + bigName, unit: mbPerSec, target: bigWrites}
	currentWork = put.name
	for r := range runs {
		for _, sub := range subjects {
			if !do(put, sub) {
				continue
			}
			p := fmt.Sprintf("big/put-%s-r%d.bin", slugs[sub], r)
			var s sample
			switch sub {
			case faldone:
				s = fal.put(t, "/"+p, bigSize)
			case rclone:
				s = rcl.put(t, "/"+p, bigSize)
			default:
				s = dir.put(t, comune+"/"+p, bigSize)
			}
			if got := sd.size(t, comune+"/"+p); got != bigSize {
				t.Fatalf("%s PUT %s: stored %d bytes, want %d", sub, p, got, bigSize)
			}
			sd.remove(t, comune+"/"+p) // a gigabyte less on the disk
			record(put, sub, r, s)
		}
	}

	small := work{name: fmt.Sprintf("%d PUTs of %d KiB, %d at once", smallFiles, smallSize>>10, smallConc), unit: filesPerSec, target: smallWrites, per: "file"}
	currentWork = small.name
	for r := range runs {
		for _, sub := range subjects {
			if !do(small, sub) {
				continue
			}
			p := fmt.Sprintf("small/%s-r%d/", slugs[sub], r)
			var s sample
			switch sub {
			case faldone:
				s = fal.putMany(t, "/"+p, smallFiles, smallSize, smallConc)
			case rclone:
				s = rcl.putMany(t, "/"+p, smallFiles, smallSize, smallConc)
			default:
				s = dir.putMany(t, comune+"/"+p, smallFiles, smallSize, smallConc)
			}
			if got := sd.count(t, comune+"/"+p); got != smallFiles {
				t.Errorf("%s: %d files in %s, want %d", sub, got, p, smallFiles)
			}
			record(small, sub, r, s)
		}
	}

	move := work{name: fmt.Sprintf("MOVE of a %d-file dossier folder (%d KiB files)", dossierFiles, dossierSize>>10), unit: seconds}
	currentWork = move.name
	for r := range runs {
		for _, sub := range subjects {
			if !do(move, sub) {
				continue
			}
			src := fmt.Sprintf("move/%s-r%d/PC-2019-0042/", slugs[sub], r)
			dst := fmt.Sprintf("move/%s-r%d/PC-2019-0042-archiviata/", slugs[sub], r)
			var s sample
			switch sub {
			case faldone:
				s = fal.move(t, "/"+src, "/"+dst)
			case rclone:
				s = rcl.move(t, "/"+src, "/"+dst)
			default:
				s = dir.move(t, comune+"/"+src, comune+"/"+dst, moveConc)
			}
			if got, left := sd.count(t, comune+"/"+dst), sd.count(t, comune+"/"+src); got != dossierFiles || left != 0 {
				t.Errorf("%s MOVE %s: %d files moved, %d left, want %d and 0", sub, src, got, left, dossierFiles)
			}
			record(move, sub, r, s)
		}
	}

	for _, size := range drawingSizes {
		save := work{name: fmt.Sprintf("AutoCAD save sequence, %d MiB drawing (per save, %d saves)", size, saves), unit: secondsEach, target: saveSequence, per: "save"}
		currentWork = save.name
		drawing, err := io.ReadAll(newNoise(int64(size) * mib))
		if err != nil {
			t.Fatal(err)
		}
		for r := range runs {
			for _, sub := range subjects {
				if !do(save, sub) {
					continue
				}
				folder := fmt.Sprintf("autocad/%s-%dmib-r%d/", slugs[sub], size, r)
				var s sample
				switch sub {
				case faldone:
					s = fal.saves(t, "/"+folder, saves, int64(size)*mib)
				case rclone:
					s = rcl.saves(t, "/"+folder, saves, int64(size)*mib)
				default:
					s = dir.saves(t, comune+"/"+folder, saves, drawing)
				}
				for _, name := range []string{"tavola.dwg", "tavola.bak"} {
					if got := sd.size(t, comune+"/"+folder+name); got != int64(size)*mib {
						t.Errorf("%s: %s%s holds %d bytes after the saves, want %d", sub, folder, name, got, int64(size)*mib)
					}
				}
				if got := sd.count(t, comune+"/"+folder); got != 2 {
					t.Errorf("%s: %d files in %s after the saves, want the drawing and its backup", sub, got, folder)
				}
				record(save, sub, r, s)
			}
		}
	}

	// The recycle bin: on this bucket, with a Faldone whose bin is off
	// beside, then on a versioned one.
	off := startFaldone(t, s3srv, s3srv.Counting(t), vgw, "trash:\n  disabled: true\n")
	defer off.stop()
	plain := bucketKind{name: "unversioned bucket", fal: fal, off: off, rcl: rcl, dir: dir, sd: sd}
	versioned := startVersioned(t)
	defer versioned.fal.stop()
	benchRecycleBin(t, []bucketKind{plain, versioned}, runs, do, record)

	// Other work on the machine weighs on every figure: say how much there was.
	fmt.Printf("\n%s; benchmark took %v; load average %s at its start, %s at its end.\n\n",
		machine(t, rcl), time.Since(began).Round(time.Second), load, loadAverage())
	res.print(os.Stdout, runs)
	fmt.Println()
}

// readerName names the i-th file that the parallel GETs read.
func readerName(i int) string { return fmt.Sprintf("parallel-%02d.bin", i) }

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// envRegexp is the regular expression in the variable name, nil when it
// is unset.
func envRegexp(t *testing.T, name string) *regexp.Regexp {
	v := os.Getenv(name)
	if v == "" {
		return nil
	}
	re, err := regexp.Compile(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return re
}

// thousands writes n with a comma between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// loadAverage is the machine's load average over the last minute.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	first, _, _ := strings.Cut(string(b), " ")
	return first
}

// machine describes where the figures come from.
func machine(t *testing.T, rcl *davServer) string {
	model, mem := "?", "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if m := regexp.MustCompile(`(?m)^model name\s*:\s*(.+)$`).FindSubmatch(b); m != nil {
			model = string(m[1])
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if m := regexp.MustCompile(`MemTotal:\s*(\d+) kB`).FindSubmatch(b); m != nil {
			kb, _ := strconv.ParseFloat(string(m[1]), 64)
			mem = fmt.Sprintf("%.0f GiB", kb/(1<<20))
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	vgw := "?"
	if b, err := os.ReadFile(filepath.Join(harness.Root(), "tests", "tools", "go.mod")); err == nil {
		if m := regexp.MustCompile(`github.com/versity/versitygw (v\S+)`).FindSubmatch(b); m != nil {
			vgw = string(m[1])
		}
	}
	rcv := "not run"
	if rcl != nil {
		rcv = "?"
		if out, err := exec.Command(rcl.proc.argv[0], "version").Output(); err == nil {
			rcv, _, _ = strings.Cut(strings.TrimPrefix(string(out), "rclone "), "\n")
		}
	}
	return fmt.Sprintf("%s: Faldone %s; %d cores (%s), %s memory, Linux %s, %s; versitygw %s (posix); rclone %s",
		time.Now().Format("2006-01-02"), revision(), runtime.NumCPU(), model, mem, strings.TrimSpace(string(kernel)), runtime.Version(), vgw, rcv)
}

// revision names the commit that the faldone binary was built from, and
// says when the tree had changes besides.
func revision() string {
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = harness.Root()
		out, err := cmd.Output()
		if err != nil {
			return "?"
		}
		return strings.TrimSpace(string(out))
	}
	rev := "at " + git("rev-parse", "--short", "HEAD")
	if git("status", "--porcelain", "--untracked-files=no") != "" {
		rev += " with uncommitted changes"
	}
	return rev
}
