package state

import (
	"context"
	"time"

	"github.com/bassareggiana/faldone/words"
)

// The dossier catalogue: one record for each dossier folder (fascicolo),
// found by what people know of it — its number, address, cadastral parcel,
// applicants, the words inside its documents — rather than by its path.
// The records and the text of the files are kept here, indexed for full
// text by each implementation's own engine (SQLite FTS5, PostgreSQL
// tsvector), with the words analysed alike (catalogue.Analyze).

// Dossier is the catalogue record of a dossier folder. Every field but
// Path is optional. Dates are ISO dates ("2019-03-05"), "" when unknown.
type Dossier struct {
	Path       string      // the folder: "/guastalla/2019/PC-2019-0042"
	Comune     string      // the Comune's id: "guastalla"
	Year       int         // 0 when unknown
	Type       string      // one of the configured types: "PdC", "SCIA", "CILA", …
	Number     string      // the dossier's number as the Comune writes it: "PC-2019-0042"
	Subject    string      // oggetto
	Applicants []Applicant // richiedenti
	Designer   string      // tecnico progettista
	Addresses  []Address
	Parcels    []Parcel // riferimenti catastali
	Protocol   string   // protocol number
	// ProtocolDate, Submitted and Issued: the protocol's date, the
	// submission's (presentazione) and the permit's (rilascio).
	ProtocolDate, Submitted, Issued string
	Status                          string // stato: "in istruttoria", "rilasciato", …
	Notes                           string

	// The aggregate metadata of AgID's guidelines (Allegato 5) that apply
	// to a fascicolo: its identifier (IdAggregazione), the type of
	// aggregation (TipoAggregazione: "Fascicolo") and of dossier
	// (TipologiaFascicolo: "procedimento amministrativo"), the
	// administration that holds it and its organisational unit, the
	// person responsible for the procedure, and the dates it opened and
	// closed.
	Identifier      string
	AggregationType string
	DossierKind     string
	Administration  string // AmministrazioneTitolare
	Office          string // UnitaOrganizzativaResponsabile
	Responsible     string // ResponsabileProcedimento
	Opened, Closed  string // DataApertura, DataChiusura

	// Deleted: the folder is in the recycle bin; the record stays out of
	// every search until the folder is restored.
	Deleted bool
	// Updated and UpdatedBy: the last change of the record, and who made
	// it (a person, "import", "faldone").
	Updated   time.Time
	UpdatedBy string
}

// Applicant is a person who applied: a name and, when known, a fiscal number.
type Applicant struct {
	Name       string
	FiscalCode string
}

// Address is a place the dossier is about.
type Address struct {
	Street   string // "Via Gonzaga"
	Number   string // house number, "12/A"
	Locality string // frazione or località: "San Girolamo"
}

// Parcel is a cadastral reference.
type Parcel struct {
	Register string // "F": catasto fabbricati; "T": catasto terreni; "" unknown
	Sheet    string // foglio
	Number   string // mappale or particella
	Sub      string // subalterno
}

// FileText is the text extracted from a file of a dossier, as indexed.
type FileText struct {
	Path    string // the file
	Dossier string // the dossier folder it is in
	ETag    string // the version of the file the text is of
	Text    string
}

// DossierQuery selects dossiers for a search. Terms (words.Query) are
// matched against the words of the record, or else the words of one of
// its files: each term must match (see words.Term.Matches). The filters
// narrow, and Scope says what the person may read.
type DossierQuery struct {
	Terms            []words.Term
	Comuni           []string // any of them; none: all
	YearFrom, YearTo int      // 0: open
	Type             string
	Sheet, Parcel    string // foglio and mappale, matched exactly
	Street           string // matched as words of the street's name
	Scope            Scope
	Limit, Offset    int
}

// Scope is what a search may find: everything, or the dossiers of the
// Comuni in Comuni and those at or below the paths in Paths (the grants).
// The zero Scope finds nothing.
type Scope struct {
	All    bool
	Comuni []string
	Paths  []string
}

// DossierHit is a dossier found, with the file whose text matched, if
// the record's own fields did not.
type DossierHit struct {
	Dossier
	Rank float64 // higher is better
	// File is the path of a file whose text matched, and Text its text
	// (or the start of it), for a snippet; "" when the record matched.
	File, Text string
}

// DossierResult is a page of a search, with the facets of the whole
// result: how many dossiers each Comune, year and type has among those
// found.
type DossierResult struct {
	Total    int
	Hits     []DossierHit
	ByComune map[string]int
	ByYear   map[int]int
	ByType   map[string]int
}

// IndexJob asks for the text of the file Path to be indexed again (or
// dropped, when the file is gone): queued by every write, move and delete,
// taken by whichever replica works the queue.
type IndexJob struct {
	Path    string
	Queued  time.Time
	Holder  string    // the replica that took it, "" while waiting
	Taken   time.Time // when it was taken; a job taken long ago is taken again
	Attempt int
}

// IndexStatus is the state of the text index: files indexed, jobs waiting
// and jobs failed for good.
type IndexStatus struct {
	Files, Waiting, Failed int
}

// CatalogueStore keeps the dossier catalogue.
type CatalogueStore interface {
	// PutDossier creates or replaces the record of d.Path; PutDossiers
	// does so for each of ds, in one transaction (an import's batch): all
	// or none.
	PutDossier(ctx context.Context, d Dossier) error
	PutDossiers(ctx context.Context, ds []Dossier) error
	// DossierByPath returns the record of the folder p; ErrNotFound.
	DossierByPath(ctx context.Context, p string) (Dossier, error)
	// DossiersByPath returns the records of those of paths that have one.
	DossiersByPath(ctx context.Context, paths []string) (map[string]Dossier, error)
	// DeleteDossiers drops the records at and below p, and the text of
	// their files.
	DeleteDossiers(ctx context.Context, p string) error
	// MoveDossiers moves the records at and below from, and the text of
	// their files, below to.
	MoveDossiers(ctx context.Context, from, to string) error
	// MarkDossiersDeleted sets Deleted on the records at and below p.
	MarkDossiersDeleted(ctx context.Context, p string, deleted bool) error
	// Dossiers calls fn with each record at and below p, in path order.
	Dossiers(ctx context.Context, p string, fn func(Dossier) error) error
	// SearchDossiers finds the dossiers q selects, best first.
	SearchDossiers(ctx context.Context, q DossierQuery) (DossierResult, error)
	// CatalogueWords returns the folded words of the records that start
	// with key, for near words of a term (words.Term.NearOf), at most limit.
	CatalogueWords(ctx context.Context, key string, limit int) ([]string, error)

	// PutFileText indexes the text of a file; DeleteFileText drops the
	// text of the file p, or of every file at and below it.
	PutFileText(ctx context.Context, t FileText) error
	// PutFileTexts is PutFileText for each of ts, in one transaction.
	PutFileTexts(ctx context.Context, ts []FileText) error
	DeleteFileText(ctx context.Context, p string) error

	// QueueIndex queues the files paths for indexing (once each: a path
	// queued already waits once). TakeIndexJobs takes up to n jobs for
	// holder, among those waiting or taken before stale; FinishIndexJob
	// removes a job done, or with failed counts an attempt that failed
	// (the job waits again until its attempts run out).
	QueueIndex(ctx context.Context, paths []string, now time.Time) error
	TakeIndexJobs(ctx context.Context, holder string, n int, now, stale time.Time) ([]IndexJob, error)
	FinishIndexJob(ctx context.Context, p string, failed bool) error
	IndexStatus(ctx context.Context) (IndexStatus, error)
}
