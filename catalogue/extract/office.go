package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"
)

// zipFormat tells the office format of a zip file without an extension
// that tells, from its parts: any other zip is an archive, without text.
func zipFormat(data []byte) format {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmtUnsupported
	}
	for _, f := range zr.File {
		switch f.Name {
		case "word/document.xml":
			return fmtDOCX
		case "xl/workbook.xml":
			return fmtXLSX
		case "ppt/presentation.xml":
			return fmtPPTX
		case "content.xml":
			return fmtODF
		}
	}
	return fmtUnsupported
}

// A part's rule for its text: the elements whose character data is text,
// those that end a paragraph, stand for a space or a line break, or whose
// content is skipped (deleted revisions, field codes, phonetic guides).
type partRule struct {
	text      func(local string) bool // nil: all character data is text
	newline   []string
	space     []string
	lineBreak []string
	skip      []string
}

// ruleOf returns the rule of a format's text parts.
func ruleOf(f format) partRule {
	isT := func(l string) bool { return l == "t" }
	switch f {
	case fmtDOCX:
		// WordprocessingML: the runs' w:t. A text box comes twice, as
		// the drawing and as its fallback for old readers.
		return partRule{
			text:      isT,
			newline:   []string{"p"},
			space:     []string{"tab"},
			lineBreak: []string{"br", "cr"},
			skip:      []string{"delText", "instrText", "Fallback"},
		}
	case fmtXLSX:
		// SpreadsheetML's shared strings: each si a cell's text.
		return partRule{text: isT, newline: []string{"si"}, skip: []string{"rPh"}}
	case fmtPPTX:
		// DrawingML's a:t in slides.
		return partRule{text: isT, newline: []string{"p"}, lineBreak: []string{"br"}}
	}
	// OpenDocument's content.xml, all kinds alike.
	return partRule{
		newline:   []string{"p", "h"},
		space:     []string{"s", "tab", "table-cell"},
		lineBreak: []string{"line-break"},
		skip:      []string{"tracked-changes", "automatic-styles", "font-face-decls", "scripts", "forms"},
	}
}

// office adds the text of an Office Open XML or OpenDocument file: the
// XML parts that hold its text, streamed. The bytes decompressed are
// bounded by MaxInput across all parts, and reading stops once the sink is
// full, so that a zip bomb costs no more than a large file: what was read
// by then is the text.
func (x *Extractor) office(ctx context.Context, f format, data []byte, t *sink) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if bytes.HasPrefix(data, []byte("\xd0\xcf\x11\xe0")) {
			// An encrypted OOXML file is an OLE compound file.
			return ErrUnsupported
		}
		return fmt.Errorf("zip: %w", err)
	}
	parts, rule := officeParts(zr, f)
	if len(parts) == 0 {
		return errors.New("zip: no document part")
	}
	budget := &budget{left: x.maxInput}
	for _, p := range parts {
		if t.full() || budget.left <= 0 {
			break
		}
		if err := partText(ctx, p, rule, budget, t); err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		t.newline()
	}
	return nil
}

// officeParts returns the parts of a document that hold its text, in
// reading order, and their rule.
func officeParts(zr *zip.Reader, f format) ([]*zip.File, partRule) {
	byName := make(map[string]*zip.File, len(zr.File))
	for _, zf := range zr.File {
		byName[zf.Name] = zf
	}
	var names []string
	switch f {
	case fmtDOCX:
		names = []string{"word/document.xml", "word/footnotes.xml", "word/endnotes.xml"}
	case fmtXLSX:
		names = []string{"xl/sharedStrings.xml"}
	case fmtPPTX:
		for _, zf := range zr.File {
			if slideNumber(zf.Name) > 0 {
				names = append(names, zf.Name)
			}
		}
		slices.SortFunc(names, func(a, b string) int { return slideNumber(a) - slideNumber(b) })
	case fmtODF:
		names = []string{"content.xml"}
	}
	var parts []*zip.File
	for _, n := range names {
		if zf := byName[n]; zf != nil {
			parts = append(parts, zf)
		}
	}
	return parts, ruleOf(f)
}

// slideNumber returns N of "ppt/slides/slideN.xml", 0 for other names.
func slideNumber(name string) int {
	dir, file := path.Split(name)
	if dir != "ppt/slides/" || !strings.HasPrefix(file, "slide") || !strings.HasSuffix(file, ".xml") {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(file, "slide"), ".xml"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// partText streams the XML of one part into t by rule.
func partText(ctx context.Context, zf *zip.File, rule partRule, b *budget, t *sink) error {
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	d := xml.NewDecoder(ctxReader{ctx, b.reader(rc)})
	d.Strict = false
	text, skip := 0, 0 // depths inside text and skipped elements
	for !t.full() {
		tok, err := d.RawToken()
		switch {
		case err == io.EOF:
			return nil
		case errors.Is(err, errBudget):
			return nil
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			l := tok.Name.Local
			switch {
			case slices.Contains(rule.skip, l):
				skip++
			case skip > 0:
			case rule.text != nil && rule.text(l):
				text++
			case slices.Contains(rule.space, l):
				t.space()
			case slices.Contains(rule.lineBreak, l):
				t.newline()
			}
		case xml.EndElement:
			l := tok.Name.Local
			switch {
			case slices.Contains(rule.skip, l):
				skip = max(skip-1, 0)
			case skip > 0:
			case rule.text != nil && rule.text(l):
				text = max(text-1, 0)
			case slices.Contains(rule.newline, l):
				t.newline()
			case slices.Contains(rule.space, l):
				t.space()
			}
		case xml.CharData:
			if skip == 0 && (rule.text == nil || text > 0) {
				t.text(string(tok))
			}
		}
	}
	return nil
}

// errBudget ends the reading of parts once the bytes decompressed reach
// the budget.
var errBudget = errors.New("decompressed size limit reached")

// budget counts down the bytes decompressed from a document's parts.
type budget struct{ left int64 }

func (b *budget) reader(r io.Reader) io.Reader { return &budgetReader{b, r} }

type budgetReader struct {
	b *budget
	r io.Reader
}

func (r *budgetReader) Read(p []byte) (int, error) {
	if r.b.left <= 0 {
		return 0, errBudget
	}
	if int64(len(p)) > r.b.left {
		p = p[:r.b.left]
	}
	n, err := r.r.Read(p)
	r.b.left -= int64(n)
	return n, err
}
