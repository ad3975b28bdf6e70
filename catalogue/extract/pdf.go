package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
)

// pdf adds the text of a PDF, as poppler's pdftotext reads it: the most
// faithful extractor around, at the price of a subprocess, which is
// bounded here in time (the process group is killed, so that nothing is
// left behind) and in the output read. No shell runs: the PDF goes in on
// stdin and the text comes out on stdout, so that no temporary file or
// host path is involved.
func (x *Extractor) pdf(ctx context.Context, data []byte, t *sink) error {
	tctx, cancel := context.WithTimeout(ctx, x.timeout)
	defer cancel()
	cmd := exec.CommandContext(tctx, x.pdftotext, "-enc", "UTF-8", "-eol", "unix", "-", "-")
	// The gateway's environment may hold credentials: pdftotext needs
	// none of it.
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C.UTF-8"}
	cmd.Stdin = bytes.NewReader(data)
	// Whitespace is collapsed later: read a few times the text kept, then
	// stop pdftotext rather than let it write pages nobody reads.
	out := &capped{max: 4*x.maxText + 64<<10, full: cancel}
	errOut := &capped{max: 2 << 10}
	cmd.Stdout, cmd.Stderr = out, errOut
	killGroup(cmd)
	err := cmd.Run()
	out.mu.Lock()
	truncated := out.truncated
	out.mu.Unlock()
	switch {
	case truncated:
		// Killed on purpose once enough text was read.
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(tctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("pdftotext ran longer than %v: %w", x.timeout, context.DeadlineExceeded)
	case err != nil:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			// Not err itself: exec's errors name the program's host path.
			return fmt.Errorf("pdftotext: %s: %s", exit.ProcessState, firstLine(errOut.buf.String()))
		}
		// Not err itself either: it may name the host path (fork/exec
		// /usr/bin/pdftotext: …); what it wraps says why.
		if u := errors.Unwrap(err); u != nil {
			return fmt.Errorf("pdftotext did not run: %w", u)
		}
		return errors.New("pdftotext did not run")
	}
	t.text(out.buf.String())
	return nil
}

// firstLine returns the first non-empty line of pdftotext's messages, the
// reason it gave up ("Syntax Error: Couldn't find trailer dictionary").
func firstLine(s string) string {
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return "no message"
}

// capped keeps the first max bytes written to it and discards the rest,
// calling full once when it is full.
type capped struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	max       int
	truncated bool
	full      func()
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	if room := c.max - c.buf.Len(); len(p) > room {
		p = p[:max(room, 0)]
		if !c.truncated {
			c.truncated = true
			if c.full != nil {
				c.full()
			}
		}
	}
	c.buf.Write(p)
	return n, nil
}
