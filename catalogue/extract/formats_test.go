package extract

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// zipOf writes a zip of the given parts, deflated.
func zipOf(t testing.TB, parts ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		w, err := zw.Create(p[0])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, p[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const docxXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:r><w:t>Oggetto: permesso di </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>costruire</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Il tecnico</w:t><w:tab/><w:t>dichiara</w:t><w:br/><w:t>l&apos;agibilità</w:t></w:r></w:p>
<w:p><w:del><w:r><w:delText>testo cancellato</w:delText></w:r></w:del><w:r><w:instrText>PAGE</w:instrText><w:t>Città di Guastalla</w:t></w:r></w:p>
</w:body></w:document>`

const odtXML = `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0">
<office:automatic-styles><style:style style:name="P1"/></office:automatic-styles>
<office:body><office:text>
<text:tracked-changes><text:changed-region><text:deletion><text:p>vecchio testo</text:p></text:deletion></text:changed-region></text:tracked-changes>
<text:h>Relazione paesaggistica</text:h><text:p>Vincolo<text:s/>ai sensi del D.Lgs. 42/2004<text:line-break/>zona <text:span>agricola</text:span> è</text:p>
</office:text></office:body></office:document-content>`

const xlsxStrings = `<?xml version="1.0" encoding="UTF-8"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3">
<si><t>Foglio</t></si><si><r><t>Mappale</t></r><r><t xml:space="preserve"> subalterno</t></r></si><si><t>Proprietà</t><rPh><t>ふりがな</t></rPh></si></sst>`

const pptxSlide = `<?xml version="1.0" encoding="UTF-8"?>
<p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">
<p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>Slide %d: rendering</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`

func TestText(t *testing.T) {
	x := newExtractor(t, Options{})
	cp1252 := func(s string) string {
		b, err := charmap.Windows1252.NewEncoder().String(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	utf16le := "\xff\xfeP\x00e\x00r\x00c\x00h\x00\xe9\x00"
	tests := []struct {
		name, data string
		want       string // the whole text, if set
		has, lacks []string
	}{
		{name: "nota.txt", data: "  Ampliamento \t\t  del\r\n\r\n\r\nfabbricato  ", want: "Ampliamento del\nfabbricato"},
		{name: "windows.txt", data: cp1252("Non è possibile perché la città è lì"), want: "Non è possibile perché la città è lì"},
		{name: "bom.txt", data: "\xef\xbb\xbfperché", want: "perché"},
		{name: "utf16.txt", data: utf16le, want: "Perché"},
		{name: "nfd.txt", data: norm.NFD.String("perché città"), want: "perché città"},
		{name: "broken-utf8.txt", data: "città più perché\xff così", want: "città più perché così"},
		{name: "ligature.txt", data: "ﬁrma del ﬂusso", want: "firma del flusso"},
		{name: "controls.txt", data: "uno\x00due\x1bfine\u00adtre", want: "uno due finetre"},
		{name: "elenco.csv", data: "foglio;mappale;sub\n21;345;2\n", want: "foglio;mappale;sub\n21;345;2"},
		{
			name: "pagina.html",
			data: `<!DOCTYPE html><html><head><title>Albo pretorio</title><style>p { color: red }</style>
<script>var segreto = "non indicizzare";</script></head><body><p>Permesso n&deg; 42 &egrave; <b>rilasciato</b></p>
<table><tr><td>foglio</td><td>21</td></tr></table><noscript>abilita javascript</noscript><!-- commento --><div>Via Caffè</div></body></html>`,
			has:   []string{"Albo pretorio", "Permesso n° 42 è rilasciato", "foglio 21", "Via Caffè"},
			lacks: []string{"color", "segreto", "<", "commento", "javascript"},
		},
		{name: "latin1.htm", data: cp1252("<p>perché</p>"), want: "perché"},
		{
			name: "metadati.xml",
			data: cp1252(`<?xml version="1.0" encoding="ISO-8859-1"?><fascicolo><oggetto>Ristrutturazione</oggetto><comune>Guastalla</comune><note><![CDATA[perché sì]]></note></fascicolo>`),
			want: "Ristrutturazione Guastalla perché sì",
		},
		{name: "broken.xml", data: `<a><b>uno</b><c>due & tre</a>`, has: []string{"uno", "due", "tre"}, lacks: []string{"<"}},
		{name: "dati.json", data: `{"oggetto":"Ampliamento","foglio":21,"richiedenti":["Rossi","Verdi"],"nota":"perch\u00e9"}`, has: []string{"oggetto Ampliamento", "foglio 21", "Rossi Verdi", "perché"}, lacks: []string{"{", `"`}},
		{name: "broken.json", data: `{"oggetto": "Ampliamento"`, has: []string{"Ampliamento"}},
		{
			name: "relazione.docx",
			data: string(zipOf(t, [2]string{"[Content_Types].xml", "<Types/>"}, [2]string{"word/document.xml", docxXML},
				[2]string{"word/footnotes.xml", `<w:footnotes xmlns:w="x"><w:footnote><w:p><w:r><w:t>Nota a piè di pagina</w:t></w:r></w:p></w:footnote></w:footnotes>`})),
			want: "Oggetto: permesso di costruire\nIl tecnico dichiara\nl'agibilità\nCittà di Guastalla\nNota a piè di pagina",
		},
		{
			name: "paesaggistica.odt",
			data: string(zipOf(t, [2]string{"mimetype", "application/vnd.oasis.opendocument.text"}, [2]string{"content.xml", odtXML})),
			want: "Relazione paesaggistica\nVincolo ai sensi del D.Lgs. 42/2004\nzona agricola è",
		},
		{
			name: "catasto.xlsx",
			data: string(zipOf(t, [2]string{"xl/workbook.xml", "<workbook/>"}, [2]string{"xl/sharedStrings.xml", xlsxStrings})),
			want: "Foglio\nMappale subalterno\nProprietà",
		},
		{
			name: "catasto.ods",
			data: string(zipOf(t, [2]string{"content.xml", `<office:document-content xmlns:office="o" xmlns:table="t" xmlns:text="x"><office:body><office:spreadsheet><table:table><table:table-row><table:table-cell><text:p>foglio</text:p></table:table-cell><table:table-cell><text:p>21</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>`})),
			want: "foglio\n21",
		},
		{
			name: "presentazione.pptx",
			data: string(zipOf(t, [2]string{"ppt/presentation.xml", "<p/>"},
				[2]string{"ppt/slides/slide10.xml", strings.Replace(pptxSlide, "%d", "10", 1)},
				[2]string{"ppt/slides/slide2.xml", strings.Replace(pptxSlide, "%d", "2", 1)},
				[2]string{"ppt/slides/_rels/slide2.xml.rels", "<Relationships/>"})),
			want: "Slide 2: rendering\nSlide 10: rendering",
		},
		// The first bytes decide for names that do not tell.
		{name: "LEGGIMI", data: "Istruzioni per l'accesso", want: "Istruzioni per l'accesso"},
		{name: "documento.bin", data: string(zipOf(t, [2]string{"word/document.xml", docxXML})), has: []string{"Città di Guastalla"}},
		{name: "pagina.asp", data: "<html><body><p>perché</p></body></html>", want: "perché"},
		{name: "dati.dat", data: `["Guastalla", 2019]`, want: "Guastalla 2019"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := x.Text(context.Background(), tt.name, strings.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if !utf8.ValidString(s) || !norm.NFC.IsNormalString(s) {
				t.Errorf("text is not UTF-8 in NFC: %q", s)
			}
			if tt.want != "" && s != tt.want {
				t.Errorf("text\n%q, want\n%q", s, tt.want)
			}
			for _, w := range tt.has {
				if !strings.Contains(s, w) {
					t.Errorf("text lacks %q: %q", w, s)
				}
			}
			for _, w := range tt.lacks {
				if strings.Contains(s, w) {
					t.Errorf("text has %q: %q", w, s)
				}
			}
		})
	}
}

// failReader fails the test that reads it: formats without text are
// decided by name alone.
type failReader struct{ t *testing.T }

func (r failReader) Read([]byte) (int, error) {
	r.t.Error("read a file the name says has no text")
	return 0, io.ErrUnexpectedEOF
}

func TestErrors(t *testing.T) {
	x := newExtractor(t, Options{MaxInput: 1000})
	big := strings.Repeat("a", 1001)
	tests := []struct {
		name string
		r    func(t *testing.T) io.Reader
		is   error // nil: another error, for a broken file
	}{
		{"pianta.jpg", func(t *testing.T) io.Reader { return failReader{t} }, ErrUnsupported},
		{"TAVOLA.DWG", func(t *testing.T) io.Reader { return failReader{t} }, ErrUnsupported},
		{"allegati.zip", func(t *testing.T) io.Reader { return failReader{t} }, ErrUnsupported},
		{"firma.p7s", func(t *testing.T) io.Reader { return failReader{t} }, ErrUnsupported},
		{"foto", func(*testing.T) io.Reader { return strings.NewReader("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") }, ErrUnsupported},
		{"archivio", func(t *testing.T) io.Reader { return bytes.NewReader(zipOf(t, [2]string{"a.txt", "x"})) }, ErrUnsupported},
		{"vecchio", func(*testing.T) io.Reader {
			return strings.NewReader("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + strings.Repeat("\x00", 100))
		}, ErrUnsupported},
		{"grande.txt", func(*testing.T) io.Reader { return strings.NewReader(big) }, ErrTooLarge},
		{"grande.pdf", func(*testing.T) io.Reader { return strings.NewReader(big) }, ErrTooLarge},
		{"vuoto.txt", func(*testing.T) io.Reader { return strings.NewReader("") }, ErrNoText},
		{"spazi.txt", func(*testing.T) io.Reader { return strings.NewReader(" \n\t ") }, ErrNoText},
		{"vuoto.docx", func(t *testing.T) io.Reader {
			return bytes.NewReader(zipOf(t, [2]string{"word/document.xml", "<w:document><w:body><w:p/></w:body></w:document>"}))
		}, ErrNoText},
		{"rotto.docx", func(*testing.T) io.Reader { return strings.NewReader("PK\x03\x04 not really a zip") }, nil},
		{"senza-documento.docx", func(t *testing.T) io.Reader { return bytes.NewReader(zipOf(t, [2]string{"a.txt", "x"})) }, nil},
		{"rotto.odt", func(t *testing.T) io.Reader {
			return bytes.NewReader(zipOf(t, [2]string{"content.xml", "<office:document-content><office:body><text:p>uno</text:p><<<"}))
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := x.Text(context.Background(), tt.name, tt.r(t))
			if err == nil {
				t.Fatalf("no error; text %q", s)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("error %v, want %v", err, tt.is)
			}
			if tt.is == nil && (errors.Is(err, ErrNoText) || errors.Is(err, ErrUnsupported) || errors.Is(err, ErrTooLarge)) {
				t.Fatalf("error %v: a broken file is neither of the sentinels", err)
			}
			if !strings.Contains(err.Error(), tt.name) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestMaxInputExact(t *testing.T) {
	x := newExtractor(t, Options{MaxInput: 1000})
	s, err := x.Text(context.Background(), "giusto.txt", strings.NewReader(strings.Repeat("a", 1000)))
	if err != nil || len(s) != 1000 {
		t.Fatalf("a file of MaxInput bytes: %d bytes of text, error %v", len(s), err)
	}
}

func TestMaxText(t *testing.T) {
	x := newExtractor(t, Options{MaxText: 10})
	tests := []struct{ data, want string }{
		{"abcdefghijklmno", "abcdefghij"},
		{"èèèèèèèè", "èèèèè"},          // 2 bytes each: 5 fit
		{"aèèèèèèèè", "aèèèè"},         // the sixth è would straddle the limit
		{"abcdefghi jkl", "abcdefghi"}, // no trailing separator
	}
	for _, tt := range tests {
		s, err := x.Text(context.Background(), "t.txt", strings.NewReader(tt.data))
		if err != nil {
			t.Fatal(err)
		}
		if s != tt.want {
			t.Errorf("%q cut to %q, want %q", tt.data, s, tt.want)
		}
	}
}

func TestCancelRead(t *testing.T) {
	x := newExtractor(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := x.Text(ctx, "nota.txt", strings.NewReader("testo")); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// bombDocx returns a docx whose document.xml starts with head and then
// decompresses to about size bytes of filler, then ends with tail. It
// is built deflated by hand so that the test does not hold size bytes.
func bombDocx(t testing.TB, head, filler, tail string, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	w, err := zw.Create("word/document.xml")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, `<w:document xmlns:w="w"><w:body>`+head)
	chunk := strings.Repeat(filler, 64<<10/len(filler))
	for n := 0; n < size; n += len(chunk) {
		if _, err := io.WriteString(w, chunk); err != nil {
			t.Fatal(err)
		}
	}
	io.WriteString(w, tail+`</w:body></w:document>`)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestZipBomb: a docx whose document.xml decompresses to far more than
// MaxInput is read up to MaxInput decompressed bytes, or until the text
// is full, and no further.
func TestZipBomb(t *testing.T) {
	const size = 256 << 20
	tests := []struct {
		name, filler string
		opts         Options
		want         string
	}{
		{"markup without text", "<w:p/>", Options{MaxInput: 8 << 20}, "inizio"},
		{"whitespace", "      \n", Options{MaxInput: 8 << 20}, "inizio"},
		{"text", "<w:p><w:r><w:t>parola</w:t></w:r></w:p>", Options{MaxText: 1000}, "inizio"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := bombDocx(t, "<w:p><w:r><w:t>inizio</w:t></w:r></w:p>", tt.filler, "<w:p><w:r><w:t>FINE</w:t></w:r></w:p>", size)
			if int64(len(doc)) > 4<<20 {
				t.Fatalf("the bomb is %d bytes compressed", len(doc))
			}
			x := newExtractor(t, tt.opts)
			start := time.Now()
			s, err := x.Text(context.Background(), "bomba.docx", bytes.NewReader(doc))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(s, tt.want) || strings.Contains(s, "FINE") {
				t.Errorf("text %.60q… of %d bytes: want the start and not the end", s, len(s))
			}
			if len(s) > x.maxText {
				t.Errorf("text of %d bytes, MaxText %d", len(s), x.maxText)
			}
			// Reading all 256 MiB takes seconds; the limit, a fraction.
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestSupported(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"relazione.pdf", true},
		{"Relazione.PDF", true},
		{"relazione.pdf.p7m", true},
		{"relazione.pdf.p7m.p7m", true},
		{"relazione.docx.P7M", true},
		{"tavola.dwg.p7m", false},
		{"lettera.docx", true},
		{"lettera.odt", true},
		{"computo.xlsx", true},
		{"computo.ods", true},
		{"nota.txt", true},
		{"elenco.csv", true},
		{"pagina.html", true},
		{"metadati.xml", true},
		{"dati.json", true},
		{"pec.eml", true},
		{"outlook.msg", false},
		{"LEGGIMI", true},
		{"foto.jpg", false},
		{"scansione.TIF", false},
		{"tavola.dwg", false},
		{"tavola.dxf", false},
		{"allegati.zip", false},
		{"allegati.7z", false},
		{"lettera.doc", false},
		{"firma.p7s", false},
		{"sconosciuto.xyz", false},
		{".p7m", true},
	}
	for _, tt := range tests {
		if got := Supported(tt.name); got != tt.want {
			t.Errorf("Supported(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
