package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/statetest"
)

func TestCatalogue(t *testing.T) {
	statetest.RunCatalogue(t, func(t *testing.T) state.CatalogueStore {
		s := open(t, filepath.Join(t.TempDir(), "state.db"))
		t.Cleanup(func() { s.Close() })
		return s
	})
}
