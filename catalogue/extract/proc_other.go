//go:build !unix

package extract

import (
	"os/exec"
	"time"
)

// killGroup only bounds the wait: without process groups, cancelling
// kills the process itself (exec's default), not its children.
func killGroup(cmd *exec.Cmd) {
	cmd.WaitDelay = time.Second
}
