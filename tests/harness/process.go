package harness

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Kill ends the process with SIGKILL, as a crash would, and waits for it.
func (g *Gateway) Kill() {
	if g.cmd == nil {
		return
	}
	g.cmd.Process.Kill()
	<-g.done
	g.cmd = nil
}

// Terminate sends SIGTERM without waiting: the caller watches what the
// stopping process still does.
func (g *Gateway) Terminate() {
	if g.cmd != nil {
		g.cmd.Process.Signal(syscall.SIGTERM)
	}
}

// Exited waits up to d for the process to end and reports whether it did.
func (g *Gateway) Exited(d time.Duration) bool {
	select {
	case <-g.done:
		return true
	case <-time.After(d):
		return false
	}
}

// Signal sends sig to the process.
func (g *Gateway) Signal(sig os.Signal) {
	if g.cmd != nil {
		g.cmd.Process.Signal(sig)
	}
}

// StopProcess ends a process with SIGTERM and waits until done is closed;
// a process still there after grace is killed.
func StopProcess(p *os.Process, done <-chan struct{}, grace time.Duration) {
	p.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		p.Kill()
		<-done
	}
}

// PeakRSS is the process's peak resident set size so far, in bytes
// (VmHWM in /proc/PID/status).
func (g *Gateway) PeakRSS() int64 {
	g.t.Helper()
	if g.cmd == nil {
		g.t.Fatal("PeakRSS: the gateway is not running")
	}
	return ProcStatus(g.t, g.cmd.Process.Pid, "VmHWM")
}

// ProcStatus reads a size field (VmHWM, VmRSS…) of /proc/PID/status, in
// bytes.
func ProcStatus(t testing.TB, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s %q: %v", field, v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
