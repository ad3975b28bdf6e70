package audit

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// Recorder takes audit records: a Log (the server's spool), or a Direct
// (a command run beside it).
type Recorder interface {
	Record(r state.AuditRecord) error
}

// Direct records straight to the state store and to the JSON lines, for a
// command that changes what the server audits (a grant made from the
// command line) while the server, which holds the spool, may be running.
// Each record is the spool's: its text made valid, a key of its own, the
// same JSON line; a line is one write to a file opened for appending, so
// it does not mix with the server's.
type Direct struct {
	Store   Store
	Lines   io.Writer // nil: none
	Timeout time.Duration
}

var _ Recorder = (*Log)(nil)
var _ Recorder = Direct{}

// Record stores r, then writes its line.
func (d Direct) Record(r state.AuditRecord) error {
	r, b, err := prepare(r)
	if err != nil {
		return err
	}
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := d.Store.AppendAudit(ctx, []state.AuditRecord{r}); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if d.Lines != nil {
		if _, err := d.Lines.Write(b); err != nil {
			return fmt.Errorf("audit: JSON lines: %w", err)
		}
	}
	return nil
}

// OpenLines opens the JSON lines of the configuration's audit.file: a
// path, opened for appending, owner only; "-" for stdout (nil: none, for
// a command whose standard output is not the server's); "" for none. The
// closer is never nil.
func OpenLines(file string, stdout io.Writer) (io.Writer, io.Closer, error) {
	switch file {
	case "":
		return nil, io.NopCloser(nil), nil
	case "-":
		return stdout, io.NopCloser(nil), nil
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("audit file: %w", err)
	}
	return f, f, nil
}
