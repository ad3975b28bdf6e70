package register

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"

	"github.com/bassareggiana/faldone/state"
)

// comuni are the Unione's Comuni, as the configuration gives them.
func comuni() map[string]string {
	m := map[string]string{}
	for _, c := range []struct{ id, name string }{
		{"boretto", "Boretto"}, {"brescello", "Brescello"}, {"gualtieri", "Gualtieri"},
		{"guastalla", "Guastalla"}, {"luzzara", "Luzzara"}, {"novellara", "Novellara"},
		{"poviglio", "Poviglio"}, {"reggiolo", "Reggiolo"},
	} {
		m[c.id], m[c.name] = c.id, c.id
	}
	return m
}

func opts() Options { return Options{Comuni: comuni()} }

func read(t *testing.T, text string, o Options) *Register {
	t.Helper()
	reg, err := Read(strings.NewReader(text), o)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return reg
}

func one(t *testing.T, text string) state.Dossier {
	t.Helper()
	reg := read(t, text, opts())
	if len(reg.Errors) != 0 || len(reg.Rows) != 1 {
		t.Fatalf("Read: %d rows, errors %v", len(reg.Rows), reg.Errors)
	}
	return reg.Rows[0].Dossier
}

var (
	surnames = []string{"Caffè", "Nicolò Bertolini", "Ferrari", "Zanichelli", "Forlì", "Bonacini", "Gualtierotti", "Dall'Aglio", "Pò", "Incerti Vecchi"}
	streets  = []string{"Via Guastalla", "Via XX Settembre", "Via Cesare Battisti", "Piazza Mazzini", "Viale Po", "Via Sant'Antonio", "Strada Provinciale 62", "Via Gonzaga"}
	places   = []string{"", "San Girolamo", "Pieve", "Tagliata", "San Giacomo"}
	types    = []string{"PdC", "SCIA", "CILA", "DIA", "Condono"}
)

const header500 = "comune;anno;tipo;numero;percorso;oggetto;richiedenti;codice_fiscale;indirizzo;localita;foglio;mappale;subalterno;protocollo;data_protocollo;stato"

// row500 is the i-th row of the generated register, and its record.
func row500(i int) (string, state.Dossier) {
	ids := []string{"boretto", "brescello", "gualtieri", "guastalla", "luzzara", "novellara", "poviglio", "reggiolo"}
	id := ids[i%len(ids)]
	year := 1975 + i%48
	typ := types[i%len(types)]
	num := fmt.Sprintf("%s-%d-%04d", strings.ToUpper(typ[:2]), year, i)
	name := surnames[i%len(surnames)]
	street := streets[i%len(streets)]
	house := fmt.Sprintf("%d", 1+i%120)
	if i%7 == 0 {
		house += "/A"
	}
	place := places[i%len(places)]
	day, month := 1+i%28, 1+i%12
	d := state.Dossier{
		Path: fmt.Sprintf("/%s/%d/%s", id, year, num), Comune: id, Year: year, Type: typ, Number: num,
		Subject:      fmt.Sprintf("Ristrutturazione di fabbricato; ampliamento n° %d", i),
		Applicants:   []state.Applicant{{Name: "Mario " + name, FiscalCode: fmt.Sprintf("RSSMRA%02dA01E253Z", i%100)}},
		Addresses:    []state.Address{{Street: street, Number: house, Locality: place}},
		Parcels:      []state.Parcel{{Sheet: fmt.Sprint(1 + i%40), Number: fmt.Sprint(100 + i), Sub: fmt.Sprint(1 + i%5)}},
		Protocol:     fmt.Sprint(10000 + i),
		ProtocolDate: fmt.Sprintf("%d-%02d-%02d", year, month, day),
		Status:       "rilasciato",
	}
	addr := street + " " + house
	if i%2 == 0 {
		addr = street + ", " + house
	}
	line := strings.Join([]string{
		id, fmt.Sprint(year), typ, d.Number, "", `"` + d.Subject + `"`, d.Applicants[0].Name, d.Applicants[0].FiscalCode,
		addr, place, d.Parcels[0].Sheet, d.Parcels[0].Number, d.Parcels[0].Sub, d.Protocol,
		fmt.Sprintf("%02d/%02d/%d", day, month, year), d.Status,
	}, ";")
	if street == "Strada Provinciale 62" { // no street-kind split: the comma keeps it
		line = strings.Replace(line, addr, street+", "+house, 1)
	}
	return line, d
}

func TestRead500Windows1252(t *testing.T) {
	var b strings.Builder
	b.WriteString(header500 + "\r\n")
	var want []state.Dossier
	bad := map[int]string{ // line → the row written instead
		38:  "guastalla;2019;PdC;PC-2019-9001;;Tettoia;Caffè;;Via Guastalla 3;;21;345;;1;31/02/2019;rilasciato",
		97:  "guastalla;19;PdC;PC-2019-9002;;Tettoia;Caffè;;Via Guastalla 3;;21;345;;1;01/02/2019;rilasciato",
		201: "luzzara;2019;SCIA;SC-2019-9003;;Tettoia;Nicolò;;Via XX Settembre 20;;2a;345;;1;01/02/2019;rilasciato",
		333: "Correggio;2019;SCIA;SC-2019-9004;;Tettoia;Nicolò;;Via XX Settembre 20;;2;345;;1;01/02/2019;rilasciato",
		450: "reggiolo;2019;SCIA;SC-2019-9005;;Tettoia;Nicolò;;Via XX Settembre 20;;2;345;1",
	}
	for i := 0; i < 500; i++ {
		line := i + 2
		if r, ok := bad[line]; ok {
			b.WriteString(r + "\r\n")
			continue
		}
		text, d := row500(i)
		b.WriteString(text + "\r\n")
		want = append(want, d)
	}
	cp, err := charmap.Windows1252.NewEncoder().String(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cp, "Caff\xe8") {
		t.Fatal("the register is not Windows-1252")
	}
	reg, err := Read(strings.NewReader(cp), opts())
	if err != nil {
		t.Fatal(err)
	}
	wantErrs := []RowError{
		{Line: 38, Column: "data_protocollo", Value: "31/02/2019"},
		{Line: 97, Column: "anno", Value: "19"},
		{Line: 201, Column: "foglio", Value: "2a"},
		{Line: 333, Column: "comune", Value: "Correggio"},
		{Line: 450, Column: ""},
	}
	if len(reg.Errors) != len(wantErrs) {
		t.Fatalf("errors: %v", reg.Errors)
	}
	for i, e := range reg.Errors {
		if e.Reason == "" {
			t.Errorf("%v: no reason", e)
		}
		e.Reason = ""
		if e != wantErrs[i] {
			t.Errorf("error %d = %+v, want %+v", i, e, wantErrs[i])
		}
	}
	if len(reg.Warnings) != 0 {
		t.Errorf("warnings: %v", reg.Warnings)
	}
	if r := reg.Errors[3].Reason; !strings.Contains(r, "boretto, brescello, gualtieri, guastalla, luzzara, novellara, poviglio, reggiolo") {
		t.Errorf("the unknown Comune's reason %q does not list the Comuni", r)
	}
	if len(reg.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(reg.Rows), len(want))
	}
	for i, row := range reg.Rows {
		if !reflect.DeepEqual(row.Dossier, want[i]) {
			t.Fatalf("line %d:\n got %+v\nwant %+v", row.Line, row.Dossier, want[i])
		}
	}
}

func TestReadUTF8BOMComma(t *testing.T) {
	text := "\ufeffPercorso,Comune,Anno,N. pratica,Richiedente,Località,Data protocollo\n" +
		`/novellara/2021/CILA-2021-0007/,Novellara,2021,CILA-2021-0007,"Nicolò Caffè, Srl",Pieve,5/3/2021` + "\n"
	d := one(t, text)
	want := state.Dossier{
		Path: "/novellara/2021/CILA-2021-0007", Comune: "novellara", Year: 2021, Number: "CILA-2021-0007",
		Applicants: []state.Applicant{{Name: "Nicolò Caffè, Srl"}}, Addresses: []state.Address{{Locality: "Pieve"}},
		ProtocolDate: "2021-03-05",
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got  %+v\nwant %+v", d, want)
	}
}

func TestReadTabAndDecomposed(t *testing.T) {
	// "Nicolò" decomposed, as macOS writes it: stored composed.
	d := one(t, "comune\tanno\tnumero\trichiedenti\nGUASTALLA\t2019\tPC-1\tNicolo\u0300\n")
	if d.Path != "/guastalla/2019/PC-1" || d.Applicants[0].Name != "Nicolò" {
		t.Errorf("got %+v", d)
	}
}

func TestHeaderVariants(t *testing.T) {
	for _, c := range []struct {
		header string
		want   string // the field
	}{
		{"Data protocollo", "data_protocollo"}, {"DATA_PROT", "data_protocollo"}, {"data.protocollo", "data_protocollo"},
		{"N. pratica", "numero"}, {"N° pratica", "numero"}, {"Numero", "numero"},
		{"Richiedente", "richiedenti"}, {"Intestatario", "richiedenti"},
		{"Particella", "mappale"}, {"MAPPALI", "mappale"}, {"Sub", "subalterno"}, {"Fg.", "foglio"},
		{"LOCALITA'", "localita"}, {"Località", "localita"}, {"Codice Fiscale", "codice_fiscale"},
		{"Tipologia fascicolo", "tipologia_fascicolo"}, {"Responsabile del procedimento", "responsabile"},
		{"Data di rilascio", "data_rilascio"}, {" Stato ", "stato"},
	} {
		idx, err := columnIndex(nil)
		if err != nil {
			t.Fatal(err)
		}
		f, ok := idx[fold(c.header)]
		if !ok || canonical()[f] != c.want {
			t.Errorf("%q: %v %v, want %s", c.header, canonical()[f], ok, c.want)
		}
	}
}

func TestUnknownColumnsAndMapping(t *testing.T) {
	text := "percorso;Ditta esecutrice;Intervento edilizio;Colore\n/boretto/2000/X;Edil Po;Recinzione;verde\n"
	reg := read(t, text, Options{Comuni: comuni(), Columns: Mapping{"Intervento edilizio": "oggetto", "DITTA_ESECUTRICE": "Note"}})
	if len(reg.Rows) != 1 || reg.Rows[0].Dossier.Subject != "Recinzione" || reg.Rows[0].Dossier.Notes != "Edil Po" {
		t.Fatalf("rows %+v", reg.Rows)
	}
	want := []Warning{{Line: 1, Column: "Colore", Message: "unknown column, ignored"}}
	if !reflect.DeepEqual(reg.Warnings, want) {
		t.Errorf("warnings %v", reg.Warnings)
	}
	if _, err := NewReader(strings.NewReader(text), Options{Columns: Mapping{"Colore": "colour"}}); err == nil {
		t.Error("a mapping to no field is accepted")
	}
}

func TestHeaderErrors(t *testing.T) {
	for _, text := range []string{
		"",
		"comune;anno;oggetto\nguastalla;2019;x\n",
		"comune;numero;oggetto\n",
		"percorso;Percorso\n/a/b;/a/c\n",
		"richiedente;richiedenti;percorso\n",
	} {
		_, err := Read(strings.NewReader(text), opts())
		var he *HeaderError
		if !errors.As(err, &he) {
			t.Errorf("%q: %v, want a *HeaderError", text, err)
		}
	}
}

func TestMultiValues(t *testing.T) {
	text := "percorso;richiedenti;codice_fiscale;indirizzo;localita;catasto;foglio;mappale;subalterno\n" +
		"/poviglio/2010/10;Rossi Mario | Bianchi Anna;|bnc ann 70a41 e253x;Via Roma 3|Piazza Mazzini, 1;San Girolamo;terreni;21;345|346|347;||2\n"
	d := one(t, text)
	want := state.Dossier{
		Path: "/poviglio/2010/10", Comune: "poviglio",
		Applicants: []state.Applicant{{Name: "Rossi Mario"}, {Name: "Bianchi Anna", FiscalCode: "BNCANN70A41E253X"}},
		Addresses:  []state.Address{{Street: "Via Roma", Number: "3", Locality: "San Girolamo"}, {Street: "Piazza Mazzini", Number: "1", Locality: "San Girolamo"}},
		Parcels:    []state.Parcel{{Register: "T", Sheet: "21", Number: "345"}, {Register: "T", Sheet: "21", Number: "346"}, {Register: "T", Sheet: "21", Number: "347", Sub: "2"}},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got  %+v\nwant %+v", d, want)
	}
	for _, c := range []struct{ row, column string }{
		{"/poviglio/2010/10;A|B;X;;;;;;", "codice_fiscale"},
		{"/poviglio/2010/10;;;Via A 1|Via B 2|Via C 3;P|Q;;;;", "localita"},
		{"/poviglio/2010/10;;;;;;21|22|23;345|346;", "mappale"},
		{"/poviglio/2010/10;;;;;;21;345|346;1", "subalterno"},
		{"/poviglio/2010/10;;;;;urbano|boh;21;345|346;", "catasto"},
		{"/poviglio/2010/10;;;;;;21;345|34b;", "mappale"},
	} {
		reg := read(t, strings.SplitN(text, "\n", 2)[0]+"\n"+c.row+"\n", opts())
		if len(reg.Rows) != 0 || len(reg.Errors) != 1 || reg.Errors[0].Column != c.column {
			t.Errorf("%q: rows %v, errors %v; want an error in %s", c.row, reg.Rows, reg.Errors, c.column)
		}
	}
}

func TestSplitAddress(t *testing.T) {
	for _, c := range []struct{ in, street, number string }{
		{"Via Gonzaga 12/A", "Via Gonzaga", "12/A"},
		{"Via Gonzaga, 12/A", "Via Gonzaga", "12/A"},
		{"Via Cesare Battisti 7", "Via Cesare Battisti", "7"},
		{"Piazza Mazzini, 1", "Piazza Mazzini", "1"},
		{"Strada Statale 63 km 12", "Strada Statale 63 km 12", ""},
		{"Strada Provinciale 62", "Strada Provinciale 62", ""},
		{"Strada Provinciale 62, 15", "Strada Provinciale 62", "15"},
		{"SP 62 14", "SP 62 14", ""},
		{"Località San Girolamo", "Località San Girolamo", ""},
		{"Località San Girolamo 5", "Località San Girolamo", "5"},
		{"Via XX Settembre", "Via XX Settembre", ""},
		{"Via XX Settembre 20bis", "Via XX Settembre", "20bis"},
		{"Via Provinciale 12", "Via Provinciale", "12"},
		{"P.zza Garibaldi 3", "P.zza Garibaldi", "3"},
		{"Via Roma n. 12", "Via Roma", "12"},
		{"Via Roma, n. 12", "Via Roma", "12"},
		{"Via Roma, snc", "Via Roma", "snc"},
		{"Via Roma, Guastalla", "Via Roma, Guastalla", ""},
		{"Via 1 Maggio", "Via 1 Maggio", ""},
		{"Gonzaga 12", "Gonzaga 12", ""},
		{"Via 12", "Via 12", ""},
		{"Via Roma 12345", "Via Roma 12345", ""},
		{", 12", "", "12"},
	} {
		a := splitAddress(c.in)
		if a.Street != c.street || a.Number != c.number {
			t.Errorf("splitAddress(%q) = %q, %q; want %q, %q", c.in, a.Street, a.Number, c.street, c.number)
		}
		if c.number != "" {
			if b := splitAddress(joinAddress(a)); b != a {
				t.Errorf("%q: written %q, read back %+v", c.in, joinAddress(a), b)
			}
		}
	}
}

func TestPaths(t *testing.T) {
	for _, c := range []struct {
		row, path, column string // column: of the error, "" for none
	}{
		{"/guastalla/2019/PC-2019-0042/;guastalla;2019;PC-2019-0042", "/guastalla/2019/PC-2019-0042", ""},
		{"/guastalla/2019/PC-2019-0042;;;", "/guastalla/2019/PC-2019-0042", ""},
		{";Guastalla;2019;PC-2019-0042", "/guastalla/2019/PC-2019-0042", ""},
		{"/guastalla/Pratiche storiche/1975/12;;;", "/guastalla/Pratiche storiche/1975/12", ""},
		{"/guastalla/2019/PC-1;luzzara;2019;PC-1", "", "percorso"},
		{"/guastalla/../luzzara/PC-1;;;", "", "percorso"},
		{"/guastalla//PC-1;;;", "", "percorso"},
		{"guastalla/2019/PC-1;;;", "", "percorso"},
		{"/guastalla/2019/PC\x01;;;", "", "percorso"},
		{`/guastalla\2019\PC-1;;;`, "", "percorso"},
		{"/guastalla/;;;", "", "percorso"},
		{"/;;;", "", "percorso"},
		{"/correggio/2019/PC-1;;;", "", "percorso"},
		{"/Guastalla/2019/PC-1;;;", "", "percorso"},
		{";guastalla;;PC-1", "", "percorso"},
		{";guastalla;2019;12/2019", "", "numero"},
		{";guastalla;2019;..", "", "numero"},
	} {
		reg := read(t, "percorso;comune;anno;numero\n"+c.row+"\n", opts())
		switch {
		case c.column == "" && (len(reg.Errors) != 0 || len(reg.Rows) != 1 || reg.Rows[0].Dossier.Path != c.path):
			t.Errorf("%q: rows %+v, errors %v; want %s", c.row, reg.Rows, reg.Errors, c.path)
		case c.column != "" && (len(reg.Rows) != 0 || len(reg.Errors) != 1 || reg.Errors[0].Column != c.column):
			t.Errorf("%q: rows %+v, errors %v; want an error in %s", c.row, reg.Rows, reg.Errors, c.column)
		}
	}
}

func TestComuneOption(t *testing.T) {
	text := "percorso;comune\n/luzzara/2019/1;Luzzara\n/guastalla/2019/2;\n/luzzara/2019/3;\n"
	reg := read(t, text, Options{Comuni: comuni(), Comune: "Luzzara"})
	if len(reg.Rows) != 2 || len(reg.Errors) != 1 || reg.Errors[0].Line != 3 || reg.Errors[0].Column != "percorso" {
		t.Errorf("rows %v, errors %v", reg.Rows, reg.Errors)
	}
	if _, err := NewReader(strings.NewReader(text), Options{Comuni: comuni(), Comune: "correggio"}); err == nil {
		t.Error("an import for an unknown Comune is accepted")
	}
}

func TestDuplicates(t *testing.T) {
	text := "percorso;oggetto\n/boretto/2000/1;primo\n/boretto/2000/2;altro\n/boretto/2000/1/;secondo\n"
	reg := read(t, text, opts())
	if len(reg.Rows) != 2 || reg.Rows[0].Dossier.Path != "/boretto/2000/2" || reg.Rows[1].Dossier.Subject != "secondo" || reg.Rows[1].Line != 4 {
		t.Errorf("rows %+v", reg.Rows)
	}
	if len(reg.Warnings) != 1 || reg.Warnings[0].Line != 4 || !strings.Contains(reg.Warnings[0].Message, "line 2") {
		t.Errorf("warnings %v", reg.Warnings)
	}
}

func TestRowsAndLines(t *testing.T) {
	// A quoted cell over two lines, a blank row, a row of empty cells, and
	// a bare quote: the lines reported are the rows' first.
	text := "percorso;note\n/boretto/2000/1;\"riga\nseconda\"\n\n;\n/boretto/2000/2;il \"vecchio\" archivio\n/boretto/2000/3;31/02\n"
	reg := read(t, text, opts())
	var lines []int
	for _, r := range reg.Rows {
		lines = append(lines, r.Line)
	}
	if !reflect.DeepEqual(lines, []int{2, 6, 7}) || reg.Rows[0].Dossier.Notes != "riga\nseconda" || reg.Rows[1].Dossier.Notes != `il "vecchio" archivio` {
		t.Errorf("rows %+v, errors %v", reg.Rows, reg.Errors)
	}
}

func TestMaxRows(t *testing.T) {
	text := "percorso\n/boretto/2000/1\n/boretto/2000/2\n/boretto/2000/3\n"
	if _, err := Read(strings.NewReader(text), Options{MaxRows: 2}); !errors.Is(err, ErrTooManyRows) {
		t.Errorf("3 rows of at most 2: %v", err)
	}
	if reg, err := Read(strings.NewReader(text), Options{MaxRows: 3}); err != nil || len(reg.Rows) != 3 {
		t.Errorf("3 rows of at most 3: %v", err)
	}
}

func TestStreaming(t *testing.T) {
	// Next returns each row as it is read, without reading the rest.
	pr, pw := io.Pipe()
	go func() {
		pw.Write([]byte("percorso;oggetto\n/boretto/2000/1;primo\n"))
	}()
	rd, err := NewReader(pr, opts())
	if err != nil {
		t.Fatal(err)
	}
	row, err := rd.Next()
	if err != nil || row.Dossier.Subject != "primo" {
		t.Fatalf("Next = %+v, %v", row, err)
	}
	pw.Close()
	if _, err := rd.Next(); err != io.EOF {
		t.Errorf("Next at the end: %v", err)
	}
}

func TestLateWindows1252(t *testing.T) {
	// Past the first 64 KiB, a Windows-1252 "è" is still read as one.
	var b bytes.Buffer
	b.WriteString("percorso;oggetto\n")
	for i := 0; b.Len() < 70<<10; i++ {
		fmt.Fprintf(&b, "/boretto/2000/%d;Tettoia\n", i)
	}
	b.WriteString("/boretto/2001/1;Caff\xe8\n")
	reg := read(t, b.String(), opts())
	last := reg.Rows[len(reg.Rows)-1].Dossier
	if last.Subject != "Caffè" || len(reg.Errors) != 0 {
		t.Errorf("last %+v, errors %v", last, reg.Errors)
	}
}
