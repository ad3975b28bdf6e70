//go:build bench

package bench

import (
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
	m.s3.Reset()
	before := m.read(t)
	start := time.Now()
	fn()
	dur := time.Since(start)
	after := m.read(t)
	s := sample{dur: dur, reqs: m.s3.Counts(),
		cpu: after.server - before.server, cpuS3: after.vgw - before.vgw, cpuBench: after.self - before.self}
	if n := after.total - before.total; n > 0 {
		s.busy = float64(after.busy-before.busy) / float64(n)
	}
	return s
}
