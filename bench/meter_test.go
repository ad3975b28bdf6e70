//go:build bench

package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// meter takes the readings around one piece of work: the S3 requests on
// the subject's own counting proxy, and the CPU time of everything that
// shares the machine's cores, which tells what a 2-core machine is short of.
type meter struct {
	s3     *harness.S3Counter
	server *proc  // nil for direct S3
	vgwPID string // versitygw's process
}

// cpuReading is the CPU clocks at one moment.
type cpuReading struct {
	server, vgw, self time.Duration
	total, busy       int64 // ticks of all cores, and of busy ones
}

func (m meter) read(t *testing.T) cpuReading {
	t.Helper()
	var r cpuReading
	var err error
	if m.server != nil {
		r.server = m.server.cpuTime(t)
	}
	if r.vgw, err = cpuOf(m.vgwPID); err != nil {
		t.Fatal(err)
	}
	if r.self, err = cpuOf("self"); err != nil {
		t.Fatal(err)
	}
	if r.total, r.busy, err = machineTicks(); err != nil {
		t.Fatal(err)
	}
	return r
}

// measure runs fn and returns its time, the S3 requests it caused, and the
// CPU time each process spent meanwhile.
func (m meter) measure(t *testing.T, fn func()) sample {
	t.Helper()
	stopPerf := m.perf(t)
	m.s3.Reset()
	before := m.read(t)
	start := time.Now()
	fn()
	dur := time.Since(start)
	after := m.read(t)
	stopPerf()
	s := sample{dur: dur, reqs: m.s3.Counts(),
		cpu: after.server - before.server, cpuS3: after.vgw - before.vgw, cpuBench: after.self - before.self}
	if n := after.total - before.total; n > 0 {
		s.busy = float64(after.busy-before.busy) / float64(n)
	}
	return s
}

// currentWork names the work being measured, for the names of profiles.
var currentWork string

// perfRuns numbers the profiles that BENCH_PERF asks for.
var perfRuns atomic.Int64

// perf starts `perf record` on the server process when BENCH_PERF names a
// folder, and returns what stops it; the profile goes to that folder, named
// after the test's current work (see bench/README.md).
func (m meter) perf(t *testing.T) (stop func()) {
	dir := os.Getenv("BENCH_PERF")
	if dir == "" || m.server == nil || m.server.cmd == nil {
		return func() {}
	}
	name := fmt.Sprintf("%03d-%s-%s.data", perfRuns.Add(1), m.server.name, regexp.MustCompile(`[^A-Za-z0-9]+`).ReplaceAllString(strings.ToLower(currentWork), "-"))
	cmd := exec.Command("perf", "record", "-q", "-F", "997", "-g", "-p", fmt.Sprint(m.server.cmd.Process.Pid), "-o", filepath.Join(dir, name))
	if err := cmd.Start(); err != nil {
		t.Fatalf("perf: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // let it attach
	return func() {
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
	}
}
