package extract

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// FuzzText feeds any bytes to the formats read in process (text, HTML,
// XML, JSON, emails, office zips, p7m envelopes, and sniffing): no panic, and any
// text is valid UTF-8 in NFC, within MaxText, with whitespace collapsed.
// pdftotext is not needed: the Extractor is built by hand with a missing
// one, which only envelopes holding a PDF reach, and fail on.
func FuzzText(f *testing.F) {
	names := []string{"a.txt", "a.html", "a.xml", "a.json", "a.docx", "a.odt", "a.xlsx", "a.pptx", "a.eml", "a.p7m", "a"}
	seeds := []string{
		"perch\xe9 citt\xe0",
		"<html><script>x</script><p>Via Caff&egrave;</p><td>a</td><td>b</td>",
		`<?xml version="1.0" encoding="ISO-8859-1"?><a b="c">uno<![CDATA[due]]></a>`,
		`{"a":["b",1,{"c":null}]}`,
		"\xff\xfeP\x00",
		"ﬁne\u00ad \t\n\n riga",
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Add(uint8(4), zipOf(f, [2]string{"word/document.xml", docxXML}))
	f.Add(uint8(5), zipOf(f, [2]string{"content.xml", odtXML}))
	f.Add(uint8(9), derP7M(f, []byte("perché")))
	f.Add(uint8(9), berP7M(f, []byte("<p>perché</p>"), 3))
	f.Add(uint8(8), []byte(pecOf()))
	x := &Extractor{maxInput: 1 << 20, maxText: 256, timeout: time.Second, pdftotext: "/nonexistent/pdftotext"}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		name := names[int(kind)%len(names)]
		s, err := x.Text(context.Background(), name, bytes.NewReader(data))
		if err != nil {
			if s != "" {
				t.Fatalf("text %q with error %v", s, err)
			}
			return
		}
		switch {
		case s == "":
			t.Fatal("empty text without ErrNoText")
		case !utf8.ValidString(s):
			t.Fatalf("invalid UTF-8: %q", s)
		case !norm.NFC.IsNormalString(s):
			t.Fatalf("not NFC: %q", s)
		case len(s) > x.maxText:
			t.Fatalf("%d bytes, MaxText %d", len(s), x.maxText)
		case strings.TrimSpace(s) != s:
			t.Fatalf("surrounding whitespace: %q", s)
		case strings.Contains(s, "  "), strings.Contains(s, "\n\n"), strings.Contains(s, " \n"), strings.Contains(s, "\n "):
			t.Fatalf("whitespace not collapsed: %q", s)
		}
	})
}
