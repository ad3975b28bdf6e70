package notify

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// Message is one e-mail: plain text, UTF-8.
type Message struct {
	To      string // the recipient's address, as Address returns it
	Subject string
	Body    string // lines end with "\n"; written with CRLF
}

// encode writes m as the RFC 5322 message the server receives: From, To,
// a Subject in RFC 2047's encoding when it is not ASCII, Date, a
// Message-ID of its own, Auto-Submitted (RFC 3834: no automatic replies),
// and the body in quoted-printable UTF-8.
func (m Message) encode(from *mail.Address, now time.Time) ([]byte, error) {
	var id [12]byte
	rand.Read(id[:])
	_, domain, _ := strings.Cut(from.Address, "@")
	to := mail.Address{Address: m.To}
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", now.Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domain+">")
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	header("Content-Type", `text/plain; charset="utf-8"`)
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	body := strings.ReplaceAll(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n", "\r\n")
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
