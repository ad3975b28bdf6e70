// Package grants holds the rules of accesso agli atti grants that the
// managers' page and the command line share, so that a grant made from
// either is checked alike.
package grants

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bassareggiana/faldone/gateway/dav"
)

// ErrBadPath: the path is not one of a folder inside a Comune the granter
// may grant in.
var ErrBadPath = errors.New("not a folder inside a Comune")

// Path reads the dossier of a grant as a person typed or pasted it, and
// returns it as requests name it (cleaned, accented letters composed, as
// dav.CleanPath does for every path from a person), with its Comune. may
// tells the Comuni where the granter may grant.
func Path(raw string, may func(comune string) bool) (p, comune string, err error) {
	p, err = dav.CleanPath(strings.TrimSpace(raw))
	if err != nil {
		return "", "", fmt.Errorf("%q: %w", raw, ErrBadPath)
	}
	comune, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if rest == "" || !may(comune) {
		return "", "", fmt.Errorf("%q: %w", raw, ErrBadPath)
	}
	return p, comune, nil
}
