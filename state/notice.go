package state

import (
	"context"
	"errors"
	"time"
)

// NoticeStore remembers the e-mails the service sent, or tried to send, so
// that each is sent once whatever the replicas and their restarts: a
// notice is named by its kind ("grant", "expiry", "summary") and a key of
// the kind's own (a grant's id; a summary's period and recipient).
//
// A notice is claimed before its message goes out and finished after, so
// a message is sent at most once: a claim whose process stopped while it
// was sending is never taken again (the message may have gone), and only a
// send that failed, as its sender knows, may be tried again, a bounded
// number of times.
type NoticeStore interface {
	// ClaimNotice marks the notice kind/key as being sent and reports
	// true, when the store holds no such notice, or holds one whose
	// sending failed fewer than maxAttempts times (counting this one, a
	// notice is attempted at most maxAttempts times); it reports false,
	// changing nothing, for a notice sent, being sent, refused, or failed
	// maxAttempts times. The check and the write are atomic across every
	// user of the store: of callers racing for a notice, one gets it.
	// expires is when the store may forget the notice (DeleteExpired),
	// once nothing could send it again.
	ClaimNotice(ctx context.Context, kind, key string, maxAttempts int, now, expires time.Time) (bool, error)
	// FinishNotice records the outcome of the claimed notice's sending:
	// NoticeSent, NoticeFailed (to be tried again while attempts remain)
	// or NoticeRefused (never to be tried again). ErrNotFound when no
	// such notice is held.
	FinishNotice(ctx context.Context, kind, key string, outcome NoticeState, now time.Time) error
	// Notice returns the notice kind/key (ErrNotFound).
	Notice(ctx context.Context, kind, key string) (Notice, error)
}

// Notice is the store's record of one e-mail.
type Notice struct {
	Kind, Key string
	State     NoticeState
	Attempts  int // sendings started, this one included
	Updated   time.Time
	Expires   time.Time
}

// NoticeState is where a notice's sending stands.
type NoticeState string

// The states of a notice.
const (
	NoticeSending NoticeState = "sending"
	NoticeSent    NoticeState = "sent"
	NoticeFailed  NoticeState = "failed"  // may be tried again
	NoticeRefused NoticeState = "refused" // refused for good (an address the server does not take)
)

// CheckOutcome refuses what is not the outcome of a sending.
func CheckOutcome(outcome NoticeState) error {
	switch outcome {
	case NoticeSent, NoticeFailed, NoticeRefused:
		return nil
	}
	return errors.New("the outcome must be sent, failed or refused")
}

// CheckNotice refuses what no store may hold as a notice, so that the
// stores agree.
func CheckNotice(kind, key string, maxAttempts int, now, expires time.Time) error {
	switch {
	case kind == "" || key == "":
		return errors.New("the kind and the key must be set")
	case !IsValidText(kind) || !IsValidText(key):
		return errors.New("the kind or the key is not valid UTF-8 or holds a NUL")
	case maxAttempts < 1:
		return errors.New("maxAttempts must be at least 1")
	case now.IsZero() || expires.IsZero():
		return errors.New("now and expires must be set")
	}
	return nil
}
