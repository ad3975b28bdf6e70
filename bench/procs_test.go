//go:build bench

package bench

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// proc is a server process that the benchmark starts itself, so that it
// knows the PID whose peak memory and CPU time /proc reports.
type proc struct {
	name  string
	argv  []string
	env   []string
	log   string       // file that collects the process's output
	ready func() error // nil once the server answers requests

	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

func (p *proc) start(t testing.TB) {
	t.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() // the child has its own descriptor
	cmd := exec.Command(p.argv[0], p.argv[1:]...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func(done chan struct{}) {
		cmd.Wait()
		close(done)
	}(p.done)
	deadline := time.Now().Add(time.Minute)
	for p.ready() != nil {
		select {
		case <-p.done:
			t.Fatalf("%s exited: %v\n%s", p.name, cmd.ProcessState, tail(p.log))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer\n%s", p.name, tail(p.log))
		}
	}
}

// stop ends the process with SIGTERM, or SIGKILL when it lingers.
func (p *proc) stop() {
	if p.cmd == nil {
		return
	}
	harness.StopProcess(p.cmd.Process, p.done, 20*time.Second)
	p.cmd = nil
}

// peakRSS is the process's peak resident set size in bytes (VmHWM).
func (p *proc) peakRSS(t testing.TB) int64 { return p.status(t, "VmHWM") }

// rss is the process's resident set size in bytes (VmRSS).
func (p *proc) rss(t testing.TB) int64 { return p.status(t, "VmRSS") }

// resetPeak brings the peak RSS down to the current RSS, so that the next
// peakRSS tells what the work in between took (proc(5), clear_refs).
func (p *proc) resetPeak(t testing.TB) {
	t.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.cmd.Process.Pid), []byte("5"), 0); err != nil {
		t.Fatal(err)
	}
}

// status reads a size from /proc/PID/status, in bytes.
func (p *proc) status(t testing.TB, field string) int64 {
	t.Helper()
	return harness.ProcStatus(t, p.cmd.Process.Pid, field)
}

// cpuTime is the CPU time that the process used so far.
func (p *proc) cpuTime(t testing.TB) time.Duration {
	t.Helper()
	d, err := cpuOf(strconv.Itoa(p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// cpuOf is the CPU time that every thread of the process pid ("self" for
// this one) used so far, user and system, from /proc/PID/stat.
func cpuOf(pid string) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: the fields start after its ")".
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: %q", pid, b)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%s/stat: %w", pid, err)
	}
	// Linux reports in USER_HZ, which is 100 on every architecture Go
	// supports.
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// findPID returns the PID of the process whose command line holds arg:
// the harness starts versitygw without telling its PID.
func findPID(arg string) (string, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return "", err
	}
	for _, d := range dirs {
		b, err := os.ReadFile(d + "/cmdline")
		if err != nil {
			continue // gone already
		}
		if slices.Contains(strings.Split(string(b), "\x00"), arg) {
			return filepath.Base(d), nil
		}
	}
	return "", fmt.Errorf("no process has %q among its arguments", arg)
}

// machineTicks reads the time all the machine's cores spent, and spent
// busy, from /proc/stat, in USER_HZ ticks.
func machineTicks() (total, busy int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: %q", line)
	}
	for i, v := range f[1:9] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %q", line)
		}
		total += n
		if i != 3 && i != 4 { // idle and iowait
			busy += n
		}
	}
	return total, busy, nil
}

// tail is the end of a log file, for a failure message.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// childEnv is the environment without the variables that would configure
// the servers' S3 clients behind the benchmark's back.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "RCLONE_") || strings.HasPrefix(name, "FALDONE_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// rcloneVersion is the rclone that the benchmark builds when it is missing.
const rcloneVersion = "v1.76.0"

// rcloneBinary returns an rclone of rcloneVersion, built with `go install`
// into the user's cache folder the first time (about three minutes), since
// Debian's is years older.
func rcloneBinary(t testing.TB) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cache, "faldone-tools")
	bin := filepath.Join(dir, "rclone-"+rcloneVersion)
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	t.Logf("building rclone %s into %s (a few minutes, once)", rcloneVersion, bin)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A folder of its own, renamed into place: two benchmarks building at
	// once never see half a binary.
	gobin, err := os.MkdirTemp(dir, "rclone-build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(gobin)
	cmd := exec.Command("go", "install", "github.com/rclone/rclone@"+rcloneVersion)
	// Outside any module, so that the product's go.mod stays out of it.
	cmd.Dir = gobin
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install rclone: %v\n%s", err, out)
	}
	if err := os.Rename(filepath.Join(gobin, "rclone"), bin); err != nil {
		t.Fatal(err)
	}
	return bin
}
