// Package grants holds the rules of accesso agli atti grants that the
// managers' page and the command line share, so that a grant made from
// either is checked alike.
package grants

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
)

// The refusals of a grant's dossier. A dossier is a folder: a grant gives
// a subtree, and the folders above it show the way there.
var (
	// ErrBadPath: not the path of something inside a Comune the granter
	// may grant in.
	ErrBadPath = errors.New("not a path inside a Comune")
	// ErrNoFolder: nothing is there.
	ErrNoFolder = errors.New("no such folder")
	// ErrNotFolder: a file is there.
	ErrNotFolder = errors.New("a file, not a folder")
)

// Archive looks up paths of the archive (a backends.Backend does).
type Archive interface {
	Stat(ctx context.Context, p string) (backends.Entry, error)
}

// Path reads the dossier of a grant as a person typed or pasted it, and
// returns it as requests name it (cleaned, accented letters composed, as
// archive.Path does for every path from a person), with its Comune. may
// tells the Comuni where the granter may grant.
func Path(raw string, may func(comune string) bool) (p, comune string, err error) {
	p, err = archive.Path(strings.TrimSpace(raw))
	if err != nil {
		return "", "", fmt.Errorf("%q: %w", raw, ErrBadPath)
	}
	comune, rest := access.SplitComune(p)
	if rest == "" || !may(comune) {
		return "", "", fmt.Errorf("%q: %w", raw, ErrBadPath)
	}
	return p, comune, nil
}

// Dossier checks the dossier of a grant about to be made: Path, then an
// existing folder of the archive there. Only a Comune the granter may
// grant in is looked at, so that the check tells nobody what another
// Comune holds.
func Dossier(ctx context.Context, archive Archive, raw string, may func(comune string) bool) (p, comune string, err error) {
	p, comune, err = Path(raw, may)
	if err != nil {
		return "", "", err
	}
	e, err := archive.Stat(ctx, strings.TrimPrefix(p, "/"))
	switch {
	case errors.Is(err, backends.ErrNotFound), errors.Is(err, backends.ErrNotDir):
		return "", "", fmt.Errorf("%s: %w", p, ErrNoFolder)
	case err != nil:
		return "", "", fmt.Errorf("look up %s: %w", p, err)
	case !e.IsDir:
		return "", "", fmt.Errorf("%s: %w", p, ErrNotFolder)
	}
	return p, comune, nil
}
