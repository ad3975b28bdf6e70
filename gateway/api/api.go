// Package api serves the JSON endpoints for scripts, under /_/api/, with
// the drive's credentials (an app password, a Bearer token, a session).
// Today one: the catalogue's search, GET /_/api/cerca, which answers what
// the search page shows, in the same words.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/catalogue"
	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/words"
)

// Prefix is where the endpoints are.
const Prefix = "/_/api/"

// snippetWidth is the length, in bytes, of a result's excerpt.
const snippetWidth = 240

// MaxPage bounds the page a search may ask for: past it, a script pages
// through what it should filter. The search page links no page past it.
const MaxPage = 500

// Config is what the endpoints need.
type Config struct {
	Catalogue *catalogue.Catalogue
	// Policy is the rights of the request's person, whom authentication
	// has put in its context.
	Policy func(r *http.Request) (*access.Policy, error)
	// Audit records a search in the access log.
	Audit func(r *http.Request, method, target string, status int)
	// Comuni are the ids a search may filter by.
	Comuni []string
	Log    *slog.Logger
}

// Handler serves the endpoints.
type Handler struct {
	cfg Config
	mux *http.ServeMux
}

// New returns the endpoints' handler.
func New(cfg Config) *Handler {
	h := &Handler{cfg: cfg, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET "+Prefix+"cerca", h.search)
	h.mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "endpoint inesistente")
	})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Result is a dossier found, as the endpoint answers it.
type Result struct {
	Path        string      `json:"percorso"`
	Comune      string      `json:"comune"`
	Year        int         `json:"anno,omitempty"`
	Type        string      `json:"tipo,omitempty"`
	Number      string      `json:"numero,omitempty"`
	Subject     string      `json:"oggetto,omitempty"`
	Applicants  []string    `json:"richiedenti"`
	Addresses   []Address   `json:"indirizzi"`
	Parcels     []Parcel    `json:"catasto"`
	Status      string      `json:"stato,omitempty"`
	File        string      `json:"file,omitempty"`
	Excerpt     string      `json:"estratto,omitempty"`
	Highlighted []Highlight `json:"evidenziato,omitempty"`
}

// Address is an address of a dossier.
type Address struct {
	Street   string `json:"via"`
	Number   string `json:"civico,omitempty"`
	Locality string `json:"localita,omitempty"`
}

// Parcel is a cadastral reference of a dossier.
type Parcel struct {
	Register string `json:"catasto,omitempty"`
	Sheet    string `json:"foglio,omitempty"`
	Number   string `json:"mappale,omitempty"`
	Sub      string `json:"subalterno,omitempty"`
}

// Highlight is a matched word of the excerpt: its byte offsets.
type Highlight struct {
	Start int `json:"inizio"`
	End   int `json:"fine"`
}

// Answer is the endpoint's answer.
type Answer struct {
	Total   int                       `json:"totale"`
	Page    int                       `json:"pagina"`
	Pages   int                       `json:"pagine"`
	Near    bool                      `json:"parole_simili,omitempty"`
	Results []Result                  `json:"risultati"`
	Facets  map[string]map[string]int `json:"faccette"`
}

// ParseQuery reads a search from the parameters of a URL, as the search
// page and the endpoint take them: q, comune (repeated or comma-separated),
// anno ("2019" or "2018-2021"), tipo, foglio, mappale, via, pagina. The
// error says, in Italian, which parameter is wrong.
func ParseQuery(v map[string][]string, comuni, types []string) (catalogue.Query, error) {
	get := func(k string) string {
		if vs := v[k]; len(vs) > 0 {
			return strings.TrimSpace(vs[0])
		}
		return ""
	}
	q := catalogue.Query{Text: get("q"), Type: get("tipo"), Sheet: get("foglio"), Parcel: get("mappale"), Street: get("via"), Page: 1}
	if len(q.Text) > 500 || len(q.Street) > 200 {
		return q, errors.New("ricerca troppo lunga")
	}
	for _, c := range v["comune"] {
		for _, id := range strings.Split(c, ",") {
			if id = strings.TrimSpace(id); id == "" {
				continue
			}
			if !slices.Contains(comuni, id) {
				return q, errors.New("comune sconosciuto: " + id)
			}
			q.Comuni = append(q.Comuni, id)
		}
	}
	if a := get("anno"); a != "" {
		from, to, ok := strings.Cut(a, "-")
		if !ok {
			to = from
		}
		var err1, err2 error
		q.YearFrom, err1 = strconv.Atoi(strings.TrimSpace(from))
		q.YearTo, err2 = strconv.Atoi(strings.TrimSpace(to))
		if err1 != nil || err2 != nil || q.YearFrom < 1800 || q.YearTo > 2100 || q.YearFrom > q.YearTo {
			return q, errors.New("anno non valido: un anno (2019) o un intervallo (2018-2021)")
		}
	}
	if q.Type != "" && !slices.Contains(types, q.Type) {
		return q, errors.New("tipo di pratica sconosciuto: " + q.Type)
	}
	for name, val := range map[string]string{"foglio": q.Sheet, "mappale": q.Parcel} {
		if val != "" && (len(val) > 10 || strings.Trim(val, "0123456789") != "") {
			return q, errors.New(name + " non valido: solo cifre")
		}
	}
	if p := get("pagina"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > MaxPage {
			return q, errors.New("pagina non valida")
		}
		q.Page = n
	}
	return q, nil
}

// TypeNames are the names of the catalogue's types.
func TypeNames(c *catalogue.Catalogue) []string {
	var names []string
	for _, t := range c.Types() {
		names = append(names, t.Name)
	}
	return names
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	q, err := ParseQuery(r.URL.Query(), h.cfg.Comuni, TypeNames(h.cfg.Catalogue))
	if err != nil {
		h.audit(r, http.StatusBadRequest)
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	pol, err := h.cfg.Policy(r)
	if err != nil {
		h.unavailable(w, r, "authorize", err)
		return
	}
	res, err := h.cfg.Catalogue.Search(r.Context(), pol, q)
	if err != nil {
		h.unavailable(w, r, "search", err)
		return
	}
	ans := Answer{Total: res.Total, Page: q.Page, Pages: max(1, (res.Total+catalogue.PageSize-1)/catalogue.PageSize), Near: res.Near,
		Results: make([]Result, 0, len(res.Hits)), Facets: Facets(res.DossierResult)}
	for _, hit := range res.Hits {
		ans.Results = append(ans.Results, ResultOf(hit, res.Terms))
	}
	h.audit(r, http.StatusOK)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(ans)
}

// Facets are a result's counts by Comune, year and type.
func Facets(res state.DossierResult) map[string]map[string]int {
	f := map[string]map[string]int{"comune": res.ByComune, "tipo": res.ByType, "anno": {}}
	for y, n := range res.ByYear {
		f["anno"][strconv.Itoa(y)] = n
	}
	return f
}

// ResultOf is a dossier found, with an excerpt of what matched: the text
// of the file that did, or the record's subject.
func ResultOf(hit state.DossierHit, terms []words.Term) Result {
	d := hit.Dossier
	res := Result{Path: d.Path + "/", Comune: d.Comune, Year: d.Year, Type: d.Type, Number: d.Number, Subject: d.Subject,
		Status: d.Status, Applicants: []string{}, Addresses: []Address{}, Parcels: []Parcel{}}
	for _, a := range d.Applicants {
		res.Applicants = append(res.Applicants, a.Name)
	}
	for _, a := range d.Addresses {
		res.Addresses = append(res.Addresses, Address{a.Street, a.Number, a.Locality})
	}
	for _, p := range d.Parcels {
		res.Parcels = append(res.Parcels, Parcel{p.Register, p.Sheet, p.Number, p.Sub})
	}
	text := d.Subject
	if hit.File != "" {
		res.File, text = hit.File, hit.Text
	}
	if text != "" {
		var marks []words.Mark
		res.Excerpt, marks = words.Snippet(text, terms, snippetWidth)
		for _, m := range marks {
			res.Highlighted = append(res.Highlighted, Highlight{m.Start, m.End})
		}
	}
	return res
}

func (h *Handler) audit(r *http.Request, status int) {
	if h.cfg.Audit != nil {
		h.cfg.Audit(r, "SEARCH", r.URL.RawQuery, status)
	}
}

func (h *Handler) unavailable(w http.ResponseWriter, r *http.Request, what string, err error) {
	status := http.StatusInternalServerError
	if errors.Is(err, state.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	}
	h.cfg.Log.Error("api: "+what, "err", err)
	h.audit(r, status)
	writeError(w, status, "servizio non disponibile, riprovare")
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"errore": msg})
}
