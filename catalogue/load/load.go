// Package load brings a register (catalogue/register) into the catalogue
// and writes the catalogue back as one: `faldone catalogue import` and
// `export`. An import is idempotent: a record is made, or completed with
// the register's values, by path; running it twice changes nothing more.
package load

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/catalogue"
	"github.com/bassareggiana/faldone/catalogue/register"
	"github.com/bassareggiana/faldone/state"
)

// batch is how many records go to the store in one transaction.
const batch = 500

// Store is what an import and an export need of the state store.
type Store interface {
	DossiersByPath(ctx context.Context, paths []string) (map[string]state.Dossier, error)
	PutDossiers(ctx context.Context, ds []state.Dossier) error
	Dossiers(ctx context.Context, p string, fn func(state.Dossier) error) error
}

// optimizer is a Store that renews its engine's statistics of the
// catalogue after a bulk change.
type optimizer interface {
	OptimizeCatalogue(ctx context.Context) error
}

// Options are the choices of an import.
type Options struct {
	Register register.Options
	DryRun   bool   // read and check, write nothing
	By       string // who imports, for the records' UpdatedBy
	// Folders calls fn with every dossier folder in the storage, for the
	// report of rows without a folder and folders without a row; nil
	// leaves both out.
	Folders func(ctx context.Context, fn func(p string) error) error
	Now     func() time.Time
}

// Report is what an import did.
type Report struct {
	Rows     int // rows read, bad ones included
	Imported int // records made or completed (or that would be, in a dry run)
	Bad      []register.RowError
	Warnings []register.Warning
	NoFolder []string // rows whose dossier folder is not in the storage
	NoRow    []string // dossier folders that no row names
}

// Import reads the register r into store.
func Import(ctx context.Context, store Store, r io.Reader, opts Options) (Report, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var rep Report
	rd, err := register.NewReader(r, opts.Register)
	if err != nil {
		return rep, err
	}
	named := map[string]bool{}
	var pending []state.Dossier
	now := opts.Now().UTC()
	// A batch: the records there are read in one query, completed, and
	// written in one transaction.
	flush := func() error {
		if len(pending) == 0 || opts.DryRun {
			pending = pending[:0]
			return nil
		}
		paths := make([]string, len(pending))
		for i, d := range pending {
			paths[i] = d.Path
		}
		old, err := store.DossiersByPath(ctx, paths)
		if err != nil {
			return err
		}
		for i, d := range pending {
			if o, ok := old[d.Path]; ok {
				d = merge(o, d)
			}
			d.Updated, d.UpdatedBy = now, opts.By
			pending[i] = d
		}
		if err := store.PutDossiers(ctx, pending); err != nil {
			return err
		}
		pending = pending[:0]
		return nil
	}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rep, err
		}
		d := row.Dossier
		if named[d.Path] {
			// Named again (the register's warning says so): the last row
			// wins, as in one batch it would.
			if err := flush(); err != nil {
				return rep, err
			}
		}
		named[d.Path] = true
		pending = append(pending, d)
		rep.Imported++
		if len(pending) == batch {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	if err := flush(); err != nil {
		return rep, err
	}
	// A register is most of the catalogue at once: the engine's statistics
	// of the tables, until its next automatic pass, would still describe
	// them empty, and it would plan each search as if they were.
	if o, ok := store.(optimizer); ok && rep.Imported > 0 && !opts.DryRun {
		if err := o.OptimizeCatalogue(ctx); err != nil {
			return rep, fmt.Errorf("statistics of the catalogue: %w", err)
		}
	}
	rep.Bad, rep.Warnings = rd.Errors(), rd.Warnings()
	rep.Rows = rep.Imported + len(rep.Bad)
	if opts.Folders == nil {
		return rep, nil
	}
	inStorage := map[string]bool{}
	err = opts.Folders(ctx, func(p string) error {
		inStorage[p] = true
		if c, _ := access.SplitComune(p); !named[p] && (opts.Register.Comune == "" || c == opts.Register.Comune) {
			rep.NoRow = append(rep.NoRow, p)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("dossier folders: %w", err)
	}
	for p := range named {
		if !inStorage[p] {
			rep.NoFolder = append(rep.NoFolder, p)
		}
	}
	slices.Sort(rep.NoFolder)
	slices.Sort(rep.NoRow)
	return rep, nil
}

// merge is the record old completed with the register's record d: what
// d says replaces, what it leaves empty stays; the recycle bin's mark stays.
func merge(old, d state.Dossier) state.Dossier {
	str := func(o *string, n string) {
		if n != "" {
			*o = n
		}
	}
	m := old
	if d.Year != 0 {
		m.Year = d.Year
	}
	for _, f := range []struct {
		o *string
		n string
	}{
		{&m.Comune, d.Comune}, {&m.Type, d.Type}, {&m.Number, d.Number}, {&m.Subject, d.Subject}, {&m.Designer, d.Designer},
		{&m.Protocol, d.Protocol}, {&m.ProtocolDate, d.ProtocolDate}, {&m.Submitted, d.Submitted}, {&m.Issued, d.Issued},
		{&m.Status, d.Status}, {&m.Notes, d.Notes}, {&m.Identifier, d.Identifier}, {&m.AggregationType, d.AggregationType},
		{&m.DossierKind, d.DossierKind}, {&m.Administration, d.Administration}, {&m.Office, d.Office},
		{&m.Responsible, d.Responsible}, {&m.Opened, d.Opened}, {&m.Closed, d.Closed},
	} {
		str(f.o, f.n)
	}
	if len(d.Applicants) > 0 {
		m.Applicants = d.Applicants
	}
	if len(d.Addresses) > 0 {
		m.Addresses = d.Addresses
	}
	if len(d.Parcels) > 0 {
		m.Parcels = d.Parcels
	}
	return m
}

// Export writes the records at and below p to w, as a register.
func Export(ctx context.Context, store Store, w io.Writer, p string) (int, error) {
	wr := register.NewWriter(w)
	n := 0
	err := store.Dossiers(ctx, p, func(d state.Dossier) error {
		n++
		return wr.Write(d)
	})
	if err != nil {
		return n, err
	}
	return n, wr.Flush()
}

// FileColumns is a file of a delivery's manifest with the columns it has
// beyond its path and digest (archive/importer.Row), by their header's name.
type FileColumns struct {
	Path    string // the file's namespace path
	Columns map[string]string
}

// FromManifest is the register that a delivery's manifest holds: for each
// dossier folder (rule) of its files, one row with the first value each
// column has among the dossier's files, read as a register's columns are.
// It is nil when the manifest has no such columns.
func FromManifest(files []FileColumns, rule catalogue.Rule) []byte {
	type dossier struct {
		path string
		vals map[string]string
	}
	var order []string
	byPath := map[string]*dossier{}
	names := map[string]bool{}
	for _, f := range files {
		p, ok := rule.DossierOf(f.Path)
		if !ok || !rule.Inside(f.Path) {
			continue
		}
		d := byPath[p]
		if d == nil {
			d = &dossier{path: p, vals: map[string]string{}}
			byPath[p] = d
			order = append(order, p)
		}
		for k, v := range f.Columns {
			if v = strings.TrimSpace(v); v == "" || strings.EqualFold(strings.TrimSpace(k), "percorso") {
				continue
			}
			names[k] = true
			if _, ok := d.vals[k]; !ok {
				d.vals[k] = v
			}
		}
	}
	if len(names) == 0 {
		return nil
	}
	cols := slices.Sorted(maps.Keys(names))
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Comma = ';'
	w.Write(append([]string{"percorso"}, cols...))
	for _, p := range order {
		row := []string{p}
		for _, c := range cols {
			row = append(row, byPath[p].vals[c])
		}
		w.Write(row)
	}
	w.Flush()
	return buf.Bytes()
}
