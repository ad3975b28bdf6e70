package extract

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"

	"golang.org/x/text/encoding/charmap"
)

// Emails (.eml) reach a dossier as PEC, the Italian certified mail: the
// provider's envelope, with the original message attached as
// postacert.eml. The text is the headers people search by, and the text
// parts of the message and of the messages it encloses; attachments are
// files of their own.

// maxMIMEDepth bounds the nesting of multiparts and enclosed messages.
const maxMIMEDepth = 8

// emlText adds the text of an email.
func emlText(data []byte, t *sink, depth int) error {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("eml: %w", err)
	}
	for _, k := range []string{"Subject", "From", "To", "Cc", "Date"} {
		if v := msg.Header.Get(k); v != "" {
			t.text(decodeHeader(v))
			t.newline()
		}
	}
	mimeText(textproto.MIMEHeader(msg.Header), msg.Body, t, depth)
	return nil
}

// mimeText adds the text of a MIME part. A broken part is left out, not
// the whole message: what could be read is kept.
func mimeText(h textproto.MIMEHeader, body io.Reader, t *sink, depth int) {
	if depth > maxMIMEDepth || t.full() {
		return
	}
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		ct = "text/plain"
	}
	if d, _, _ := mime.ParseMediaType(h.Get("Content-Disposition")); d == "attachment" && ct != "message/rfc822" {
		return
	}
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, spaceSkipper{body})
	}
	switch {
	case strings.HasPrefix(ct, "multipart/"):
		mr := multipart.NewReader(body, params["boundary"])
		for !t.full() {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			before := len(t.buf)
			mimeText(p.Header, p, t, depth+1)
			// The alternatives say the same thing: the first that has
			// text (plain, usually) is enough.
			if ct == "multipart/alternative" && len(t.buf) > before {
				return
			}
		}
	case ct == "message/rfc822":
		if b, err := io.ReadAll(body); err == nil {
			emlText(b, t, depth+1)
		}
	case ct == "text/plain":
		if b, err := io.ReadAll(body); err == nil {
			t.text(decodeText(b))
			t.newline()
		}
	case ct == "text/html":
		if b, err := io.ReadAll(body); err == nil {
			htmlText(decodeText(b), t)
			t.newline()
		}
	}
}

// decodeHeader decodes the RFC 2047 words of a header ("=?UTF-8?Q?...?="),
// or returns it as it is when they are in a charset this does not know.
func decodeHeader(v string) string {
	d := mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(charset) {
		case "iso-8859-1", "latin1", "windows-1252", "cp1252":
			return charmap.Windows1252.NewDecoder().Reader(r), nil
		case "iso-8859-15", "latin9":
			return charmap.ISO8859_15.NewDecoder().Reader(r), nil
		}
		return nil, fmt.Errorf("charset %q", charset)
	}}
	s, err := d.DecodeHeader(v)
	if err != nil {
		return v
	}
	return s
}

// spaceSkipper drops the spaces and tabs some mailers leave in base64
// bodies: encoding/base64 skips line breaks, not those.
type spaceSkipper struct{ r io.Reader }

func (s spaceSkipper) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	return j, err
}
