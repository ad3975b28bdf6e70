package extract

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// decodeText returns the text of a file as UTF-8. Files in the archive are
// UTF-8 or, when written on Windows, Windows-1252; a byte order mark
// tells UTF-16. A file mostly valid as UTF-8 is UTF-8 with a few broken
// bytes (dropped later), not Windows-1252 with mangled accents.
func decodeText(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		return string(data[3:])
	case bytes.HasPrefix(data, []byte("\xff\xfe")), bytes.HasPrefix(data, []byte("\xfe\xff")):
		// The decoder follows the byte order mark.
		s, err := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err == nil {
			return string(s)
		}
	}
	if isUTF8(data) {
		return string(data)
	}
	// Windows-1252 decodes every byte.
	s, _ := charmap.Windows1252.NewDecoder().Bytes(data)
	return string(s)
}

// isUTF8 reports whether data reads as UTF-8: valid, or with more
// valid multi-byte sequences than invalid bytes. Windows-1252 text has
// no valid multi-byte sequences but by chance ("Ã©" is rare in Italian).
func isUTF8(data []byte) bool {
	if utf8.Valid(data) {
		return true
	}
	multi, bad := 0, 0
	for i := 0; i < len(data); {
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			// A file cut in the middle of its last rune is still UTF-8.
			if len(data)-i >= utf8.UTFMax {
				bad++
			}
		} else {
			multi++
		}
		i += n
	}
	return multi > bad
}

// htmlText adds the text of an HTML page: no tags, no scripts or styles,
// the ends of blocks as line breaks and of table cells as spaces. The
// tokenizer accepts any input, so a broken page yields what it can.
func htmlText(s string, t *sink) {
	z := html.NewTokenizer(strings.NewReader(s))
	skip := atom.Atom(0) // the element whose content is not text
	for !t.full() {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return
		case html.TextToken:
			if skip == 0 {
				t.text(string(z.Text()))
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Template, atom.Noscript, atom.Svg, atom.Math:
				if tt == html.StartTagToken && skip == 0 {
					skip = a
				} else if tt == html.EndTagToken && skip == a {
					skip = 0
				}
				continue
			}
			switch a {
			case atom.Td, atom.Th, atom.Img, atom.Input:
				t.space()
			case atom.P, atom.Div, atom.Br, atom.Li, atom.Tr, atom.H1, atom.H2, atom.H3,
				atom.H4, atom.H5, atom.H6, atom.Table, atom.Ul, atom.Ol, atom.Dl, atom.Dt,
				atom.Dd, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Nav,
				atom.Aside, atom.Blockquote, atom.Pre, atom.Hr, atom.Title, atom.Caption,
				atom.Address, atom.Figure, atom.Figcaption, atom.Main, atom.Form:
				t.newline()
			}
		}
	}
}

// xmlText adds the character data of an XML document, each element's
// separated from the next. s is already UTF-8, whatever its declaration
// says. A document that is not well-formed is read as HTML instead, which
// yields its text all the same.
func xmlText(s string, t *sink) {
	d := xml.NewDecoder(strings.NewReader(s))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	mark := len(t.buf)
	for !t.full() {
		tok, err := d.RawToken()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.buf, t.pending = t.buf[:mark], 0
			htmlText(s, t)
			return
		}
		switch tok := tok.(type) {
		case xml.CharData:
			t.text(string(tok))
		case xml.StartElement, xml.EndElement:
			t.space()
		}
	}
}

// jsonText adds the strings, numbers and keys of a JSON document. A
// document that is not valid JSON is taken as plain text.
func jsonText(s string, t *sink) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	mark := len(t.buf)
	for !t.full() {
		tok, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.buf, t.pending = t.buf[:mark], 0
			t.text(s)
			return
		}
		switch tok := tok.(type) {
		case string:
			t.space()
			t.text(tok)
		case json.Number:
			t.space()
			t.text(tok.String())
		}
	}
}
