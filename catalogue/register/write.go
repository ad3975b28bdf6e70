package register

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"

	"github.com/bassareggiana/faldone/state"
)

// The export (`faldone catalogue export`) writes what Italian Excel opens
// by a double click, as the Comuni's staff open it: ";" between cells,
// UTF-8 with a byte-order mark (without one, Excel reads Windows-1252 and
// mangles every accent; with it, Windows-1252's missing characters — "ő",
// "ł" in foreign names — survive too), CRLF line ends, dates as gg/mm/aaaa,
// the columns DefaultColumns in their order. Reader reads it back to the
// same records, but for Deleted, Updated and UpdatedBy, which no column
// holds (and for values that Read would read otherwise: untrimmed or
// decomposed text, a house number that is not one — see splitAddress).
//
// Excel itself turns a foglio "021" into 21, and a long number into
// 1,23E+15, when it saves the file again: that is Excel's, not the
// register's.

// ErrNotWritable is the error of a record that the register cannot hold:
// a value with "|" in a column of several values.
var ErrNotWritable = errors.New("register: a value the register cannot hold")

// Writer writes records to a register.
type Writer struct {
	out     io.Writer
	csv     *csv.Writer
	started bool
	rec     []string
}

// NewWriter returns a Writer writing to w. Nothing is written before the
// first record or Flush.
func NewWriter(w io.Writer) *Writer {
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	return &Writer{out: w, csv: cw, rec: make([]string, nFields)}
}

func (w *Writer) start() error {
	if w.started {
		return nil
	}
	w.started = true
	if _, err := io.WriteString(w.out, "\ufeff"); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	return w.csv.Write(DefaultColumns())
}

// Write writes d's row; its signature is that of a store's Dossiers
// callback. An error of ErrNotWritable leaves the register as it was.
func (w *Writer) Write(d state.Dossier) error {
	if err := w.start(); err != nil {
		return err
	}
	if err := w.fill(d); err != nil {
		return err
	}
	for i, c := range w.rec {
		w.rec[i] = guardCell(c)
	}
	if err := w.csv.Write(w.rec); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	return nil
}

// Flush writes what is buffered (the header alone, for no record).
func (w *Writer) Flush() error {
	if err := w.start(); err != nil {
		return err
	}
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	return nil
}

// Write writes a register of the records ds.
func Write(out io.Writer, ds iter.Seq[state.Dossier]) error {
	w := NewWriter(out)
	for d := range ds {
		if err := w.Write(d); err != nil {
			return err
		}
	}
	return w.Flush()
}

func (w *Writer) fill(d state.Dossier) error {
	r := w.rec
	for i := range r {
		r[i] = ""
	}
	r[fPath] = d.Path
	r[fComune] = d.Comune
	if d.Year != 0 {
		r[fYear] = strconv.Itoa(d.Year)
	}
	r[fType], r[fNumber], r[fSubject], r[fDesigner] = d.Type, d.Number, d.Subject, d.Designer
	r[fProtocol], r[fStatus], r[fNotes] = d.Protocol, d.Status, d.Notes
	r[fProtocolDate], r[fSubmitted], r[fIssued] = italian(d.ProtocolDate), italian(d.Submitted), italian(d.Issued)
	r[fIdentifier], r[fAggregationType], r[fDossierKind] = d.Identifier, d.AggregationType, d.DossierKind
	r[fAdministration], r[fOffice], r[fResponsible] = d.Administration, d.Office, d.Responsible
	r[fOpened], r[fClosed] = italian(d.Opened), italian(d.Closed)

	var err error
	join := func(f field, n int, value func(int) string) {
		vs := make([]string, n)
		some := false
		for i := range vs {
			vs[i] = value(i)
			if strings.Contains(vs[i], "|") && err == nil {
				err = fmt.Errorf("%w: %s: the %s %q has a |", ErrNotWritable, d.Path, canonical()[f], vs[i])
			}
			some = some || vs[i] != ""
		}
		if some {
			r[f] = strings.Join(vs, "|")
		}
	}
	as := d.Applicants
	join(fApplicants, len(as), func(i int) string { return as[i].Name })
	join(fFiscalCodes, len(as), func(i int) string { return as[i].FiscalCode })
	ad := d.Addresses
	join(fAddress, len(ad), func(i int) string { return joinAddress(ad[i]) })
	join(fLocality, len(ad), func(i int) string { return ad[i].Locality })
	ps := d.Parcels
	join(fRegister, len(ps), func(i int) string { return ps[i].Register })
	join(fSheet, len(ps), func(i int) string { return ps[i].Sheet })
	join(fParcel, len(ps), func(i int) string { return ps[i].Number })
	join(fSub, len(ps), func(i int) string { return ps[i].Sub })
	return err
}

// italian is an ISO date as gg/mm/aaaa; anything else as it is.
func italian(iso string) string {
	if len(iso) != 10 || iso[4] != '-' || iso[7] != '-' {
		return iso
	}
	return iso[8:] + "/" + iso[5:7] + "/" + iso[:4]
}

// formulaStart reports whether a spreadsheet would take a cell that starts
// with c for a formula (CSV injection): = + - @, or a tab or return.
func formulaStart(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

// guardCell makes a cell that a spreadsheet would run as a formula text,
// with a leading ' (what Excel shows as text); a cell that starts with '
// before such a character gets one more, so that reading it back (Reader
// drops one) gives the value again.
func guardCell(s string) string {
	if s != "" && (formulaStart(s[0]) || s[0] == '\'' && len(s) > 1 && (formulaStart(s[1]) || s[1] == '\'')) {
		return "'" + s
	}
	return s
}
