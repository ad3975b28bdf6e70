package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/bassareggiana/faldone/backends/state"
)

// auditStore is where the audit log goes.
type auditStore interface {
	AppendAudit(ctx context.Context, recs []state.AuditRecord) error
	DeleteAuditBefore(ctx context.Context, t time.Time) error
}

// auditor writes audit records in batches from one goroutine, so that a
// request never waits for the database, and as JSON lines to a file. A
// request waits only when the queue is full: records are never dropped.
type auditor struct {
	store auditStore
	lines io.Writer // may be nil
	log   *slog.Logger
	queue chan state.AuditRecord
	done  chan struct{}
	once  sync.Once
	// comuni are the configured Comuni: the first name of a path files a
	// record under a Comune only when it is one.
	comuni map[string]bool
}

func newAuditor(store auditStore, lines io.Writer, comuni []string, log *slog.Logger) *auditor {
	a := &auditor{store: store, lines: lines, log: log, queue: make(chan state.AuditRecord, 4096), done: make(chan struct{}), comuni: map[string]bool{}}
	for _, c := range comuni {
		a.comuni[c] = true
	}
	return a
}

func (a *auditor) record(r state.AuditRecord) { a.queue <- r }

// run writes batches until close, then what is left.
func (a *auditor) run() {
	defer close(a.done)
	batch := make([]state.AuditRecord, 0, 256)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := a.store.AppendAudit(context.Background(), batch); err != nil {
			// The JSON lines still hold them; say so loudly.
			a.log.Error("audit: store write failed", "records", len(batch), "err", err)
		}
		if a.lines != nil {
			enc := json.NewEncoder(a.lines)
			for _, r := range batch {
				if err := enc.Encode(auditLine(r)); err != nil {
					a.log.Error("audit: file write failed", "err", err)
					break
				}
			}
		}
		batch = batch[:0]
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case r, ok := <-a.queue:
			if !ok {
				flush()
				return
			}
			batch = append(batch, r)
			if len(batch) == cap(batch) {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// close stops taking records and waits until all are written.
func (a *auditor) close() {
	a.once.Do(func() { close(a.queue) })
	<-a.done
}

// auditLine is a record as a JSON line.
func auditLine(r state.AuditRecord) any {
	return struct {
		Time        time.Time `json:"time"`
		RequestID   string    `json:"request_id"`
		Person      string    `json:"person,omitempty"`
		Credential  string    `json:"credential,omitempty"`
		Client      string    `json:"client"`
		Method      string    `json:"method"`
		Path        string    `json:"path"`
		Destination string    `json:"destination,omitempty"`
		Comune      string    `json:"comune,omitempty"`
		Status      int       `json:"status"`
		Bytes       int64     `json:"bytes"`
	}{r.Time, r.RequestID, r.Person, r.Credential, r.Client, r.Method, r.Path, r.Destination, r.Comune, r.Status, r.Bytes}
}

// comuneOf returns the Comune of a namespace path, or "" for a path
// outside every Comune (the root, or a name a client probed).
func (a *auditor) comuneOf(p string) string {
	c, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if !a.comuni[c] {
		return ""
	}
	return c
}

// destinationPath is the path of a Destination header, for the record.
func destinationPath(r *http.Request) string {
	d := r.Header.Get("Destination")
	if d == "" {
		return ""
	}
	if u, err := url.Parse(d); err == nil {
		return u.Path
	}
	return d
}
