//go:build unix

package extract

import (
	"os/exec"
	"syscall"
	"time"
)

// killGroup runs cmd in a process group of its own and makes cancelling it
// kill the whole group, so that a helper pdftotext started, or a wrapper
// script's children, do not outlive it.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	// A process that escaped the group and holds the pipes open does not
	// keep Wait waiting.
	cmd.WaitDelay = time.Second
}
