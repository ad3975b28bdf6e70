package postgres

import (
	"testing"

	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/statetest"
)

func TestCatalogue(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	statetest.RunCatalogue(t, func(t *testing.T) state.CatalogueStore { return db.openClosed(t) })
}
