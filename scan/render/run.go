package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// tool is how a renderer runs the Debian tools that decode files: each
// run under prlimit (address space, CPU time, size of the files it
// writes), with a deadline, a clean environment and its standard error
// kept for the log, never for a person.
type tool struct {
	timeout  time.Duration
	memory   int64 // bytes of address space
	output   int64 // bytes of a file written
	dir      string
	mu       sync.Mutex
	peakRSS  int64 // the largest max RSS of a run, in bytes
	runs     int64
	lastRSS  int64
	prlimit  string
	stderrTo func(name string, stderr string, err error)
}

// errTimeout: a tool ran past its deadline.
var errTimeout = errors.New("render: the tool ran too long")

// stderrMax bounds what is kept of a tool's standard error, stdoutMax
// of its standard output.
const (
	stderrMax = 2048
	stdoutMax = 1 << 20
)

type boundedBuffer struct{ bytes.Buffer }

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := stderrMax - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// run runs name with args and returns its standard output (bounded too).
func (t *tool) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	cpu := max(int64(t.timeout/time.Second), 1)
	full := append([]string{"--as=" + strconv.FormatInt(t.memory, 10), "--cpu=" + strconv.FormatInt(cpu, 10),
		"--fsize=" + strconv.FormatInt(t.output, 10), "--core=0", "--", name}, args...)
	cmd := exec.CommandContext(ctx, t.prlimit, full...)
	cmd.Dir = t.dir
	// Nothing of the server's environment: no credentials reach a decoder.
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.dir, "TMPDIR=" + t.dir, "LANG=C.UTF-8",
		"VIPS_CONCURRENCY=1", "VIPS_WARNING=0"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	var stderr boundedBuffer
	// What the tools print is a few lines (pdfinfo's); their images go to
	// files, bounded by --fsize.
	out := &limitedBuffer{max: stdoutMax}
	cmd.Stdout = out
	cmd.Stderr = &stderr
	err := cmd.Run()
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss := ru.Maxrss * 1024 // kilobytes on Linux
			t.mu.Lock()
			t.runs++
			t.lastRSS = rss
			t.peakRSS = max(t.peakRSS, rss)
			t.mu.Unlock()
		}
	}
	if err != nil {
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = errTimeout
		}
		if t.stderrTo != nil {
			t.stderrTo(name, strings.TrimSpace(stderr.String()), err)
		}
		return nil, fmt.Errorf("render: %s: %w", name, err)
	}
	if out.over {
		return nil, fmt.Errorf("render: %s printed more than %d bytes", name, stdoutMax)
	}
	return out.Bytes(), nil
}

// limitedBuffer keeps at most max bytes and remembers that there were more.
type limitedBuffer struct {
	bytes.Buffer
	max  int64
	over bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := b.max - int64(b.Len()); int64(n) > room {
		b.over = true
		p = p[:max(room, 0)]
	}
	b.Buffer.Write(p)
	return n, nil
}
