// Package cat holds what both state stores do alike for the dossier
// catalogue: a record's stored form, the text its words are indexed from,
// and the ranking of a search's candidates into a page with its facets —
// so that the two stores differ only in how their engine finds the
// candidates.
package cat

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/words"
)

// MaxStoredText is how much of a file's text is kept beside its index, for
// the snippets of the results: the start of it.
const MaxStoredText = 16 << 10

// Check refuses what no store may hold: a record without an absolute path,
// or its Comune not the first element of its path.
func Check(d state.Dossier) error {
	if d.Path == "" || d.Path[0] != '/' || strings.HasSuffix(d.Path, "/") {
		return fmt.Errorf("dossier path %q: want an absolute path without a final slash", d.Path)
	}
	comune, _, _ := strings.Cut(d.Path[1:], "/")
	if d.Comune != "" && d.Comune != comune {
		return fmt.Errorf("dossier %q: Comune %q is not its path's", d.Path, d.Comune)
	}
	return nil
}

// record is the part of a Dossier that the stores keep as one document:
// the fields without a column of their own.
type record struct {
	Subject         string            `json:"oggetto,omitempty"`
	Applicants      []state.Applicant `json:"richiedenti,omitempty"`
	Designer        string            `json:"progettista,omitempty"`
	Addresses       []state.Address   `json:"indirizzi,omitempty"`
	Parcels         []state.Parcel    `json:"catasto,omitempty"`
	Protocol        string            `json:"protocollo,omitempty"`
	ProtocolDate    string            `json:"data_protocollo,omitempty"`
	Submitted       string            `json:"data_presentazione,omitempty"`
	Issued          string            `json:"data_rilascio,omitempty"`
	Status          string            `json:"stato,omitempty"`
	Notes           string            `json:"note,omitempty"`
	Identifier      string            `json:"identificativo,omitempty"`
	AggregationType string            `json:"tipo_aggregazione,omitempty"`
	DossierKind     string            `json:"tipologia_fascicolo,omitempty"`
	Administration  string            `json:"amministrazione,omitempty"`
	Office          string            `json:"unita_organizzativa,omitempty"`
	Responsible     string            `json:"responsabile,omitempty"`
	Opened          string            `json:"data_apertura,omitempty"`
	Closed          string            `json:"data_chiusura,omitempty"`
}

// Encode is the stored form of the fields of d without a column.
func Encode(d state.Dossier) []byte {
	b, _ := json.Marshal(record{
		d.Subject, d.Applicants, d.Designer, d.Addresses, d.Parcels, d.Protocol, d.ProtocolDate,
		d.Submitted, d.Issued, d.Status, d.Notes, d.Identifier, d.AggregationType, d.DossierKind,
		d.Administration, d.Office, d.Responsible, d.Opened, d.Closed,
	})
	return b
}

// Decode fills d's fields without a column from their stored form.
func Decode(b []byte, d *state.Dossier) error {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("dossier %q: stored record: %w", d.Path, err)
	}
	d.Subject, d.Applicants, d.Designer, d.Addresses, d.Parcels = r.Subject, r.Applicants, r.Designer, r.Addresses, r.Parcels
	d.Protocol, d.ProtocolDate, d.Submitted, d.Issued, d.Status, d.Notes = r.Protocol, r.ProtocolDate, r.Submitted, r.Issued, r.Status, r.Notes
	d.Identifier, d.AggregationType, d.DossierKind = r.Identifier, r.AggregationType, r.DossierKind
	d.Administration, d.Office, d.Responsible, d.Opened, d.Closed = r.Administration, r.Office, r.Responsible, r.Opened, r.Closed
	return nil
}

// Text is the text a record is found by: every field a person might type
// (its folder's name, number, type, subject, applicants and their fiscal
// numbers, designer, addresses, parcels, protocol, status, notes, AgID's
// identifier); streets is its addresses' alone, for the street filter.
func Text(d state.Dossier) (all, streets string) {
	var b, s strings.Builder
	add := func(w *strings.Builder, parts ...string) {
		for _, p := range parts {
			if p != "" {
				w.WriteString(p)
				w.WriteByte(' ')
			}
		}
	}
	name := d.Path[strings.LastIndexByte(d.Path, '/')+1:]
	add(&b, name, d.Number, d.Type, d.Subject, d.Designer, d.Protocol, d.Status, d.Notes, d.Identifier)
	if d.Year > 0 {
		add(&b, fmt.Sprint(d.Year))
	}
	for _, a := range d.Applicants {
		add(&b, a.Name, a.FiscalCode)
	}
	for _, a := range d.Addresses {
		add(&b, a.Street, a.Number, a.Locality)
		add(&s, a.Street, a.Locality)
	}
	for _, p := range d.Parcels {
		add(&b, "foglio", p.Sheet, "mappale", p.Number, p.Sub)
	}
	return b.String(), s.String()
}

// Vocabulary is the folded words of a record that near words are taken
// from (words.Term.NearOf): names and places, which people mistype.
func Vocabulary(d state.Dossier) []string {
	all, _ := Text(d)
	var out []string
	for _, t := range words.Tokens(all) {
		if !words.Identifier(t.Text) && utf8.RuneCountInString(t.Text) >= 3 {
			out = append(out, t.Text)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Exact is terms as the files' text is searched with: no prefixes, which
// over millions of files would match most of them; an identifier matches
// as typed.
func Exact(terms []words.Term) []words.Term {
	out := slices.Clone(terms)
	for i := range out {
		out[i].Prefix = false
	}
	return out
}

// Candidate is a dossier an engine found: by its record (File "") or by
// the text of one of its files.
type Candidate struct {
	Path, Comune, Type string
	Year               int
	Score              float64 // higher is better, among those of the same engine
	File               string
}

// Rank makes a search's page of the candidates: each dossier once (found
// by its record rather than a file, else by its best file), record
// matches first, then by score, then by path; Total and the facets count
// every dossier found. limit 0: all.
func Rank(cands []Candidate, limit, offset int) ([]Candidate, state.DossierResult) {
	best := map[string]int{}
	var found []Candidate
	for _, c := range cands {
		i, ok := best[c.Path]
		if !ok {
			best[c.Path] = len(found)
			found = append(found, c)
			continue
		}
		if better(c, found[i]) {
			found[i] = c
		}
	}
	res := state.DossierResult{Total: len(found), ByComune: map[string]int{}, ByYear: map[int]int{}, ByType: map[string]int{}}
	for _, c := range found {
		res.ByComune[c.Comune]++
		if c.Year > 0 {
			res.ByYear[c.Year]++
		}
		if c.Type != "" {
			res.ByType[c.Type]++
		}
	}
	slices.SortFunc(found, func(a, b Candidate) int {
		switch {
		case better(a, b):
			return -1
		case better(b, a):
			return 1
		}
		return strings.Compare(a.Path, b.Path)
	})
	found = found[min(offset, len(found)):]
	if limit > 0 && len(found) > limit {
		found = found[:limit]
	}
	return found, res
}

// better reports whether a ranks before b: a record's match before a
// file's, then the higher score.
func better(a, b Candidate) bool {
	if (a.File == "") != (b.File == "") {
		return a.File == ""
	}
	return cmp.Compare(a.Score, b.Score) > 0
}

// Cut is the start of a file's text that is stored for snippets, at a
// character's boundary.
func Cut(text string) string {
	if len(text) <= MaxStoredText {
		return text
	}
	n := MaxStoredText
	for n > 0 && !utf8.RuneStart(text[n]) {
		n--
	}
	return text[:n]
}

// After is the least string greater than every string that starts with
// key, for a range `>= key AND < After(key)`: key with its last character
// the next one.
func After(key string) string {
	r := []rune(key)
	r[len(r)-1]++
	return string(r)
}

// SortJobs orders jobs as they were queued, the longest waiting first.
func SortJobs(jobs []state.IndexJob) {
	slices.SortFunc(jobs, func(a, b state.IndexJob) int {
		return cmp.Or(a.Queued.Compare(b.Queued), strings.Compare(a.Path, b.Path))
	})
}
