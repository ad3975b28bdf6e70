package archive

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/state"
)

// Closing is a step of a dossier's life, not an operation of a person's
// request: a manager (today through the command line) closes a dossier
// folder once its procedure ends, and from then on CheckWrite and Lock
// refuse every change inside it, by whoever, through whichever way in,
// with a *ClosedError; an administrator reopens it.

// DossierStore is what closing needs of the state store.
type DossierStore interface {
	CloseDossier(ctx context.Context, d state.ClosedDossier) error
	ReopenDossier(ctx context.Context, p string) error
}

// CloseDossier closes the folder p, a dossier below a Comune's own folder,
// as by, for reason. ErrExists: it is closed already.
func (s *Service) CloseDossier(ctx context.Context, st DossierStore, p, by, reason string) (state.ClosedDossier, error) {
	p, err := Path(p)
	if err != nil {
		return state.ClosedDossier{}, err
	}
	if strings.Count(p, "/") < 2 {
		return state.ClosedDossier{}, fmt.Errorf("%s is not a dossier folder inside a Comune: %w", p, ErrForbidden)
	}
	if strings.TrimSpace(reason) == "" {
		return state.ClosedDossier{}, errors.New("a closure needs its reason")
	}
	e, err := s.fs.Stat(ctx, backendPath(p))
	if err != nil {
		return state.ClosedDossier{}, err
	}
	if !e.IsDir {
		return state.ClosedDossier{}, fmt.Errorf("%s: %w", p, backends.ErrNotDir)
	}
	d := state.ClosedDossier{Path: p, By: by, Reason: reason, Closed: s.now().UTC()}
	if err := st.CloseDossier(ctx, d); err != nil {
		if errors.Is(err, state.ErrExists) {
			return state.ClosedDossier{}, fmt.Errorf("%s is closed already: %w", p, ErrExists)
		}
		return state.ClosedDossier{}, err
	}
	if err := s.hold(ctx, p, true); err != nil {
		return d, fmt.Errorf("%s is closed, but the storage did not hold its objects: %w", p, err)
	}
	return d, nil
}

// ClosingOptions configure how the storage itself keeps a closed dossier,
// where it can (S3 Object Lock).
type ClosingOptions struct {
	// Retention, when positive, is a compliance retention of that long from
	// the closing, which nobody lifts or shortens, a reopening included;
	// zero is a legal hold, lifted by a reopening.
	Retention time.Duration
}

// hold puts or lifts the storage's own hold (S3 Object Lock's legal hold,
// or its compliance retention) on every object of the dossier p, where
// the storage has one.
func (s *Service) hold(ctx context.Context, p string, on bool) error {
	h, ok := s.fs.(backends.Holder)
	if !ok {
		return nil
	}
	var until time.Time
	if r := s.opts.Closing.Retention; r > 0 {
		if !on {
			// A compliance retention outlives the closing: a reopened
			// dossier takes new versions, and its kept ones wait.
			s.log.Info("dossier reopened; its objects stay under the storage's compliance retention", "path", p)
			return nil
		}
		until = s.now().Add(r)
	}
	n, err := h.Hold(ctx, backendPath(p), on, until)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil
	}
	if err != nil {
		return err
	}
	if !until.IsZero() {
		s.log.Info("dossier objects retained by the storage", "path", p, "mode", "compliance", "until", until.UTC().Format(time.RFC3339), "objects", n)
		return nil
	}
	s.log.Info("dossier objects held by the storage", "path", p, "hold", on, "objects", n)
	return nil
}

// ReopenDossier reopens the closed dossier p. ErrNotFound: it is not
// closed.
func (s *Service) ReopenDossier(ctx context.Context, st DossierStore, p string) error {
	p, err := Path(p)
	if err != nil {
		return err
	}
	if err := st.ReopenDossier(ctx, p); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return fmt.Errorf("%s is not a closed dossier: %w", p, ErrNotFound)
		}
		return err
	}
	if err := s.hold(ctx, p, false); err != nil {
		return fmt.Errorf("%s is reopened, but the storage did not lift its hold: %w", p, err)
	}
	return nil
}
