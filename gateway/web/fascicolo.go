package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/catalogue"
	"github.com/bassareggiana/faldone/state"
)

// The record of a dossier (scheda del fascicolo): shown to those who may
// read the dossier, edited by those who may change it, with the rules of
// catalogue.Validate; every change is in the access log with the fields
// it changed.

// fieldLabel is a record's field as the form names it, for the messages
// about it.
func fieldLabel(field string) string {
	switch field {
	case "Path":
		return "Percorso"
	case "Year":
		return "Anno"
	case "ProtocolDate":
		return "Data di protocollo"
	case "Submitted":
		return "Data di presentazione"
	case "Issued":
		return "Data di rilascio"
	case "Opened":
		return "Data di apertura"
	case "Closed":
		return "Data di chiusura"
	}
	return ""
}

type recordRow struct{ Name, FiscalCode, Street, Number, Locality, Register, Sheet, Parcel, Sub string }

type recordPage struct {
	page
	Path, FolderHref, Action string
	Crumbs                   []crumb
	D                        state.Dossier
	Year                     string
	Types                    []string
	Applicants, Addresses    []recordRow
	Parcels                  []recordRow
	Kept, CanEdit, Saved     bool
	Closed                   string
	Errors                   []string
	Updated                  string
}

// minRows is how many empty rows of applicants, addresses and parcels the
// form offers beyond those filled.
const minRows = 2

func (h *Handler) recordPageOf(r *http.Request, sess state.Session, op *archive.Op, p string, d state.Dossier, kept bool) recordPage {
	pg := recordPage{page: page{Title: h.shownName(p) + " · Scheda del fascicolo", Session: &sess, CSRF: sess.CSRF},
		Path: p, FolderHref: "/_/archivio" + escapedPath(p) + "/", Action: "/_/fascicolo" + escapedPath(p),
		Crumbs: h.crumbs(p), D: d, Kept: kept, CanEdit: op.MayWrite(p)}
	if d.Year > 0 {
		pg.Year = strconv.Itoa(d.Year)
	}
	for _, t := range h.cfg.Catalogue.Types() {
		pg.Types = append(pg.Types, t.Name)
	}
	for _, a := range d.Applicants {
		pg.Applicants = append(pg.Applicants, recordRow{Name: a.Name, FiscalCode: a.FiscalCode})
	}
	for _, a := range d.Addresses {
		pg.Addresses = append(pg.Addresses, recordRow{Street: a.Street, Number: a.Number, Locality: a.Locality})
	}
	for _, x := range d.Parcels {
		pg.Parcels = append(pg.Parcels, recordRow{Register: x.Register, Sheet: x.Sheet, Parcel: x.Number, Sub: x.Sub})
	}
	if pg.CanEdit {
		for range minRows {
			pg.Applicants, pg.Addresses, pg.Parcels = append(pg.Applicants, recordRow{}), append(pg.Addresses, recordRow{}), append(pg.Parcels, recordRow{})
		}
	}
	if kept && !d.Updated.IsZero() {
		pg.Updated = dateText(d.Updated, h.cfg.Location) + " da " + h.displayName(r.Context(), d.UpdatedBy)
	}
	if err := op.CheckWrite(archive.Target{Path: p}); err != nil {
		pg.CanEdit = false
		if closed := (*archive.ClosedError)(nil); errors.As(err, &closed) {
			pg.Closed = "Fascicolo chiuso il " + dateText(closed.Closed, h.cfg.Location) + " da " + h.displayName(r.Context(), closed.By) + ": la scheda non si può modificare."
		}
	}
	return pg
}

// record shows the record of a dossier folder: a form for its editors.
func (h *Handler) record(w http.ResponseWriter, r *http.Request) {
	sess, p, op, ok := h.readable(w, r, "/_/fascicolo", false, h.fileNotFound)
	if !ok {
		return
	}
	if h.cfg.Catalogue == nil || !h.cfg.Catalogue.Rule().IsDossier(p) {
		h.fileNotFound(w, r)
		return
	}
	d, kept, err := h.cfg.Catalogue.Record(r.Context(), p)
	if err != nil {
		h.unavailable(w, r, "read a dossier's record", err)
		return
	}
	pg := h.recordPageOf(r, sess, op, p, d, kept)
	pg.Saved = r.URL.Query().Get("salvata") == "1"
	h.cfg.Audit(r, sess.Person, "RECORD", p, http.StatusOK)
	h.render(w, http.StatusOK, "fascicolo.html", pg)
}

// saveRecord keeps the record the form sends, if it is valid; else the
// form again, with what was typed and what is wrong.
func (h *Handler) saveRecord(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.sessionForm(w, r)
	if !ok {
		return
	}
	p, ok := archivePath(r, "/_/fascicolo")
	if !ok || h.cfg.Catalogue == nil || !h.cfg.Catalogue.Rule().IsDossier(p) {
		h.fileNotFound(w, r)
		return
	}
	op, err := h.begin(r, sess)
	if err != nil {
		h.unavailable(w, r, "authorize", err)
		return
	}
	if !op.Visible(p) {
		h.fileNotFound(w, r)
		return
	}
	if !op.MayWrite(p) {
		h.cfg.Audit(r, sess.Person, "RECORD-EDIT", p, http.StatusForbidden)
		h.message(w, r, http.StatusForbidden, "Operazione non consentita", "Puoi leggere la scheda di questo fascicolo, ma non modificarla.")
		return
	}
	if err := op.CheckWrite(archive.Target{Path: p}); err != nil {
		h.cfg.Audit(r, sess.Person, "RECORD-EDIT", p, archive.Status(err))
		h.failure(w, r, err)
		return
	}
	d, problems := recordFromForm(r, p)
	// Every problem at once, each once: what the form could not read,
	// and what the record's rules refuse.
	for _, fe := range catalogue.Validate(d) {
		if msg := fieldProblem(fe.Field, fe.Value); !slices.Contains(problems, msg) {
			problems = append(problems, msg)
		}
	}
	var changed []string
	var invalid []catalogue.FieldError
	if len(problems) == 0 {
		changed, invalid, err = h.cfg.Catalogue.Save(r.Context(), d, sess.Person)
	}
	if err != nil {
		h.cfg.Audit(r, sess.Person, "RECORD-EDIT", p, http.StatusServiceUnavailable)
		h.unavailable(w, r, "save a dossier's record", err)
		return
	}
	for _, fe := range invalid {
		problems = append(problems, fieldProblem(fe.Field, fe.Value))
	}
	if len(problems) > 0 {
		h.cfg.Audit(r, sess.Person, "RECORD-EDIT", p, http.StatusBadRequest)
		pg := h.recordPageOf(r, sess, op, p, d, true)
		pg.Errors = problems
		h.render(w, http.StatusBadRequest, "fascicolo.html", pg)
		return
	}
	if len(changed) > 0 {
		h.cfg.AuditTarget(r, sess.Person, "RECORD-EDIT", p, "campi="+strings.Join(changed, ","), http.StatusOK)
	}
	http.Redirect(w, r, "/_/fascicolo"+escapedPath(p)+"?salvata=1", http.StatusSeeOther)
}

// fieldProblem says in Italian what is wrong with a field.
func fieldProblem(field, value string) string {
	label := fieldLabel(field)
	switch {
	case strings.HasPrefix(field, "Parcels"):
		label = "Riferimento catastale: foglio, mappale e subalterno sono solo cifre"
	case strings.HasPrefix(field, "Applicants"):
		label = "Codice fiscale di un richiedente"
	case label == "":
		label = field
	}
	if value == "" {
		return label + ": valore mancante o non valido."
	}
	return label + ": «" + value + "» non è valido."
}

// recordFromForm reads the record the form sends; the problems are the
// values it could not read (a year or a date that is none).
func recordFromForm(r *http.Request, p string) (state.Dossier, []string) {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	d := state.Dossier{Path: p, Type: f("tipo"), Number: f("numero"), Subject: f("oggetto"), Designer: f("progettista"),
		Protocol: f("protocollo"), Status: f("stato"), Notes: f("note"), Identifier: f("identificativo"),
		AggregationType: f("tipo_aggregazione"), DossierKind: f("tipologia_fascicolo"), Administration: f("amministrazione"),
		Office: f("unita_organizzativa"), Responsible: f("responsabile")}
	var problems []string
	if y := f("anno"); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil || !catalogue.ValidYear(n) {
			problems = append(problems, fieldProblem("Year", y))
		}
		d.Year = n
	}
	for _, dt := range []struct {
		key, field string
		to         *string
	}{
		{"data_protocollo", "ProtocolDate", &d.ProtocolDate}, {"data_presentazione", "Submitted", &d.Submitted},
		{"data_rilascio", "Issued", &d.Issued}, {"data_apertura", "Opened", &d.Opened}, {"data_chiusura", "Closed", &d.Closed},
	} {
		v := f(dt.key)
		if v == "" {
			continue
		}
		iso, err := catalogue.ParseDate(v)
		if err != nil {
			problems = append(problems, fieldProblem(dt.field, v))
		}
		*dt.to = iso
	}
	rows := func(prefix string, keys ...string) [][]string {
		var out [][]string
		vals := make([][]string, len(keys))
		for i, k := range keys {
			vals[i] = r.PostForm[prefix+k]
		}
		for i := range vals[0] {
			row := make([]string, len(keys))
			empty := true
			for j := range keys {
				if i < len(vals[j]) {
					row[j] = strings.TrimSpace(vals[j][i])
				}
				empty = empty && row[j] == ""
			}
			if !empty {
				out = append(out, row)
			}
		}
		return out
	}
	for _, a := range rows("richiedente_", "nome", "cf") {
		d.Applicants = append(d.Applicants, state.Applicant{Name: a[0], FiscalCode: strings.ToUpper(a[1])})
	}
	for _, a := range rows("indirizzo_", "via", "civico", "localita") {
		d.Addresses = append(d.Addresses, state.Address{Street: a[0], Number: a[1], Locality: a[2]})
	}
	for _, x := range rows("catasto_", "registro", "foglio", "mappale", "sub") {
		if x[1] == "" && x[2] == "" && x[3] == "" {
			continue // only the register chosen: no parcel
		}
		d.Parcels = append(d.Parcels, state.Parcel{Register: x[0], Sheet: x[1], Number: x[2], Sub: x[3]})
	}
	return d, problems
}
