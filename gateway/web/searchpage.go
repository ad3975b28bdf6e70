package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/catalogue"
	"github.com/bassareggiana/faldone/gateway/api"
)

// The search page, GET /_/cerca, is the catalogue's search in a page. It
// reads its parameters, makes its results and counts them as the JSON
// endpoint does (api.ParseQuery, api.ResultOf, api.Facets), so that the
// page and the endpoint answer the same search alike.

// option is an entry of a select of the search form.
type option struct {
	Value, Label string
	Selected     bool
}

// facetLink is a value of a facet: the search narrowed to it, or, for the
// value the search is already narrowed to, the search without it.
type facetLink struct {
	Label, Href string
	Count       int
	Current     bool
}

// facetGroup is a facet: the counts of the found dossiers by one field.
type facetGroup struct {
	ID, Title string
	Links     []facetLink
}

// searchResult is a dossier found, as the page shows it.
type searchResult struct {
	api.Result
	Title, Href, ComuneName string
	Places, Parcels         []string
	FileName, FileHref      string
	Excerpt                 template.HTML
}

type searchPage struct {
	page
	// The form as the person filled it, kept as typed, errors and all.
	Q, Anno, Tipo, Foglio, Mappale, Via string
	Comuni, Types                       []option
	Error                               string
	Searched, Near                      bool
	Total, Page, Pages, First, Last     int
	Results                             []searchResult
	Facets                              []facetGroup
	PrevHref, NextHref                  string
}

// searchPage serves the search: the form alone when nothing is asked, the
// results otherwise, among what the person may read.
func (h *Handler) searchPage(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.session(w, r)
	if !ok {
		return
	}
	if h.cfg.Catalogue == nil {
		h.message(w, r, http.StatusNotFound, "Pagina non trovata", "La ricerca delle pratiche non è attiva.")
		return
	}
	dec, err := h.cfg.Policy(r.Context(), sess)
	if err != nil {
		h.unavailable(w, r, "authorize", err)
		return
	}
	reader, ok := dec.(catalogue.Reader)
	if !ok {
		// A wiring mistake, not the person's: the decider must tell what
		// a search may find, or the search would find too much.
		h.unavailable(w, r, "search", errors.New("the policy does not tell what a search may find"))
		return
	}
	v := r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	pg := searchPage{page: page{Title: searchTitle(r.URL.Query().Get("q")), Session: &sess, CSRF: sess.CSRF},
		Q: get("q"), Anno: get("anno"), Tipo: get("tipo"), Foglio: get("foglio"), Mappale: get("mappale"), Via: get("via")}
	ids := make([]string, len(h.cfg.Comuni))
	for i, c := range h.cfg.Comuni {
		ids[i] = c.ID
	}
	chosen := v["comune"]
	types := api.TypeNames(h.cfg.Catalogue)
	for _, c := range h.readableComuni(reader, ids) {
		pg.Comuni = append(pg.Comuni, option{c.ID, c.Name, slices.Contains(chosen, c.ID)})
	}
	for _, t := range types {
		pg.Types = append(pg.Types, option{t, t, t == pg.Tipo})
	}
	kept := keptParams(v)
	if len(kept) == 0 {
		h.render(w, http.StatusOK, "cerca.html", pg)
		return
	}
	pg.Searched = true
	q, err := api.ParseQuery(v, ids, types)
	if err != nil {
		pg.Error = sentence(err.Error())
		h.cfg.Audit(r, sess.Person, "SEARCH", "/", http.StatusBadRequest)
		h.render(w, http.StatusBadRequest, "cerca.html", pg)
		return
	}
	res, err := h.cfg.Catalogue.Search(r.Context(), reader, q)
	if err != nil {
		h.cfg.Audit(r, sess.Person, "SEARCH", "/", http.StatusServiceUnavailable)
		h.unavailable(w, r, "search", err)
		return
	}
	pg.Near, pg.Total, pg.Page = res.Near, res.Total, q.Page
	pg.Pages = max(1, (res.Total+catalogue.PageSize-1)/catalogue.PageSize)
	pg.First = (q.Page-1)*catalogue.PageSize + 1
	pg.Last = pg.First + len(res.Hits) - 1
	for _, hit := range res.Hits {
		pg.Results = append(pg.Results, h.searchResult(api.ResultOf(hit, res.Terms), h.names))
	}
	pg.Facets = facetGroups(api.Facets(res.DossierResult), kept, q, h.cfg.Comuni, types)
	pageLink := func(n int) string {
		l := cloneValues(kept)
		l.Set("pagina", strconv.Itoa(n))
		return "/_/cerca?" + l.Encode()
	}
	if q.Page > 1 {
		pg.PrevHref = pageLink(min(q.Page-1, pg.Pages))
	}
	if q.Page < min(pg.Pages, api.MaxPage) {
		pg.NextHref = pageLink(q.Page + 1)
	}
	h.cfg.Audit(r, sess.Person, "SEARCH", "/", http.StatusOK)
	h.render(w, http.StatusOK, "cerca.html", pg)
}

// readableComuni are the Comuni the person reads, whole or in part through
// a grant, in the configured order: those a search of theirs may find.
func (h *Handler) readableComuni(reader catalogue.Reader, ids []string) []Comune {
	whole, grants := reader.Readable(ids)
	in := map[string]bool{}
	for _, c := range whole {
		in[c] = true
	}
	for _, g := range grants {
		c, _ := access.SplitComune(g)
		in[c] = true
	}
	var out []Comune
	for _, c := range h.cfg.Comuni {
		if in[c.ID] {
			out = append(out, c)
		}
	}
	return out
}

// keptParams are the parameters of a search that its links keep: all the
// filled ones but the page, which each link sets.
func keptParams(v url.Values) url.Values {
	kept := url.Values{}
	for k, vs := range v {
		if k == "pagina" {
			continue
		}
		for _, s := range vs {
			if strings.TrimSpace(s) != "" {
				kept.Add(k, s)
			}
		}
	}
	return kept
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = slices.Clone(vs)
	}
	return c
}

// sentence writes an error of the parameters as a sentence of the page.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:] + "."
}

// searchResult is the page's row of a dossier found.
func (h *Handler) searchResult(res api.Result, names map[string]string) searchResult {
	folder := strings.TrimSuffix(res.Path, "/")
	sr := searchResult{Result: res, Title: res.Number, Href: FolderPages + escapedPath(folder) + "/", ComuneName: names[res.Comune]}
	if sr.Title == "" {
		sr.Title = folder[strings.LastIndex(folder, "/")+1:]
	}
	if sr.ComuneName == "" {
		sr.ComuneName = res.Comune
	}
	for _, a := range res.Addresses {
		s := strings.TrimSpace(a.Street + " " + a.Number)
		if a.Locality != "" {
			s += ", " + a.Locality
		}
		sr.Places = append(sr.Places, s)
	}
	for _, p := range res.Parcels {
		sr.Parcels = append(sr.Parcels, parcelText(p))
	}
	if res.File != "" {
		sr.FileName = strings.TrimPrefix(res.File, res.Path)
		sr.FileHref = "/_/scheda" + escapedPath(res.File)
		sr.Excerpt = marked(res.Excerpt, res.Highlighted)
	}
	return sr
}

// parcelText writes a cadastral reference as the offices do: "Catasto
// fabbricati, foglio 12, mappale 345, sub. 2".
func parcelText(p api.Parcel) string {
	var parts []string
	switch p.Register {
	case "F":
		parts = append(parts, "Catasto fabbricati")
	case "T":
		parts = append(parts, "Catasto terreni")
	}
	if p.Sheet != "" {
		parts = append(parts, "foglio "+p.Sheet)
	}
	if p.Number != "" {
		parts = append(parts, "mappale "+p.Number)
	}
	if p.Sub != "" {
		parts = append(parts, "sub. "+p.Sub)
	}
	return strings.Join(parts, ", ")
}

// marked is an excerpt as HTML: every byte of the text escaped, the
// matched words in <mark>. Offsets out of order or out of the text are
// passed over, never trusted to cut the text.
func marked(text string, marks []api.Highlight) template.HTML {
	var b strings.Builder
	at := 0
	for _, m := range marks {
		if m.Start < at || m.End <= m.Start || m.End > len(text) {
			continue
		}
		b.WriteString(template.HTMLEscapeString(text[at:m.Start]))
		b.WriteString("<mark>")
		b.WriteString(template.HTMLEscapeString(text[m.Start:m.End]))
		b.WriteString("</mark>")
		at = m.End
	}
	b.WriteString(template.HTMLEscapeString(text[at:]))
	return template.HTML(b.String())
}

// facetGroups are the facets of a result, as links that narrow the search
// kept to one value: Comuni in the configured order, years newest first,
// types in the catalogue's order. Values no filter can ask for (an unknown
// year or type) are not shown.
func facetGroups(f map[string]map[string]int, kept url.Values, q catalogue.Query, comuni []Comune, types []string) []facetGroup {
	link := func(param, value string, current bool) string {
		l := cloneValues(kept)
		if current {
			l.Del(param)
		} else {
			l.Set(param, value)
		}
		return "/_/cerca?" + l.Encode()
	}
	var out []facetGroup
	add := func(id, title, param string, values []string, label func(string) string, current func(string) bool) {
		g := facetGroup{ID: id, Title: title}
		for _, val := range values {
			n := f[param][val]
			if n == 0 {
				continue
			}
			cur := current(val)
			g.Links = append(g.Links, facetLink{Label: label(val), Href: link(param, val, cur), Count: n, Current: cur})
		}
		if len(g.Links) > 0 {
			out = append(out, g)
		}
	}
	var ids []string
	names := map[string]string{}
	for _, c := range comuni {
		ids = append(ids, c.ID)
		names[c.ID] = c.Name
	}
	add("faccette-comune", "Comune", "comune", ids, func(id string) string { return names[id] },
		func(id string) bool { return len(q.Comuni) == 1 && q.Comuni[0] == id })
	var years []string
	for y := range f["anno"] {
		if n, err := strconv.Atoi(y); err == nil && n > 0 {
			years = append(years, y)
		}
	}
	slices.SortFunc(years, func(a, b string) int { return strings.Compare(b, a) })
	same := func(s string) string { return s }
	add("faccette-anno", "Anno", "anno", years, same, func(y string) bool {
		return q.YearFrom == q.YearTo && strconv.Itoa(q.YearFrom) == y
	})
	add("faccette-tipo", "Tipo di pratica", "tipo", types, same, func(t string) bool { return q.Type == t })
	return out
}

// searchTitle names a search's page by what was searched, first.
func searchTitle(q string) string {
	if q = strings.TrimSpace(q); q == "" || len(q) > 100 {
		return "Cerca pratiche"
	}
	return "«" + q + "» · Cerca pratiche"
}
