// Package register reads and writes the register of dossiers — the CSV
// file that a Comune's SUE program or the scanning firm exports, one row a
// dossier — as catalogue records (state.Dossier).
//
// A register has a header. Its separator is ";" (Italian Excel), "," or a
// tab, whichever the header line holds most of; its text is UTF-8, with or
// without a byte-order mark, or Windows-1252 (see Reader). The columns are
// found by name (DefaultColumns, and many variants: see Mapping), so their
// order does not matter and unknown columns are ignored with a warning.
// Cells of the columns that hold several values (richiedenti,
// codice_fiscale, indirizzo, localita, catasto, foglio, mappale,
// subalterno) separate them with "|", paired by position.
//
// The import reads a register as a stream (Reader.Next) and stores each
// record by its path, so importing a register twice changes nothing.
package register

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"

	"github.com/bassareggiana/faldone/backends"
	"github.com/bassareggiana/faldone/catalogue"
	"github.com/bassareggiana/faldone/state"
)

// Options are the choices of an import.
type Options struct {
	// Comuni are the known Comuni: each one's id, and its name, by the
	// id (both "guastalla" → "guastalla" and "Guastalla" → "guastalla").
	// Names are compared folded (case and accents do not count). A row
	// whose comune is none of them is a row error. Nil takes any comune
	// as written, as an id.
	Comuni map[string]string
	// Comune, when set, is the only Comune whose rows are imported (the
	// --comune of `faldone catalogue import`): a row of another Comune is
	// a row error, since a register given for one Comune should hold
	// only its dossiers.
	Comune string
	// Columns are aliases of columns, from the configuration, added to
	// the built-in ones.
	Columns Mapping
	// MaxRows bounds the rows read (0: no bound): a register with more is
	// refused (ErrTooManyRows) rather than imported in part.
	MaxRows int
}

// Row is a dossier read, and the line its row starts on.
type Row struct {
	Line    int
	Dossier state.Dossier
}

// RowError is a row that could not be read, and why. A row with errors is
// not imported; the others are.
type RowError struct {
	Line   int    // where the row starts, from 1 (the header)
	Column string // as the register's header names it; "" for the whole row
	Value  string
	Reason string // in English, for the operator
}

func (e RowError) Error() string {
	switch {
	case e.Column == "":
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	case e.Value == "":
		return fmt.Sprintf("line %d, column %s: %s", e.Line, e.Column, e.Reason)
	}
	return fmt.Sprintf("line %d, column %s: %q: %s", e.Line, e.Column, e.Value, e.Reason)
}

// Warning is something the operator should know that did not keep a row
// out: a column not understood, a dossier's path on two rows.
type Warning struct {
	Line    int
	Column  string
	Message string
}

func (w Warning) String() string {
	if w.Column == "" {
		return fmt.Sprintf("line %d: %s", w.Line, w.Message)
	}
	return fmt.Sprintf("line %d, column %s: %s", w.Line, w.Column, w.Message)
}

// ErrTooManyRows is the error of a register with more rows than
// Options.MaxRows.
var ErrTooManyRows = errors.New("register: too many rows")

// HeaderError is a register that cannot be read at all, for its header.
type HeaderError struct {
	Reason string
}

func (e *HeaderError) Error() string { return "register: header: " + e.Reason }

// Reader reads a register's rows one at a time, so that a register of
// hundreds of thousands of rows is not held in memory (only the paths
// seen, to warn of duplicates).
//
// The encoding is decided on the start of the register (its header line
// at least, what one read gives at most, up to 64 KiB): a byte-order mark,
// or text that is valid UTF-8, is UTF-8; anything else is Windows-1252,
// where every byte is a character. Should a later cell not be valid UTF-8
// after all, it and every cell after it are read as Windows-1252 (the
// cells before had no accent then, or they would not have been UTF-8). Every value is trimmed
// and composed (NFC).
type Reader struct {
	csv    *csv.Reader
	opts   Options
	header []string
	col    [nFields]int // the field's index in a row, -1 when absent
	comuni map[string]string
	ids    string // the Comuni's ids, for the errors
	comune string
	cp1252 bool
	dec    *encoding.Decoder
	seen   map[string]int
	rows   int
	errs   []RowError
	warns  []Warning
}

// peekSize bounds what of a register decides its separator and encoding.
const peekSize = 64 << 10

// NewReader reads r's header. Its errors are a *HeaderError, or r's.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	br := bufio.NewReaderSize(r, peekSize)
	head, err := peekLine(br)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	rd := &Reader{opts: opts, dec: charmap.Windows1252.NewDecoder(), seen: map[string]int{}}
	if bom := []byte("\ufeff"); bytes.HasPrefix(head, bom) {
		br.Discard(len(bom))
		head = head[len(bom):]
	} else {
		rd.cp1252 = !validPrefix(head)
	}
	rd.csv = csv.NewReader(br)
	rd.csv.Comma = separator(head)
	rd.csv.FieldsPerRecord = -1 // a row of the wrong length is a row error
	rd.csv.LazyQuotes = true    // a bare " in a cell, as hand-made files have
	rd.csv.ReuseRecord = true

	if err := rd.readHeader(); err != nil {
		return nil, err
	}
	rd.comuni = map[string]string{}
	ids := map[string]bool{}
	for k, id := range opts.Comuni {
		rd.comuni[k] = id
		rd.comuni[fold(k)] = id
		rd.comuni[id] = id
		ids[id] = true
	}
	rd.ids = strings.Join(slices.Sorted(maps.Keys(ids)), ", ")
	if opts.Comune != "" {
		id, ok := rd.resolveComune(opts.Comune)
		if !ok {
			return nil, fmt.Errorf("register: the Comune %q of the import is none of the known Comuni", opts.Comune)
		}
		rd.comune = id
	}
	return rd, nil
}

// peekLine returns the start of br without consuming it: as much as is
// buffered, and at least the first line (or all of a shorter register,
// or the first 64 KiB of a longer line). It waits for no more than that,
// so that a register piped in is read as it comes.
func peekLine(br *bufio.Reader) ([]byte, error) {
	for {
		n := br.Buffered()
		if n > 0 {
			b, _ := br.Peek(n)
			if bytes.IndexByte(b, '\n') >= 0 || n >= peekSize {
				return b, nil
			}
		}
		_, err := br.Peek(n + 1)
		if err == io.EOF {
			b, _ := br.Peek(br.Buffered())
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// validPrefix reports whether b is valid UTF-8 but for a rune cut short
// at its end.
func validPrefix(b []byte) bool {
	for i := 0; i < 3 && len(b) > 0; i++ {
		if utf8.Valid(b) {
			return true
		}
		if utf8.RuneStart(b[len(b)-1]) || b[len(b)-1] >= 0x80 {
			b = b[:len(b)-1]
			continue
		}
		return false
	}
	return utf8.Valid(b)
}

// separator is the one of ";", "," and tab that the header line holds
// most of, outside quotes; ";" on a tie, as Italian Excel writes.
func separator(head []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range head {
		if c == '\n' && !quoted {
			break
		}
		switch c {
		case '"':
			quoted = !quoted
		case ';', ',', '\t':
			if !quoted {
				counts[c]++
			}
		}
	}
	best := byte(';')
	for _, c := range []byte{',', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

func (rd *Reader) readHeader() error {
	rec, err := rd.csv.Read()
	if err == io.EOF {
		return &HeaderError{Reason: "the register is empty"}
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return &HeaderError{Reason: pe.Err.Error()}
		}
		return fmt.Errorf("register: %w", err)
	}
	idx, err := columnIndex(rd.opts.Columns)
	if err != nil {
		return err
	}
	for i := range rd.col {
		rd.col[i] = -1
	}
	names := canonical()
	rd.header = make([]string, len(rec))
	for i, h := range rec {
		h = rd.text(h)
		rd.header[i] = h
		f, ok := idx[fold(h)]
		if !ok {
			if h != "" {
				rd.warns = append(rd.warns, Warning{Line: 1, Column: h, Message: "unknown column, ignored"})
			}
			continue
		}
		if j := rd.col[f]; j >= 0 {
			return &HeaderError{Reason: fmt.Sprintf("the columns %q and %q both hold %s", rd.header[j], h, names[f])}
		}
		rd.col[f] = i
	}
	if rd.col[fPath] < 0 && (rd.col[fComune] < 0 || rd.col[fYear] < 0 || rd.col[fNumber] < 0) {
		return &HeaderError{Reason: fmt.Sprintf("no column percorso, and not all of comune, anno and numero to make the path from (the columns are %q)", rd.header)}
	}
	return nil
}

// Errors returns the rows refused so far.
func (rd *Reader) Errors() []RowError { return rd.errs }

// Warnings returns the warnings so far.
func (rd *Reader) Warnings() []Warning { return rd.warns }

// Columns returns the register's header, as decoded.
func (rd *Reader) Columns() []string { return rd.header }

// Next returns the next row that could be read, and io.EOF after the last.
// The rows that could not are skipped, and their errors are in Errors. A
// dossier's path on an earlier row too is returned again (the last row
// wins, as the import stores each row by its path) and is in Warnings.
// Any other error (reading, ErrTooManyRows) ends the register.
func (rd *Reader) Next() (Row, error) {
	for {
		rec, err := rd.csv.Read()
		if err == io.EOF {
			return Row{}, io.EOF
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return Row{}, fmt.Errorf("register: %w", err)
			}
			if err := rd.count(); err != nil {
				return Row{}, err
			}
			rd.errs = append(rd.errs, RowError{Line: pe.StartLine, Reason: "unreadable row: " + pe.Err.Error()})
			continue
		}
		if blank(rec) {
			continue // spreadsheets leave rows of empty cells at the end
		}
		if err := rd.count(); err != nil {
			return Row{}, err
		}
		line, _ := rd.csv.FieldPos(0)
		if len(rec) != len(rd.header) {
			rd.errs = append(rd.errs, RowError{Line: line, Reason: fmt.Sprintf("%d fields, but the header has %d", len(rec), len(rd.header))})
			continue
		}
		p := rowParser{rd: rd, rec: rec, line: line}
		d := p.dossier()
		if p.failed {
			continue
		}
		if prev, ok := rd.seen[d.Path]; ok {
			rd.warns = append(rd.warns, Warning{Line: line, Column: rd.name(fPath), Message: fmt.Sprintf("the dossier %s is also on line %d: this row wins", d.Path, prev)})
		}
		rd.seen[d.Path] = line
		return Row{Line: line, Dossier: d}, nil
	}
}

func (rd *Reader) count() error {
	rd.rows++
	if rd.opts.MaxRows > 0 && rd.rows > rd.opts.MaxRows {
		return fmt.Errorf("%w: more than %d", ErrTooManyRows, rd.opts.MaxRows)
	}
	return nil
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// name is the header of f's column in the register, or its canonical
// name when the register has none.
func (rd *Reader) name(f field) string {
	if i := rd.col[f]; i >= 0 && rd.header[i] != "" {
		return rd.header[i]
	}
	return canonical()[f]
}

// text is a cell's text: decoded, trimmed and composed.
func (rd *Reader) text(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if !ascii {
		if !rd.cp1252 && !utf8.ValidString(s) {
			rd.cp1252 = true
		}
		if rd.cp1252 {
			if d, err := rd.dec.String(s); err == nil {
				s = d
			}
		}
		s = norm.NFC.String(s)
	}
	// A cell written text by a ' before a formula's start (Writer's guard).
	if len(s) > 1 && s[0] == '\'' && (formulaStart(s[1]) || s[1] == '\'') {
		s = s[1:]
	}
	return strings.TrimSpace(s)
}

// resolveComune is the id of the Comune named s (its id or name).
func (rd *Reader) resolveComune(s string) (string, bool) {
	if rd.opts.Comuni == nil {
		return s, validName(s)
	}
	if id, ok := rd.comuni[s]; ok {
		return id, true
	}
	id, ok := rd.comuni[fold(s)]
	return id, ok
}

// Register is a whole register, read: for tests and small files.
type Register struct {
	Rows     []Row // the last row of each path, in the order of the file
	Errors   []RowError
	Warnings []Warning
}

// Read reads all of a register (see Reader).
func Read(r io.Reader, opts Options) (*Register, error) {
	rd, err := NewReader(r, opts)
	if err != nil {
		return nil, err
	}
	reg := &Register{}
	at := map[string]int{}
	for {
		row, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if i, ok := at[row.Dossier.Path]; ok {
			reg.Rows[i].Line = 0 // replaced: dropped below
		}
		at[row.Dossier.Path] = len(reg.Rows)
		reg.Rows = append(reg.Rows, row)
	}
	kept := reg.Rows[:0]
	for _, row := range reg.Rows {
		if row.Line != 0 {
			kept = append(kept, row)
		}
	}
	reg.Rows = kept
	reg.Errors, reg.Warnings = rd.Errors(), rd.Warnings()
	return reg, nil
}

// rowParser reads one row into a dossier, noting each cell refused.
type rowParser struct {
	rd     *Reader
	rec    []string
	line   int
	failed bool
}

func (p *rowParser) get(f field) string {
	if i := p.rd.col[f]; i >= 0 {
		return p.rd.text(p.rec[i])
	}
	return ""
}

func (p *rowParser) fail(f field, value, reason string) {
	p.failed = true
	col := ""
	if f >= 0 {
		col = p.rd.name(f)
	}
	p.rd.errs = append(p.rd.errs, RowError{Line: p.line, Column: col, Value: value, Reason: reason})
}

// list is a cell's values, split at "|" and trimmed; none for an empty cell.
func (p *rowParser) list(f field) []string {
	v := p.get(f)
	if v == "" {
		return nil
	}
	parts := strings.Split(v, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func (p *rowParser) date(f field) string {
	v := p.get(f)
	iso, err := catalogue.ParseDate(v)
	if err != nil {
		reason := err.Error()
		var fe *catalogue.FieldError
		if errors.As(err, &fe) {
			reason = fe.Reason
		}
		p.fail(f, v, reason)
	}
	return iso
}

func (p *rowParser) dossier() state.Dossier {
	d := state.Dossier{
		Type:            p.get(fType),
		Number:          p.get(fNumber),
		Subject:         p.get(fSubject),
		Designer:        p.get(fDesigner),
		Protocol:        p.get(fProtocol),
		ProtocolDate:    p.date(fProtocolDate),
		Submitted:       p.date(fSubmitted),
		Issued:          p.date(fIssued),
		Status:          p.get(fStatus),
		Notes:           p.get(fNotes),
		Identifier:      p.get(fIdentifier),
		AggregationType: p.get(fAggregationType),
		DossierKind:     p.get(fDossierKind),
		Administration:  p.get(fAdministration),
		Office:          p.get(fOffice),
		Responsible:     p.get(fResponsible),
		Opened:          p.date(fOpened),
		Closed:          p.date(fClosed),
	}
	if y := p.get(fYear); y != "" {
		n, err := strconv.Atoi(y)
		if len(y) != 4 || err != nil || !catalogue.ValidYear(n) {
			p.fail(fYear, y, fmt.Sprintf("not a year: four digits, %d to %d", catalogue.MinYear, catalogue.MaxYear))
		}
		d.Year = n
	}
	p.place(&d)
	d.Applicants = p.applicants()
	d.Addresses = p.addresses()
	d.Parcels = p.parcels()
	return d
}

// place sets d's Comune and Path: the path as written, in the Comune of
// the comune column when there is one; or, with no path, made of the
// comune, the year and the number: /comune/anno/numero.
func (p *rowParser) place(d *state.Dossier) {
	c := p.get(fComune)
	if c != "" {
		id, ok := p.rd.resolveComune(c)
		if !ok {
			p.fail(fComune, c, "not one of the Comuni: "+p.rd.ids)
			return
		}
		d.Comune = id
	}
	if v := p.get(fPath); v != "" {
		clean, reason := cleanPath(v)
		if reason != "" {
			p.fail(fPath, v, reason)
			return
		}
		first, _, _ := strings.Cut(clean[1:], "/")
		switch {
		case d.Comune != "" && first != d.Comune:
			p.fail(fPath, v, fmt.Sprintf("not in the folder of the Comune %s, /%s", c, d.Comune))
			return
		case d.Comune == "":
			if id, ok := p.rd.resolveComune(first); !ok || id != first {
				p.fail(fPath, v, "the first folder is none of the Comuni: "+p.rd.ids)
				return
			}
			d.Comune = first
		}
		d.Path = clean
	} else {
		if d.Comune == "" || d.Year == 0 || d.Number == "" {
			p.fail(fPath, "", "no path, and not all of comune, anno and numero to make it of")
			return
		}
		if !validName(d.Number) {
			p.fail(fNumber, d.Number, "cannot be a folder's name, to make the path of (it has a / or a control character): give the path in percorso")
			return
		}
		d.Path = "/" + d.Comune + "/" + strconv.Itoa(d.Year) + "/" + d.Number
		if err := backends.CheckPath(d.Path[1:]); err != nil {
			p.fail(fNumber, d.Number, "too long for a folder's name: give the path in percorso")
			return
		}
	}
	if p.rd.comune != "" && d.Comune != p.rd.comune {
		f := fComune
		if c == "" {
			f = fPath
		}
		p.fail(f, d.Comune, fmt.Sprintf("not of the Comune %s, the only one this import takes", p.rd.comune))
	}
}

// cleanPath is a dossier's path as the namespace spells it: composed (the
// cell is already), with no trailing slash. The same path is refused, and
// not repaired, for the reasons archive.Path refuses it, and when it is
// a Comune's own folder.
func cleanPath(v string) (string, string) {
	if !strings.HasPrefix(v, "/") {
		return "", "not a path: it must start with /<comune>/"
	}
	s := strings.TrimSuffix(v, "/")
	if s == "" {
		return "", "not a dossier's folder: /<comune>/…"
	}
	for seg := range strings.SplitSeq(s[1:], "/") {
		if !validName(seg) {
			return "", `not a path: it has an empty name, "." or "..", a backslash or a control character`
		}
	}
	if !strings.Contains(s[1:], "/") {
		return "", "a Comune's folder, not a dossier's: /<comune>/…"
	}
	if err := backends.CheckPath(s[1:]); err != nil {
		return "", "not a path the archive can store (too long?)"
	}
	return s, ""
}

// validName reports whether s may be one name of a path, as
// archive.ValidName.
func validName(s string) bool {
	if s == "" || s == "." || s == ".." || !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '/' || c == '\\' {
			return false
		}
	}
	return true
}

func (p *rowParser) applicants() []state.Applicant {
	names, codes := p.list(fApplicants), p.list(fFiscalCodes)
	if len(codes) > 0 && len(names) > 0 && len(codes) != len(names) {
		p.fail(fFiscalCodes, p.get(fFiscalCodes), fmt.Sprintf("%d fiscal codes for %d applicants: pair them by position, leaving a place empty (A|B, |CF)", len(codes), len(names)))
		return nil
	}
	n := max(len(names), len(codes))
	if n == 0 {
		return nil
	}
	as := make([]state.Applicant, n)
	for i := range as {
		if i < len(names) {
			as[i].Name = names[i]
		}
		if i < len(codes) {
			cf := strings.ToUpper(strings.ReplaceAll(codes[i], " ", ""))
			if cf != "" && !catalogue.ValidFiscalCode(cf) {
				p.fail(fFiscalCodes, codes[i], "neither a fiscal code (16 characters) nor a VAT number (11 digits)")
			}
			as[i].FiscalCode = cf
		}
	}
	return as
}

func (p *rowParser) addresses() []state.Address {
	streets, places := p.list(fAddress), p.list(fLocality)
	if len(places) > 1 && len(streets) > 0 && len(places) != len(streets) {
		p.fail(fLocality, p.get(fLocality), fmt.Sprintf("%d localities for %d addresses: give one for all, or one for each", len(places), len(streets)))
		return nil
	}
	n := max(len(streets), len(places))
	if n == 0 {
		return nil
	}
	as := make([]state.Address, n)
	for i := range as {
		if i < len(streets) {
			as[i] = splitAddress(streets[i])
		}
		switch {
		case len(places) == 1:
			as[i].Locality = places[0]
		case i < len(places):
			as[i].Locality = places[i]
		}
	}
	return as
}

// parcels pairs the cadastral columns by position: foglio 21|21 and
// mappale 345|346 are two parcels. A single catasto or foglio applies to
// every parcel (foglio 21, mappale 345|346); mappale and subalterno pair
// one to one.
func (p *rowParser) parcels() []state.Parcel {
	regs, sheets, nums, subs := p.list(fRegister), p.list(fSheet), p.list(fParcel), p.list(fSub)
	n := max(len(regs), len(sheets), len(nums), len(subs))
	if n == 0 {
		return nil
	}
	ok := true
	for _, c := range []struct {
		f      field
		vs     []string
		shared bool
	}{{fRegister, regs, true}, {fSheet, sheets, true}, {fParcel, nums, false}, {fSub, subs, false}} {
		if len(c.vs) == 0 || len(c.vs) == n || (c.shared && len(c.vs) == 1) {
			continue
		}
		p.fail(c.f, p.get(c.f), fmt.Sprintf("%d values for %d parcels: pair catasto, foglio, mappale and subalterno by position", len(c.vs), n))
		ok = false
	}
	if !ok {
		return nil
	}
	at := func(vs []string, i int) string {
		switch {
		case len(vs) == 0:
			return ""
		case len(vs) == 1:
			return vs[0]
		}
		return vs[i]
	}
	ps := make([]state.Parcel, n)
	for i := range ps {
		ps[i] = state.Parcel{Register: at(regs, i), Sheet: at(sheets, i), Number: at(nums, i), Sub: at(subs, i)}
		if r, ok := register(ps[i].Register); ok {
			ps[i].Register = r
		} else {
			p.fail(fRegister, ps[i].Register, `neither F (fabbricati) nor T (terreni)`)
		}
		for _, c := range []struct {
			f field
			v string
		}{{fSheet, ps[i].Sheet}, {fParcel, ps[i].Number}, {fSub, ps[i].Sub}} {
			if c.v != "" && !catalogue.ValidParcelNumber(c.v) {
				p.fail(c.f, c.v, "digits only")
			}
		}
	}
	return ps
}

// register is the cadastre a catasto cell names: F (fabbricati, also the
// old NCEU, urbano) or T (terreni, NCT).
func register(s string) (string, bool) {
	switch fold(s) {
	case "":
		return "", true
	case "f", "cf", "fabbricati", "fabbricato", "catastofabbricati", "nceu", "ceu", "u", "urbano", "catastourbano":
		return "F", true
	case "t", "ct", "terreni", "terreno", "catastoterreni", "nct":
		return "T", true
	}
	return "", false
}
