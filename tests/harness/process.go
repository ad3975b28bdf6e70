package harness

import (
	"os"
	"syscall"
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
