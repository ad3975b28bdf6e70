// Package demo seeds a sample archive for the embedded demo: for each Comune
// a few year folders with dossiers holding small but real files of the kinds
// the archive keeps (PDF, a CAdES .p7m envelope, a DXF drawing, a photo).
package demo

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/catalogue"
	"github.com/bassareggiana/faldone/state"
)

// dossiers are the sample dossiers created in every Comune: year and name.
var dossiers = [][2]string{
	{"2019", "PC-2019-0042"}, {"2019", "SCIA-2019-0107"},
	{"2023", "CILA-2023-0215"}, {"2023", "PC-2023-0031"},
	{"2024", "AGIB-2024-0009"},
}

// Comune is a Comune of the demo: its id, the folder of its archive, and
// the name its documents give it.
type Comune struct{ ID, Name string }

// Seed fills root/<comune>/… with the sample archive for each Comune that has
// no files yet, so that a demo restarted over the same folder keeps what
// people stored in it. It returns the records of the dossiers it made, for
// the catalogue.
func Seed(root string, comuni []Comune) ([]state.Dossier, error) {
	return SeedSigned(root, comuni, nil)
}

// SeedSigned is Seed with the .p7m files signed by s; nil leaves them
// envelopes without a signer.
func SeedSigned(root string, comuni []Comune, s *Signer) ([]state.Dossier, error) {
	photo, err := samplePhoto()
	if err != nil {
		return nil, err
	}
	var made []state.Dossier
	// What the sample dossiers are about, for their catalogue records.
	sampleSubjects := []string{"Ampliamento di fabbricato residenziale", "Manutenzione straordinaria della copertura", "Nuova autorimessa pertinenziale", "Ristrutturazione con cambio d'uso", "Agibilità dell'edificio"}
	sampleApplicants := []string{"Nicolò Caffè", "Maria Rossi", "Giuseppe Bianchi", "Anna Ferrari", "Luca Colombo"}
	sampleStreets := []string{"Via Gonzaga", "Piazza Mazzini", "Via XX Settembre", "Via Cesare Battisti", "Via Po"}
	for _, cm := range comuni {
		c := cm.ID
		name := cm.Name
		if name == "" {
			name = c
		}
		dir := filepath.Join(root, c)
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
			continue
		}
		for i, d := range dossiers {
			ddir := filepath.Join(dir, d[0], d[1])
			if err := os.MkdirAll(ddir, 0o750); err != nil {
				return nil, err
			}
			// What its name tells, and what a Comune's register would say.
			rec := catalogue.FromName("/"+c+"/"+d[0]+"/"+d[1], catalogue.DefaultTypes())
			rec.Subject = sampleSubjects[i%len(sampleSubjects)]
			rec.Applicants = []state.Applicant{{Name: sampleApplicants[i%len(sampleApplicants)]}}
			rec.Addresses = []state.Address{{Street: sampleStreets[i%len(sampleStreets)], Number: fmt.Sprint(3 + 7*i)}}
			rec.Parcels = []state.Parcel{{Register: "F", Sheet: fmt.Sprint(10 + i), Number: fmt.Sprint(120 + 13*i)}}
			rec.UpdatedBy = "demo"
			made = append(made, rec)
			title := fmt.Sprintf("Comune di %s - pratica %s", name, d[1])
			signed := samplePDF(title + " - domanda firmata")
			p7m := sampleP7M(signed)
			if s != nil {
				if p7m, err = s.Sign(signed, time.Now()); err != nil {
					return nil, err
				}
			}
			files := map[string][]byte{
				"domanda.pdf":             samplePDF(title + " - domanda"),
				"domanda.pdf.p7m":         p7m,
				"relazione-tecnica.pdf":   samplePDF(title + " - relazione tecnica"),
				"tavola-01-pianta.dxf":    sampleDXF(d[1]),
				"foto-sopralluogo-01.jpg": photo,
			}
			for name, content := range files {
				if err := os.WriteFile(filepath.Join(ddir, name), content, 0o640); err != nil {
					return nil, err
				}
			}
		}
	}
	return made, nil
}

// samplePDF returns a one-page PDF that shows text; the cross-reference
// table carries the real byte offsets, so strict readers open it too.
func samplePDF(text string) []byte {
	stream := fmt.Sprintf("BT /F1 14 Tf 50 780 Td (%s) Tj ET", pdfString(text))
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(stream), stream),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// pdfString is text as the inside of a PDF literal string in the font's
// WinAnsi encoding: its parentheses and backslashes escaped, the accented
// letters of Italian names (Latin-1) as their one byte, anything else as
// a question mark.
func pdfString(text string) string {
	var b strings.Builder
	for _, r := range text {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r >= 0xa0 && r <= 0xff:
			fmt.Fprintf(&b, "\\%03o", r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// sampleP7M wraps content in a CMS SignedData envelope (RFC 5652) with the
// content attached and, this being a demo, no signer.
func sampleP7M(content []byte) []byte {
	type algorithm struct {
		Algorithm asn1.ObjectIdentifier
	}
	type encapsulated struct {
		ContentType asn1.ObjectIdentifier
		Content     []byte `asn1:"explicit,tag:0"`
	}
	type signedData struct {
		Version          int
		DigestAlgorithms []algorithm `asn1:"set"`
		EncapContentInfo encapsulated
		SignerInfos      []asn1.RawValue `asn1:"set"`
	}
	type contentInfo struct {
		ContentType asn1.ObjectIdentifier
		Content     signedData `asn1:"explicit,tag:0"`
	}
	ci := contentInfo{
		ContentType: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2},
		Content: signedData{
			Version:          1,
			DigestAlgorithms: []algorithm{{Algorithm: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}}},
			EncapContentInfo: encapsulated{ContentType: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}, Content: content},
			SignerInfos:      []asn1.RawValue{},
		},
	}
	der, err := asn1.Marshal(ci)
	if err != nil {
		panic(err) // the structure is fixed: a failure is a programming error
	}
	return der
}

// sampleDXF returns an ASCII DXF drawing: a room outline with a label.
func sampleDXF(label string) []byte {
	var b bytes.Buffer
	b.WriteString("0\nSECTION\n2\nENTITIES\n")
	pts := [][2]float64{{0, 0}, {10, 0}, {10, 6}, {0, 6}, {0, 0}}
	for i := 0; i+1 < len(pts); i++ {
		fmt.Fprintf(&b, "0\nLINE\n8\nMURI\n10\n%g\n20\n%g\n30\n0\n11\n%g\n21\n%g\n31\n0\n", pts[i][0], pts[i][1], pts[i+1][0], pts[i+1][1])
	}
	fmt.Fprintf(&b, "0\nTEXT\n8\nTESTI\n10\n1\n20\n3\n30\n0\n40\n0.5\n1\nPianta piano terra - %s\n", label)
	b.WriteString("0\nENDSEC\n0\nEOF\n")
	return b.Bytes()
}

// samplePhoto returns a small JPEG.
func samplePhoto() ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, 160, 120))
	for y := 0; y < 120; y++ {
		for x := 0; x < 160; x++ {
			img.Set(x, y, color.RGBA{R: uint8(120 + x/2), G: uint8(140 + y/2), B: 200, A: 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
