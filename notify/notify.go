// Package notify composes the service's e-mails, in Italian, and sends
// them through an SMTP server: the message to a technician granted a
// dossier, the warning before a grant ends, and the managers' daily
// summary of refused requests. It decides neither when nor to whom: its
// callers do (gateway/notices), and declare the sender they need.
package notify

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxAddress bounds an e-mail address, in bytes: RFC 5321's 256 of a path
// less its angle brackets.
const MaxAddress = 254

// ErrBadAddress: not an e-mail address this service sends to.
var ErrBadAddress = errors.New("not an e-mail address")

// Address reads an e-mail address as a person typed it, or a provider gave
// it: trimmed, one address (a display name, "Mario Rossi <m@x.it>", is
// dropped), at most MaxAddress bytes, with a local part and a domain. The
// address is personal data: errors do not repeat it.
func Address(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 2*MaxAddress || !utf8.ValidString(s) {
		return "", ErrBadAddress
	}
	a, err := mail.ParseAddress(s)
	if err != nil || len(a.Address) > MaxAddress {
		return "", ErrBadAddress
	}
	local, domain, ok := strings.Cut(a.Address, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(a.Address, "\r\n\x00") {
		return "", ErrBadAddress
	}
	return a.Address, nil
}

// Mask writes an address for a log: its first character and its domain,
// "m…@example.it", enough to tell two people's apart, not to write to
// either.
func Mask(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return "…"
	}
	r, _ := utf8.DecodeRuneInString(local)
	if r == utf8.RuneError {
		return "…@" + domain
	}
	return string(r) + "…@" + domain
}

// addressRE finds what looks like an address in an SMTP server's answer,
// which often repeats the recipient's.
var addressRE = regexp.MustCompile(`[^\s<>"'(),;:\[\]]+@[^\s<>"'(),;:\[\]]+`)

// maskAddresses masks every address in s.
func maskAddresses(s string) string {
	return addressRE.ReplaceAllStringFunc(s, Mask)
}

// SendError is a sending that failed: at which step of the SMTP dialogue,
// the server's code when it answered (0 when it did not: a network
// failure, a timeout), and whether trying again may succeed. Its text has
// the addresses masked.
type SendError struct {
	Step      string // "connect", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA"…
	Code      int
	Permanent bool
	Err       error
}

func (e *SendError) Error() string {
	msg := maskAddresses(e.Err.Error())
	if e.Code != 0 {
		return fmt.Sprintf("smtp %s: server answered %d: %s", e.Step, e.Code, msg)
	}
	return fmt.Sprintf("smtp %s: %s", e.Step, msg)
}

func (e *SendError) Unwrap() error { return e.Err }
