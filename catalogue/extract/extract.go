// Package extract turns a file's bytes into plain text for the full-text
// catalogue: the words inside a dossier's PDFs, letters and spreadsheets,
// so that a dossier is found by what its documents say.
//
// It knows PDF (through poppler's pdftotext, run as a bounded subprocess),
// PDFs and other documents in CAdES envelopes (.p7m), plain text (UTF-8 or
// Windows-1252), HTML, XML, JSON, emails (.eml, PEC included), Office
// Open XML (.docx, .xlsx, .pptx) and OpenDocument (.odt, .ods, .odp). Everything is bounded: the bytes read,
// the bytes decompressed, the text kept and the time a subprocess runs,
// because the archive holds files uploaded by the public.
//
// The text returned is valid UTF-8 in Unicode NFC, with runs of
// whitespace collapsed to one space, or to one newline when the run held a
// line break.
package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/signature"
)

// The errors callers decide on; Text wraps them with the file's name.
var (
	// ErrUnsupported: a format without text to extract (images, CAD
	// drawings, archives, legacy binary Office files…).
	ErrUnsupported = errors.New("no text extraction for this format")
	// ErrTooLarge: the file is larger than Options.MaxInput.
	ErrTooLarge = errors.New("file too large for text extraction")
	// ErrNoText: a supported format holding no text, such as a scanned PDF
	// without a text layer, an empty file or a detached signature.
	ErrNoText = errors.New("no text in file")
)

// Defaults of Options' zero fields.
const (
	DefaultMaxInput = 64 << 20
	DefaultMaxText  = 1 << 20
	DefaultTimeout  = 30 * time.Second
)

// Options bound the work done for one file. Zero fields take the defaults.
type Options struct {
	// MaxInput is the largest file read, in bytes (default 64 MiB): a
	// larger one is ErrTooLarge. It also bounds the bytes decompressed
	// from the parts of a .docx or .odt, so that a zip bomb costs no more
	// than a large file.
	MaxInput int64
	// MaxText is the text kept, in bytes (default 1 MiB); the rest is cut
	// at a rune boundary, without error.
	MaxText int
	// Timeout bounds each subprocess (pdftotext) run for a file (default
	// 30 s); the process and its children are killed when it expires.
	Timeout time.Duration
	// PDFToText is the path of poppler's pdftotext; "" looks it up in PATH.
	PDFToText string
}

// Extractor extracts text from files. Its zero value is not usable: use
// New. It holds no mutable state, so one Extractor serves concurrent
// calls.
type Extractor struct {
	maxInput  int64
	maxText   int
	timeout   time.Duration
	pdftotext string
}

// New returns an Extractor bounded by opts. It fails when pdftotext cannot
// be found: PDFs are most of the archive, and a catalogue without their
// text had better not start silently.
func New(opts Options) (*Extractor, error) {
	if opts.MaxInput < 0 || opts.MaxText < 0 || opts.Timeout < 0 {
		return nil, errors.New("extract: negative limit in options")
	}
	x := &Extractor{
		maxInput:  opts.MaxInput,
		maxText:   opts.MaxText,
		timeout:   opts.Timeout,
		pdftotext: opts.PDFToText,
	}
	if x.maxInput == 0 {
		x.maxInput = DefaultMaxInput
	}
	if x.maxText == 0 {
		x.maxText = DefaultMaxText
	}
	if x.timeout == 0 {
		x.timeout = DefaultTimeout
	}
	if x.pdftotext == "" {
		x.pdftotext = "pdftotext"
	}
	p, err := exec.LookPath(x.pdftotext)
	if err != nil {
		// LookPath's error names the program as given, not a resolved
		// host path.
		return nil, fmt.Errorf("extract: pdftotext (poppler-utils) is needed for PDFs: %w", err)
	}
	x.pdftotext = p
	return x, nil
}

// A format is the way text is extracted from a file.
type format int

const (
	fmtSniff       format = iota // the first bytes decide
	fmtUnsupported               // no text
	fmtPDF
	fmtP7M
	fmtText
	fmtHTML
	fmtXML
	fmtJSON
	fmtDOCX
	fmtXLSX
	fmtPPTX
	fmtODF
	fmtEML
)

// formatOf returns the format a file's extension tells; an extension not
// listed here leaves the decision to the file's first bytes.
func formatOf(name string) format {
	switch strings.ToLower(path.Ext(name)) {
	case ".pdf":
		return fmtPDF
	case ".p7m":
		return fmtP7M
	case ".txt", ".text", ".csv", ".tsv", ".md", ".markdown", ".log":
		return fmtText
	case ".html", ".htm", ".xhtml":
		return fmtHTML
	case ".xml":
		return fmtXML
	case ".json":
		return fmtJSON
	case ".docx", ".docm", ".dotx":
		return fmtDOCX
	case ".xlsx", ".xlsm":
		return fmtXLSX
	case ".pptx":
		return fmtPPTX
	case ".odt", ".ods", ".odp", ".ott":
		return fmtODF
	case ".eml":
		return fmtEML
	case
		// Images and drawings.
		".jpg", ".jpeg", ".png", ".gif", ".tif", ".tiff", ".bmp", ".webp", ".heic", ".svg",
		".dwg", ".dxf", ".dwf", ".dgn", ".ifc", ".rvt", ".shp", ".shx", ".dbf",
		// Archives and media.
		".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz",
		".mp3", ".mp4", ".mov", ".avi", ".wav", ".exe",
		// Legacy binary Office formats, detached signatures, timestamps.
		".doc", ".xls", ".ppt", ".msg", ".p7s", ".tsd", ".tsr", ".m7m":
		return fmtUnsupported
	}
	return fmtSniff
}

// inner returns the name of the file a .p7m envelope encloses:
// "relazione.pdf.p7m" holds "relazione.pdf".
func inner(name string) string {
	return name[:len(name)-len(path.Ext(name))]
}

// Supported reports whether a file of that name may have text to extract,
// so that callers skip images, drawings and archives without reading them.
// A name without an extension is supported (its first bytes decide); an
// extension this package does not know is not, although Text still tries
// its first bytes.
func Supported(name string) bool {
	for range maxNesting + 1 {
		switch formatOf(name) {
		case fmtUnsupported:
			return false
		case fmtP7M:
			name = inner(name)
			continue
		case fmtSniff:
			return path.Ext(name) == ""
		}
		return true
	}
	return false
}

// maxNesting bounds envelopes inside envelopes: a dossier's document is
// sometimes signed twice (.pdf.p7m.p7m), never ten times.
const maxNesting = 3

// Text extracts the text of a file named name read from r: its extension
// and, when the extension does not tell, its first bytes decide the
// format. The file is held in memory, at most Options.MaxInput bytes.
//
// Errors wrap ErrUnsupported, ErrTooLarge, ErrNoText, the context's error
// (context.DeadlineExceeded also when pdftotext runs out of its time), or
// say why a broken file could not be read. They name the file but no host
// path.
func (x *Extractor) Text(ctx context.Context, name string, r io.Reader) (string, error) {
	f := formatOf(name)
	if f == fmtUnsupported {
		return "", fmt.Errorf("extract %s: %w", name, ErrUnsupported)
	}
	data, err := readAll(ctx, r, x.maxInput)
	if err != nil {
		return "", fmt.Errorf("extract %s: %w", name, err)
	}
	s, err := x.extract(ctx, name, f, data, 0)
	if err != nil {
		return "", fmt.Errorf("extract %s: %w", name, err)
	}
	return s, nil
}

// extract dispatches data to its format's extractor; depth counts the
// envelopes opened.
func (x *Extractor) extract(ctx context.Context, name string, f format, data []byte, depth int) (string, error) {
	switch {
	case f == fmtSniff:
		f = sniff(data)
	case f != fmtP7M && looksP7M(data):
		// A signed file that lost its .p7m ("relazione.pdf" holding an
		// envelope): the envelope's content is then sniffed.
		f = fmtP7M
	}
	t := newSink(x.maxText)
	var err error
	switch f {
	case fmtUnsupported:
		return "", ErrUnsupported
	case fmtP7M:
		if depth >= maxNesting {
			return "", errors.New("p7m: too many nested envelopes")
		}
		content, err := p7mContent(data)
		if err != nil {
			return "", err
		}
		name = signature.DocumentName(name)
		return x.extract(ctx, name, formatOf(name), content, depth+1)
	case fmtPDF:
		err = x.pdf(ctx, data, t)
	case fmtText:
		t.text(decodeText(data))
	case fmtHTML:
		htmlText(decodeText(data), t)
	case fmtXML:
		xmlText(decodeText(data), t)
	case fmtJSON:
		jsonText(decodeText(data), t)
	case fmtEML:
		err = emlText(data, t, 0)
	case fmtDOCX, fmtXLSX, fmtPPTX, fmtODF:
		err = x.office(ctx, f, data, t)
	}
	if err != nil {
		return "", err
	}
	s := t.String()
	if s == "" {
		return "", ErrNoText
	}
	return s, nil
}

// sniff decides a format from the first bytes of a file whose extension
// does not tell.
func sniff(data []byte) format {
	head := data[:min(len(data), 1024)]
	switch {
	case looksP7M(data):
		// Before PDF: an envelope holds the PDF's header in its first bytes.
		return fmtP7M
	case bytes.Contains(head, []byte("%PDF-")):
		// pdftotext, like readers, accepts junk before the header.
		return fmtPDF
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return zipFormat(data)
	case bytes.HasPrefix(data, []byte("\xd0\xcf\x11\xe0")):
		// OLE compound file: legacy .doc/.xls or an encrypted OOXML.
		return fmtUnsupported
	}
	if !looksText(head) {
		return fmtUnsupported
	}
	s := strings.ToLower(strings.TrimLeft(string(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))), " \t\r\n"))
	switch {
	case strings.HasPrefix(s, "<!doctype html"), strings.HasPrefix(s, "<html"):
		return fmtHTML
	case strings.HasPrefix(s, "<"):
		return fmtXML
	case strings.HasPrefix(s, "{"), strings.HasPrefix(s, "["):
		return fmtJSON
	}
	for _, h := range []string{"received:", "return-path:", "delivered-to:", "mime-version:", "message-id:"} {
		if strings.HasPrefix(s, h) {
			return fmtEML
		}
	}
	return fmtText
}

// looksText reports whether the first bytes of a file are text: no NUL and
// few control characters, unless a UTF-16 byte order mark says otherwise.
func looksText(head []byte) bool {
	if bytes.HasPrefix(head, []byte("\xff\xfe")) || bytes.HasPrefix(head, []byte("\xfe\xff")) {
		return true
	}
	ctl := 0
	for _, c := range head {
		switch {
		case c == 0:
			return false
		case c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f':
			ctl++
		}
	}
	return ctl*20 <= len(head)
}

// readAll reads r whole, failing with ErrTooLarge past max bytes and with
// the context's error once it is done.
func readAll(ctx context.Context, r io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(ctxReader{ctx, r}, max+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if int64(len(data)) > max {
		return nil, ErrTooLarge
	}
	return data, nil
}

// ctxReader stops reading once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
