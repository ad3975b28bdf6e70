package audit

import (
	"context"
	"encoding/hex"
	"sync"
)

// A request's audit record is built by the access log, after the handler;
// what only the operation knows — the SHA-256 of the file a write stored —
// reaches it through a note in the request's context. The archive service
// writes it as an after-effect of the write; the record that follows takes
// it, so that a page request making several changes gives each its own.

type noteKey struct{}

type note struct {
	mu     sync.Mutex
	sha256 string
}

// WithNote returns ctx with a note for its request's audit records.
func WithNote(ctx context.Context) context.Context {
	return context.WithValue(ctx, noteKey{}, &note{})
}

// NoteSHA256 tells the request's next audit record the SHA-256 of the file
// the request wrote. Without a note in ctx (a command's own operations) it
// does nothing.
func NoteSHA256(ctx context.Context, sum [32]byte) {
	if n, ok := ctx.Value(noteKey{}).(*note); ok {
		n.mu.Lock()
		n.sha256 = hex.EncodeToString(sum[:])
		n.mu.Unlock()
	}
}

// TakeSHA256 returns the SHA-256 noted since the last take, in
// hexadecimal, and forgets it; "" when none was.
func TakeSHA256(ctx context.Context) string {
	n, ok := ctx.Value(noteKey{}).(*note)
	if !ok {
		return ""
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	s := n.sha256
	n.sha256 = ""
	return s
}
