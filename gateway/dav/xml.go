package dav

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/webdav"
)

const nsDAV = "DAV:"

var (
	errBadXML      = errors.New("malformed XML body")
	errBodyTooLong = errors.New("XML body too large")
)

// readXMLBody reads a request body of at most limit bytes. An empty body
// yields nil.
func readXMLBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, errBodyTooLong
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, errBodyTooLong
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	return b, nil
}

// xmlDoc walks a request body. It checks that the root element is the
// expected one and that the whole document is well formed.
type xmlDoc struct {
	dec *xml.Decoder
}

func newXMLDoc(body []byte) *xmlDoc {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	return &xmlDoc{dec: d}
}

// root returns the root element, which must be DAV:local.
func (d *xmlDoc) root(local string) error {
	for {
		tok, err := d.dec.Token()
		if err != nil {
			return errBadXML
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != nsDAV || t.Name.Local != local {
				return errBadXML
			}
			return checkNS(t)
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return errBadXML
			}
		}
	}
}

// checkNS refuses namespace declarations that XML Namespaces 1.0 forbids
// and Go's decoder lets through: a prefix bound to the empty name.
func checkNS(t xml.StartElement) error {
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" && a.Value == "" {
			return errBadXML
		}
	}
	return nil
}

// next returns the next child start element of the current element, or nil
// at its end. Text between elements is ignored.
func (d *xmlDoc) next() (*xml.StartElement, error) {
	for {
		tok, err := d.dec.Token()
		if err != nil {
			return nil, errBadXML
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := checkNS(t); err != nil {
				return nil, err
			}
			t = t.Copy()
			return &t, nil
		case xml.EndElement:
			return nil, nil
		}
	}
}

// eachDAV calls fn for each child element of the current element that is in
// the DAV: namespace, skipping the others, as RFC 4918 asks of unknown
// elements. fn must consume the element it gets.
func (d *xmlDoc) eachDAV(fn func(el *xml.StartElement) error) error {
	for {
		el, err := d.next()
		if err != nil || el == nil {
			return err
		}
		if el.Name.Space != nsDAV {
			if err := d.skip(); err != nil {
				return err
			}
			continue
		}
		if err := fn(el); err != nil {
			return err
		}
	}
}

// end checks that nothing but whitespace, comments and processing
// instructions follows the root element.
func (d *xmlDoc) end() error {
	for {
		tok, err := d.dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return errBadXML
		}
		switch t := tok.(type) {
		case xml.StartElement, xml.EndElement:
			return errBadXML
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return errBadXML
			}
		}
	}
}

// inner reads the content of the element just started and returns it as a
// self-contained XML fragment: every element carries its namespace
// declaration, so the fragment means the same wherever it is written back.
func (d *xmlDoc) inner() ([]byte, error) {
	var b bytes.Buffer
	depth := 0
	for {
		tok, err := d.dec.Token()
		if err != nil {
			return nil, errBadXML
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := checkNS(t); err != nil {
				return nil, err
			}
			depth++
			writeStart(&b, t)
		case xml.EndElement:
			if depth == 0 {
				return b.Bytes(), nil
			}
			depth--
			b.WriteString("</")
			b.WriteString(t.Name.Local)
			b.WriteByte('>')
		case xml.CharData:
			_ = xml.EscapeText(&b, t)
		}
	}
}

// skip discards the element just started.
func (d *xmlDoc) skip() error {
	if err := d.dec.Skip(); err != nil {
		return errBadXML
	}
	return nil
}

// writeStart writes a start tag with explicit namespace declarations.
func writeStart(b *bytes.Buffer, t xml.StartElement) {
	b.WriteByte('<')
	b.WriteString(t.Name.Local)
	b.WriteString(` xmlns="`)
	_ = xml.EscapeText(b, []byte(t.Name.Space))
	b.WriteByte('"')
	n := 0
	for _, a := range t.Attr {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		b.WriteByte(' ')
		switch a.Name.Space {
		case "":
		case "http://www.w3.org/XML/1998/namespace", "xml":
			b.WriteString("xml:")
		default:
			prefix := "a" + strconv.Itoa(n)
			n++
			b.WriteString("xmlns:" + prefix + `="`)
			_ = xml.EscapeText(b, []byte(a.Name.Space))
			b.WriteString(`" ` + prefix + ":")
		}
		b.WriteString(a.Name.Local)
		b.WriteString(`="`)
		_ = xml.EscapeText(b, []byte(a.Value))
		b.WriteByte('"')
	}
	b.WriteByte('>')
}

// propfind is a parsed PROPFIND body.
type propfind struct {
	allprop  bool
	propname bool
	names    []xml.Name // with prop, or the DAV:include list with allprop
}

func parsePropfind(body []byte) (propfind, error) {
	if body == nil {
		return propfind{allprop: true}, nil
	}
	d := newXMLDoc(body)
	if err := d.root("propfind"); err != nil {
		return propfind{}, err
	}
	var pf propfind
	kinds := 0
	err := d.eachDAV(func(el *xml.StartElement) error {
		switch el.Name.Local {
		case "allprop":
			pf.allprop = true
			kinds++
		case "propname":
			pf.propname = true
			kinds++
		case "prop", "include":
			if el.Name.Local == "prop" {
				kinds++
			}
			names, err := d.names()
			pf.names = append(pf.names, names...)
			return err
		}
		return d.skip()
	})
	if err != nil {
		return propfind{}, err
	}
	if kinds != 1 {
		return propfind{}, errBadXML
	}
	return pf, d.end()
}

// names reads the names of the child elements of the current element.
func (d *xmlDoc) names() ([]xml.Name, error) {
	var out []xml.Name
	for {
		el, err := d.next()
		if err != nil {
			return nil, err
		}
		if el == nil {
			return out, nil
		}
		out = append(out, el.Name)
		if err := d.skip(); err != nil {
			return nil, err
		}
	}
}

// parseProppatch parses a PROPPATCH body into its set and remove
// instructions, in document order.
func parseProppatch(body []byte) ([]webdav.Proppatch, error) {
	if body == nil {
		return nil, errBadXML
	}
	d := newXMLDoc(body)
	if err := d.root("propertyupdate"); err != nil {
		return nil, err
	}
	var patches []webdav.Proppatch
	err := d.eachDAV(func(el *xml.StartElement) error {
		if el.Name.Local != "set" && el.Name.Local != "remove" {
			return d.skip()
		}
		patch := webdav.Proppatch{Remove: el.Name.Local == "remove"}
		err := d.eachDAV(func(pel *xml.StartElement) error {
			if pel.Name.Local != "prop" {
				return d.skip()
			}
			for {
				prop, err := d.next()
				if err != nil || prop == nil {
					return err
				}
				p := webdav.Property{XMLName: prop.Name}
				for _, a := range prop.Attr {
					if a.Name.Local == "lang" && (a.Name.Space == "xml" || a.Name.Space == "http://www.w3.org/XML/1998/namespace") {
						p.Lang = a.Value
					}
				}
				if p.InnerXML, err = d.inner(); err != nil {
					return err
				}
				patch.Props = append(patch.Props, p)
			}
		})
		if err != nil {
			return err
		}
		if len(patch.Props) == 0 {
			return errBadXML
		}
		patches = append(patches, patch)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(patches) == 0 {
		return nil, errBadXML
	}
	return patches, d.end()
}

// lockInfo is a parsed LOCK body.
type lockInfo struct {
	shared bool
	owner  []byte // self-contained content of DAV:owner
}

func parseLockInfo(body []byte) (lockInfo, error) {
	d := newXMLDoc(body)
	if err := d.root("lockinfo"); err != nil {
		return lockInfo{}, err
	}
	var (
		li              lockInfo
		scope, typeSeen bool
	)
	err := d.eachDAV(func(el *xml.StartElement) error {
		switch el.Name.Local {
		case "lockscope":
			names, err := d.names()
			if err != nil || len(names) != 1 || names[0].Space != nsDAV {
				return errBadXML
			}
			switch names[0].Local {
			case "exclusive":
			case "shared":
				li.shared = true
			default:
				return errBadXML
			}
			scope = true
		case "locktype":
			names, err := d.names()
			if err != nil || len(names) != 1 || names[0] != (xml.Name{Space: nsDAV, Local: "write"}) {
				return errBadXML
			}
			typeSeen = true
		case "owner":
			var err error
			li.owner, err = d.inner()
			return err
		default:
			return d.skip()
		}
		return nil
	})
	if err != nil {
		return lockInfo{}, err
	}
	if !scope || !typeSeen {
		return lockInfo{}, errBadXML
	}
	return li, d.end()
}

// msWriter streams a DAV:multistatus response.
type msWriter struct {
	w       *bufio.Writer
	started bool
	hw      http.ResponseWriter
	// prefixes maps the namespaces declared on the root element, those of
	// the properties a request names, to their prefixes: a listing names
	// them once instead of once per entry.
	prefixes map[string]string
}

// newMSWriter returns a writer that declares the namespaces of names on the
// root element.
func newMSWriter(w http.ResponseWriter, names ...xml.Name) *msWriter {
	m := &msWriter{w: bufio.NewWriterSize(w, 32<<10), hw: w, prefixes: map[string]string{}}
	for _, n := range names {
		if n.Space == nsDAV || n.Space == "" {
			continue
		}
		if _, ok := m.prefixes[n.Space]; ok {
			continue
		}
		// Windows' Win32* properties get the one-letter prefix of Windows'
		// own requests: they come with every file it saved.
		prefix := "Z"
		if n.Space != nsMS {
			prefix = "n" + strconv.Itoa(len(m.prefixes))
		}
		m.prefixes[n.Space] = prefix
	}
	return m
}

func (m *msWriter) start() {
	if m.started {
		return
	}
	m.started = true
	m.hw.Header().Set("Content-Type", "application/xml; charset=utf-8")
	m.hw.WriteHeader(webdav.StatusMulti)
	// DAV: is the default namespace, so that the elements repeated for every
	// entry carry no prefix (Windows refuses listings above 1,000,000 bytes);
	// D is declared too, for the fragments that use it.
	m.w.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" + `<multistatus xmlns="DAV:" xmlns:D="DAV:"`)
	for space, prefix := range m.prefixes {
		m.w.WriteString(` xmlns:` + prefix + `="` + xmlAttr(space) + `"`)
	}
	m.w.WriteString(">")
}

// propResponse writes one response element with its propstats.
func (m *msWriter) propResponse(href string, pss []webdav.Propstat) {
	m.start()
	m.w.WriteString("<response><href>")
	m.w.WriteString(xmlText(href))
	m.w.WriteString("</href>")
	for _, ps := range pss {
		m.w.WriteString("<propstat><prop>")
		for _, p := range ps.Props {
			m.writeProp(p)
		}
		m.w.WriteString("</prop><status>")
		m.w.WriteString(statusLine(ps.Status))
		m.w.WriteString("</status>")
		if ps.XMLError != "" {
			m.w.WriteString("<error>" + ps.XMLError + "</error>")
		}
		m.w.WriteString("</propstat>")
	}
	m.w.WriteString("</response>")
}

// statusResponse writes a response element that carries only a status.
func (m *msWriter) statusResponse(href string, status int, xmlError string) {
	m.start()
	m.w.WriteString("<response><href>")
	m.w.WriteString(xmlText(href))
	m.w.WriteString("</href><status>")
	m.w.WriteString(statusLine(status))
	m.w.WriteString("</status>")
	if xmlError != "" {
		m.w.WriteString("<error>" + xmlError + "</error>")
	}
	m.w.WriteString("</response>")
}

func (m *msWriter) close() error {
	m.start()
	m.w.WriteString("</multistatus>")
	return m.w.Flush()
}

func statusLine(code int) string {
	text := webdav.StatusText(code)
	if text == "" {
		text = http.StatusText(code)
	}
	return "HTTP/1.1 " + strconv.Itoa(code) + " " + text
}

// writeProp writes a property element: DAV: properties in the default
// namespace of the document, others with the prefix declared on the root or
// else with a namespace declaration on the element itself.
func (m *msWriter) writeProp(p webdav.Property) {
	w := m.w
	name := p.XMLName.Local
	switch prefix, ok := m.prefixes[p.XMLName.Space]; {
	case p.XMLName.Space == nsDAV:
		w.WriteString("<" + name)
	case ok:
		name = prefix + ":" + name
		w.WriteString("<" + name)
	default:
		w.WriteString("<" + name + ` xmlns="` + xmlAttr(p.XMLName.Space) + `"`)
	}
	if p.Lang != "" {
		w.WriteString(` xml:lang="` + xmlAttr(p.Lang) + `"`)
	}
	if len(p.InnerXML) == 0 {
		w.WriteString("/>")
		return
	}
	w.WriteString(">")
	w.Write(p.InnerXML)
	w.WriteString("</" + name + ">")
}

// xmlAttr escapes s for an attribute value in double quotes.
func xmlAttr(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// xmlText escapes s as XML character data. Unlike xml.EscapeText it leaves
// quotes alone, which text needs no escape for (an ETag is all quotes), and
// it replaces what XML cannot hold with U+FFFD.
func xmlText(s string) string {
	if plainText(s) {
		return s // the common case: names, dates, ETags
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\r':
			b.WriteString("&#xD;")
		case r == utf8.RuneError, r < 0x20 && r != '\t' && r != '\n', r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plainText reports whether s is printable ASCII with nothing to escape.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '&' || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

// writeXML writes a small XML document with the given status.
func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+body)
}

// davError is a DAV:error body naming a precondition.
func davError(condition string) string {
	return `<D:error xmlns:D="DAV:"><D:` + condition + `/></D:error>`
}
