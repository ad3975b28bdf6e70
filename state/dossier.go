package state

import (
	"context"
	"time"
)

// ClosedDossier is a dossier folder that a manager closed (fascicolo
// chiuso): nothing inside it may change through Faldone until an
// administrator reopens it.
type ClosedDossier struct {
	Path   string // namespace path of the folder
	By     string // who closed it
	Reason string
	Closed time.Time
}

// DossierStore keeps the closed dossiers.
type DossierStore interface {
	// CloseDossier records d; ErrExists when its path is closed already.
	CloseDossier(ctx context.Context, d ClosedDossier) error
	// ReopenDossier removes the closure of the folder p; ErrNotFound when
	// it is not closed.
	ReopenDossier(ctx context.Context, p string) error
	// ClosedDossiers returns, in one query and in path order, the closed
	// dossiers at p or above it and, with below, those below p too: what a
	// change of p (of its tree, with below) would change inside. "/" with
	// below lists them all.
	ClosedDossiers(ctx context.Context, p string, below bool) ([]ClosedDossier, error)
}
