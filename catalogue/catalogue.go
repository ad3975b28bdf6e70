// Package catalogue is the dossier catalogue: a record for every dossier
// folder (fascicolo), kept right by the archive's changes, and the search
// that finds a dossier by what people know of it.
package catalogue

import (
	"context"
	"errors"
	"log/slog"
	"path"
	"slices"
	"time"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/words"
)

// PageSize is how many dossiers a page of results holds.
const PageSize = 20

// nearCandidates bounds the catalogue's words read for the near words of
// one term.
const nearCandidates = 5000

// Store is what the catalogue needs of the state store.
type Store interface {
	PutDossier(ctx context.Context, d state.Dossier) error
	DossierByPath(ctx context.Context, p string) (state.Dossier, error)
	DeleteDossiers(ctx context.Context, p string) error
	MoveDossiers(ctx context.Context, from, to string) error
	MarkDossiersDeleted(ctx context.Context, p string, deleted bool) error
	SearchDossiers(ctx context.Context, q state.DossierQuery) (state.DossierResult, error)
	CatalogueWords(ctx context.Context, key string, limit int) ([]string, error)
	DeleteFileText(ctx context.Context, p string) error
	QueueIndex(ctx context.Context, paths []string, now time.Time) error
}

// Options configure a Catalogue.
type Options struct {
	Rule   Rule
	Types  []Type   // DefaultTypes when nil
	Comuni []string // the ids of the Comuni, for what a search may find
	// Indexable tells, by its name, whether a file has text to index
	// (extract.Supported); nil: every file.
	Indexable func(name string) bool
	Log       *slog.Logger
	Now       func() time.Time
}

// Catalogue keeps the dossier records and searches them.
type Catalogue struct {
	store Store
	opts  Options
	log   *slog.Logger
}

// New returns the catalogue of store.
func New(store Store, opts Options) *Catalogue {
	if opts.Types == nil {
		opts.Types = DefaultTypes()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Catalogue{store: store, opts: opts, log: log}
}

// Rule is which folders are dossiers.
func (c *Catalogue) Rule() Rule { return c.opts.Rule }

// Types are the kinds of dossier.
func (c *Catalogue) Types() []Type { return c.opts.Types }

// Query is a search as a person asks it.
type Query struct {
	Text             string
	Comuni           []string
	YearFrom, YearTo int
	Type             string
	Sheet, Parcel    string
	Street           string
	Page             int // from 1
}

// Result is a page of a search, with the terms it matched, for snippets.
type Result struct {
	state.DossierResult
	Terms []words.Term
	// Near: the words as typed found nothing, and these are the results
	// of words one typing mistake away.
	Near bool
}

// Reader is what a search needs of a person's rights: what they may read
// among the Comuni, as *access.Policy tells it. The pages hold the policy
// as the archive's decider, the endpoints as itself: both pass it here.
type Reader interface {
	Readable(comuni []string) (whole, grants []string)
}

var _ Reader = (*access.Policy)(nil)

// Search finds, among what pol lets the person read, the dossiers q asks
// for: a page of PageSize, best first. Words that find nothing are looked
// for again among the catalogue's words one mistake away ("Cafe" finds
// "Caffè").
func (c *Catalogue) Search(ctx context.Context, pol Reader, q Query) (Result, error) {
	whole, grants := pol.Readable(c.opts.Comuni)
	sq := state.DossierQuery{
		Terms: words.Query(q.Text), Comuni: q.Comuni, YearFrom: q.YearFrom, YearTo: q.YearTo, Type: q.Type,
		Sheet: q.Sheet, Parcel: q.Parcel, Street: q.Street,
		Scope: state.Scope{Comuni: whole, Paths: grants},
		Limit: PageSize, Offset: max(0, q.Page-1) * PageSize,
	}
	res, err := c.store.SearchDossiers(ctx, sq)
	if err != nil || res.Total > 0 || len(sq.Terms) == 0 {
		return Result{DossierResult: res, Terms: sq.Terms}, err
	}
	near := false
	for i, t := range sq.Terms {
		if !t.Fuzzy() {
			continue
		}
		cands, err := c.store.CatalogueWords(ctx, t.NearKey(), nearCandidates)
		if err != nil {
			return Result{}, err
		}
		if sq.Terms[i].Near = t.NearOf(cands); len(sq.Terms[i].Near) > 0 {
			near = true
		}
	}
	if !near {
		return Result{DossierResult: res, Terms: sq.Terms}, nil
	}
	res, err = c.store.SearchDossiers(ctx, sq)
	return Result{DossierResult: res, Terms: sq.Terms, Near: true}, err
}

// The archive's changes, which the catalogue follows. Each is called once
// the change is made; a failure is logged, not returned: the change
// stands, and the record can be made again (faldone catalogue import).

// FolderMade gives a new dossier folder its record, with what its name
// tells; one that has a record keeps it, unless it is in the recycle bin.
func (c *Catalogue) FolderMade(ctx context.Context, p, by string) {
	if !c.opts.Rule.IsDossier(p) {
		return
	}
	d, err := c.store.DossierByPath(ctx, p)
	if err == nil && !d.Deleted {
		return
	}
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		c.fail("record of a new dossier", p, err)
		return
	}
	d = FromName(p, c.opts.Types)
	d.Updated, d.UpdatedBy = c.opts.Now().UTC(), by
	if err := c.store.PutDossier(ctx, d); err != nil {
		c.fail("record of a new dossier", p, err)
	}
}

// Moved follows a move of the file or folder from to to: records and the
// text of files move with a folder that holds dossiers; a folder that
// becomes a dossier gets its record; files are indexed again at their
// new place.
func (c *Catalogue) Moved(ctx context.Context, from, to string, isDir bool, by string) {
	r := c.opts.Rule
	switch {
	case isDir && (r.Above(from) || r.IsDossier(from)):
		if err := c.store.MoveDossiers(ctx, from, to); err != nil {
			c.fail("move of records", from, err)
		}
		c.FolderMade(ctx, to, by)
	default:
		if err := c.store.DeleteFileText(ctx, from); err != nil {
			c.fail("move of a file's text", from, err)
		}
		c.queue(ctx, to, isDir)
	}
}

// Copied follows a copy of from to to: a dossier folder made by the copy
// gets its record, with what its name tells; the files are indexed at
// their new place.
func (c *Catalogue) Copied(ctx context.Context, from, to string, isDir bool, by string) {
	if isDir {
		c.FolderMade(ctx, to, by)
	}
	c.queue(ctx, to, isDir)
}

// Deleted follows a delete of p: dossiers at or below it leave the
// searches (they may come back from the recycle bin); a file's text goes.
func (c *Catalogue) Deleted(ctx context.Context, p string, isDir bool) {
	r := c.opts.Rule
	if isDir && (r.Above(p) || r.IsDossier(p)) {
		if err := c.store.MarkDossiersDeleted(ctx, p, true); err != nil {
			c.fail("records of a deleted folder", p, err)
		}
		return
	}
	if err := c.store.DeleteFileText(ctx, p); err != nil {
		c.fail("text of a deleted file", p, err)
	}
}

// Restored follows a restore from the recycle bin of what was deleted at
// from, now at to: its records come back, and its files are indexed.
func (c *Catalogue) Restored(ctx context.Context, from, to string, isDir bool, by string) {
	r := c.opts.Rule
	if isDir && (r.Above(from) || r.IsDossier(from)) {
		if from != to {
			if err := c.store.MoveDossiers(ctx, from, to); err != nil {
				c.fail("records of a restored folder", to, err)
			}
		}
		if err := c.store.MarkDossiersDeleted(ctx, to, false); err != nil {
			c.fail("records of a restored folder", to, err)
		}
		c.FolderMade(ctx, to, by)
	}
	c.queue(ctx, to, isDir)
}

// Purged follows the end of what the recycle bin kept of p: the records
// still in the bin go for good.
func (c *Catalogue) Purged(ctx context.Context, p string, isDir bool) {
	if !isDir {
		return
	}
	// A year's folder has no record: its dossiers, if they are still
	// deleted, cannot be told from restored ones here; they stay, out of
	// the searches, until the folder is made again.
	d, err := c.store.DossierByPath(ctx, p)
	if err != nil || !d.Deleted {
		return
	}
	if err := c.store.DeleteDossiers(ctx, p); err != nil {
		c.fail("records of a purged folder", p, err)
	}
}

// Written follows a write of the file p: its text is indexed again.
func (c *Catalogue) Written(ctx context.Context, p string) { c.queue(ctx, p, false) }

// queue queues p for indexing: a file inside a dossier, or a folder that
// holds some (the worker indexes the files below it).
func (c *Catalogue) queue(ctx context.Context, p string, isDir bool) {
	r := c.opts.Rule
	if isDir && !r.Above(p) && !r.IsDossier(p) && !r.Inside(p) || !isDir && !r.Inside(p) {
		return
	}
	if !isDir && c.opts.Indexable != nil && !c.opts.Indexable(path.Base(p)) {
		return // a drawing, a photo: no words to index
	}
	if err := c.store.QueueIndex(ctx, []string{p}, c.opts.Now().UTC()); err != nil {
		c.fail("queue for the text index", p, err)
	}
}

// fail logs a change made without its catalogue's part, for the operator,
// who makes the record again with faldone catalogue import.
func (c *Catalogue) fail(what, p string, err error) {
	c.log.Error("catalogue: "+what, "path", p, "err", err)
}

// Record returns the record of the dossier folder p: the one kept, or, for
// a dossier folder without one, what its name tells (kept false).
func (c *Catalogue) Record(ctx context.Context, p string) (d state.Dossier, kept bool, err error) {
	d, err = c.store.DossierByPath(ctx, p)
	if errors.Is(err, state.ErrNotFound) {
		return FromName(p, c.opts.Types), false, nil
	}
	return d, err == nil, err
}

// Save keeps d, edited by by, if its fields are valid: else the fields'
// errors, and nothing is kept. It returns the names of the fields that
// changed, for the access log.
func (c *Catalogue) Save(ctx context.Context, d state.Dossier, by string) (changed []string, invalid []FieldError, err error) {
	if invalid = Validate(d); len(invalid) > 0 {
		return nil, invalid, nil
	}
	old, _, err := c.Record(ctx, d.Path)
	if err != nil {
		return nil, nil, err
	}
	d.Comune, d.Deleted = old.Comune, old.Deleted
	changed = Changed(old, d)
	if len(changed) == 0 {
		return nil, nil, nil
	}
	d.Updated, d.UpdatedBy = c.opts.Now().UTC(), by
	return changed, nil, c.store.PutDossier(ctx, d)
}

// Changed names the fields of a record that b changes from a, in the
// record's Italian words (those of the register's columns).
func Changed(a, b state.Dossier) []string {
	var out []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{"anno", a.Year == b.Year}, {"tipo", a.Type == b.Type}, {"numero", a.Number == b.Number},
		{"oggetto", a.Subject == b.Subject}, {"richiedenti", slices.Equal(a.Applicants, b.Applicants)},
		{"progettista", a.Designer == b.Designer}, {"indirizzi", slices.Equal(a.Addresses, b.Addresses)},
		{"catasto", slices.Equal(a.Parcels, b.Parcels)}, {"protocollo", a.Protocol == b.Protocol},
		{"data_protocollo", a.ProtocolDate == b.ProtocolDate}, {"data_presentazione", a.Submitted == b.Submitted},
		{"data_rilascio", a.Issued == b.Issued}, {"stato", a.Status == b.Status}, {"note", a.Notes == b.Notes},
		{"identificativo", a.Identifier == b.Identifier}, {"tipo_aggregazione", a.AggregationType == b.AggregationType},
		{"tipologia_fascicolo", a.DossierKind == b.DossierKind}, {"amministrazione_titolare", a.Administration == b.Administration},
		{"unita_organizzativa", a.Office == b.Office}, {"responsabile", a.Responsible == b.Responsible},
		{"data_apertura", a.Opened == b.Opened}, {"data_chiusura", a.Closed == b.Closed},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}
