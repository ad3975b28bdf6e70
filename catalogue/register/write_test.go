package register

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bassareggiana/faldone/catalogue"
	"github.com/bassareggiana/faldone/state"
)

func records() []state.Dossier {
	full := state.Dossier{
		Path: "/guastalla/2019/PC-2019-0042", Comune: "guastalla", Year: 2019, Type: "PdC", Number: "PC-2019-0042",
		Subject:  "Ampliamento; \"casa\" | fienile\nseconda riga",
		Designer: "Geom. Nicolò Caffè",
		Applicants: []state.Applicant{
			{Name: "Rossi Mario", FiscalCode: "RSSMRA80A01E253Z"}, {Name: "Edilizia Po Srl", FiscalCode: "01234567890"}, {Name: "Bianchi Anna"},
		},
		Addresses: []state.Address{
			{Street: "Via XX Settembre", Number: "12/A", Locality: "San Girolamo"},
			{Street: "Strada Statale 63 km 12"},
			{Street: "Strada Provinciale 62", Number: "15"},
		},
		Parcels: []state.Parcel{
			{Register: "F", Sheet: "21", Number: "345", Sub: "3"}, {Register: "F", Sheet: "21", Number: "346"}, {Register: "T", Sheet: "4", Number: "12"},
		},
		Protocol: "12345/2019", ProtocolDate: "2019-03-05", Submitted: "2019-03-04", Issued: "2019-09-30",
		Status: "rilasciato", Notes: "Vedi anche la pratica PC-2015-0003.",
		Identifier: "c_e253-2019-0042", AggregationType: "Fascicolo", DossierKind: "procedimento amministrativo",
		Administration: "Comune di Guastalla", Office: "Sportello Unico Edilizia", Responsible: "Arch. Zanichelli",
		Opened: "2019-03-05", Closed: "2020-01-10",
	}
	return []state.Dossier{
		full,
		{Path: "/reggiolo/Archivio storico/1890/7", Comune: "reggiolo"},
		{Path: "/novellara/2021/CILA-7", Comune: "novellara", Year: 2021, Addresses: []state.Address{{Locality: "Pieve"}}, Applicants: []state.Applicant{{FiscalCode: "BNCANN70A41E253X"}}},
		{Path: "/luzzara/2001/3", Comune: "luzzara", Parcels: []state.Parcel{{Sheet: "2"}, {Number: "5", Sub: "1"}}},
	}
}

func TestRoundTrip(t *testing.T) {
	ds := records()
	var b bytes.Buffer
	if err := Write(&b, slices.Values(ds)); err != nil {
		t.Fatal(err)
	}
	reg, err := Read(bytes.NewReader(b.Bytes()), opts())
	if err != nil {
		t.Fatal(err)
	}
	if len(reg.Errors) != 0 || len(reg.Warnings) != 0 {
		t.Fatalf("errors %v, warnings %v\n%s", reg.Errors, reg.Warnings, b.String())
	}
	var got []state.Dossier
	for _, r := range reg.Rows {
		got = append(got, r.Dossier)
	}
	if !reflect.DeepEqual(got, ds) {
		t.Errorf("read back:\n%+v\nwant\n%+v\nregister:\n%s", got, ds, b.String())
	}
	// And what the 500-row register reads writes and reads back the same.
	for i := 0; i < 500; i++ {
		_, d := row500(i)
		var b bytes.Buffer
		w := NewWriter(&b)
		if err := w.Write(d); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		reg := read(t, b.String(), opts())
		if len(reg.Rows) != 1 || !reflect.DeepEqual(reg.Rows[0].Dossier, d) {
			t.Fatalf("%+v read back as %+v (%v)", d, reg.Rows, reg.Errors)
		}
	}
}

func TestWriteFormat(t *testing.T) {
	var b bytes.Buffer
	d := state.Dossier{Path: "/boretto/2000/1", Comune: "boretto", ProtocolDate: "2000-01-31", Subject: "Caffè",
		Deleted: true, Updated: time.Now(), UpdatedBy: "import"}
	if err := Write(&b, slices.Values([]state.Dossier{d})); err != nil {
		t.Fatal(err)
	}
	want := "\ufeff" + strings.Join(DefaultColumns(), ";") + "\r\n" +
		"/boretto/2000/1;boretto;;;;Caffè;;;;;;;;;;;31/01/2000;;;;;;;;;;;;\r\n"
	if b.String() != want {
		t.Errorf("wrote\n%q\nwant\n%q", b.String(), want)
	}

	b.Reset()
	if err := Write(&b, slices.Values([]state.Dossier(nil))); err != nil || b.String() != "\ufeff"+strings.Join(DefaultColumns(), ";")+"\r\n" {
		t.Errorf("no records: %q, %v", b.String(), err)
	}
}

func TestWriteRefusesPipes(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	bad := state.Dossier{Path: "/boretto/2000/1", Applicants: []state.Applicant{{Name: "Rossi | Bianchi"}}}
	if err := w.Write(bad); !errors.Is(err, ErrNotWritable) {
		t.Errorf("Write(%+v) = %v", bad, err)
	}
	if err := w.Write(state.Dossier{Path: "/boretto/2000/2"}); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	reg := read(t, b.String(), opts())
	if len(reg.Rows) != 1 || reg.Rows[0].Dossier.Path != "/boretto/2000/2" {
		t.Errorf("after a refused record: %+v", reg.Rows)
	}
}

func FuzzRead(f *testing.F) {
	var b bytes.Buffer
	Write(&b, slices.Values(records()))
	f.Add(b.Bytes())
	f.Add([]byte(header500 + "\n" + strings.SplitN(func() string { s, _ := row500(3); return s }(), "\n", 2)[0] + "\n"))
	f.Add([]byte("percorso,comune\n/guastalla/2019/1,\"Gua\"stalla\"\n\"\n"))
	f.Add([]byte("comune\tanno\tnumero\nguastalla\t2019\tX\xe8\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		reg, err := Read(bytes.NewReader(in), Options{Comuni: comuni(), MaxRows: 1000})
		if err != nil {
			return
		}
		for _, r := range reg.Rows {
			d := r.Dossier
			if errs := catalogue.Validate(d); len(errs) != 0 {
				t.Fatalf("line %d: %+v is not valid: %v", r.Line, d, errs)
			}
			if !strings.HasPrefix(d.Path, "/"+d.Comune+"/") || comuni()[d.Comune] != d.Comune {
				t.Fatalf("line %d: %q is not in the Comune %q", r.Line, d.Path, d.Comune)
			}
			for _, s := range []string{d.Path, d.Subject, d.Notes, d.Number} {
				if !utf8.ValidString(s) {
					t.Fatalf("line %d: %q is not UTF-8", r.Line, s)
				}
			}
		}
	})
}

func BenchmarkRead(b *testing.B) {
	const n = 200_000
	var buf bytes.Buffer
	buf.WriteString(header500 + "\r\n")
	for i := 0; i < n; i++ {
		s, _ := row500(i)
		buf.WriteString(s + "\r\n")
	}
	in := buf.Bytes()
	b.SetBytes(int64(len(in)))
	b.ResetTimer()
	for b.Loop() {
		rd, err := NewReader(bytes.NewReader(in), Options{Comuni: comuni()})
		if err != nil {
			b.Fatal(err)
		}
		rows := 0
		for {
			_, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows++
		}
		if rows != n || len(rd.Errors()) != 0 {
			b.Fatalf("%d rows, errors %v", rows, rd.Errors()[:min(3, len(rd.Errors()))])
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestWriteGuardsFormulas: a value a spreadsheet would run as a formula is
// written as text, and reads back as it was.
func TestWriteGuardsFormulas(t *testing.T) {
	for _, v := range []string{"=HYPERLINK(\"http://x\")", "+39 0522", "-demolizione", "@SUM(A1)", "'=già quotato", "'semplice", "normale"} {
		d := state.Dossier{Path: "/guastalla/2019/PC-2019-0042", Comune: "guastalla", Subject: v, Notes: v}
		var buf bytes.Buffer
		w := NewWriter(&buf)
		if err := w.Write(d); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		for _, cell := range strings.Split(strings.SplitN(buf.String(), "\r\n", 2)[1], ";") {
			cell = strings.Trim(cell, "\"\r\n")
			if cell != "" && formulaStart(cell[0]) {
				t.Errorf("%q written as %q: a spreadsheet runs it", v, cell)
			}
		}
		reg, err := Read(&buf, Options{})
		if err != nil || len(reg.Rows) != 1 || reg.Rows[0].Dossier.Subject != v || reg.Rows[0].Dossier.Notes != v {
			t.Errorf("%q read back as %+v, %v", v, reg, err)
		}
	}
}
