package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"time"
)

// The ways to reach the SMTP server.
const (
	// StartTLS: a plain connection (port 587) turned to TLS by STARTTLS
	// before anything else is said; a server that does not offer it is
	// refused, so the message and the password never cross in clear.
	StartTLS = "starttls"
	// ImplicitTLS: TLS from the first byte (port 465, RFC 8314).
	ImplicitTLS = "tls"
	// NoTLS: in clear, for a relay on the same host or network.
	NoTLS = "none"
)

// Options configure an SMTP sender.
type Options struct {
	Host string
	Port int
	TLS  string // StartTLS, ImplicitTLS or NoTLS
	// Username and Password authenticate (AUTH PLAIN, over TLS or to a
	// loopback server only); no Username: no authentication.
	Username, Password string
	From               *mail.Address
	// LocalName is the name given in EHLO; default "localhost".
	LocalName string
	// RootCAs verifies the server's certificate; nil: the system's.
	RootCAs *x509.CertPool
	// Timeout bounds one attempt, from the connection to the end of the
	// message; default 30 seconds.
	Timeout time.Duration
	// Attempts bounds the tries of one message (default 3); a permanent
	// refusal (a 5xx answer) is not tried again. Backoff is the wait
	// before the second try, doubled before each next (default 5
	// seconds).
	Attempts int
	Backoff  time.Duration
	// Now is the clock of the messages' Date; default time.Now.
	Now func() time.Time
}

// SMTP sends messages through one SMTP server. It is safe for concurrent
// use: each message has a connection of its own.
type SMTP struct {
	o Options
}

// NewSMTP checks o and returns its sender.
func NewSMTP(o Options) (*SMTP, error) {
	switch o.TLS {
	case StartTLS, ImplicitTLS, NoTLS:
	default:
		return nil, fmt.Errorf("notify: tls %q: want %s, %s or %s", o.TLS, StartTLS, ImplicitTLS, NoTLS)
	}
	if o.Host == "" || o.Port < 1 || o.Port > 65535 || o.From == nil {
		return nil, errors.New("notify: the host, a port and the sender's address are needed")
	}
	if o.LocalName == "" {
		o.LocalName = "localhost"
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Attempts < 1 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &SMTP{o: o}, nil
}

// Send sends m, trying again after a failure that may pass (a network
// failure, a timeout, a 4xx answer) up to Attempts times, each bounded by
// Timeout and all by ctx. The error is the last attempt's, a *SendError.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if _, err := Address(m.To); err != nil {
		return &SendError{Step: "RCPT", Permanent: true, Err: err}
	}
	msg, err := m.encode(s.o.From, s.o.Now())
	if err != nil {
		return &SendError{Step: "DATA", Permanent: true, Err: err}
	}
	wait := s.o.Backoff
	for attempt := 1; ; attempt++ {
		err := s.once(ctx, m.To, msg)
		var se *SendError
		if err == nil {
			return nil
		}
		if !errors.As(err, &se) {
			se = &SendError{Step: "send", Err: err}
		}
		if se.Permanent || attempt >= s.o.Attempts || ctx.Err() != nil {
			return se
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return se
		case <-t.C:
		}
		wait *= 2
	}
}

// once is one attempt: connect, (STARTTLS,) authenticate, send, quit.
func (s *SMTP) once(ctx context.Context, to string, msg []byte) (err error) {
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	addr := net.JoinHostPort(s.o.Host, strconv.Itoa(s.o.Port))
	tc := &tls.Config{ServerName: s.o.Host, RootCAs: s.o.RootCAs, MinVersion: tls.VersionTLS12}
	var conn net.Conn
	if s.o.TLS == ImplicitTLS {
		conn, err = (&tls.Dialer{Config: tc}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return &SendError{Step: "connect", Err: err}
	}
	// The dialogue has no context of its own: the deadline bounds each
	// read and write, and the end of ctx closes the connection.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, s.o.Host)
	if err != nil {
		conn.Close()
		return stepError("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(s.o.LocalName); err != nil {
		return stepError("EHLO", err)
	}
	if s.o.TLS == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return &SendError{Step: "STARTTLS", Permanent: true, Err: errors.New("the server does not offer STARTTLS")}
		}
		if err := c.StartTLS(tc); err != nil {
			return stepError("STARTTLS", err)
		}
	}
	if s.o.Username != "" {
		// PlainAuth itself refuses to send the password in clear to
		// anything but a loopback server.
		if err := c.Auth(smtp.PlainAuth("", s.o.Username, s.o.Password, s.o.Host)); err != nil {
			return stepError("AUTH", err)
		}
	}
	if err := c.Mail(s.o.From.Address); err != nil {
		return stepError("MAIL", err)
	}
	if err := c.Rcpt(to); err != nil {
		return stepError("RCPT", err)
	}
	w, err := c.Data()
	if err != nil {
		return stepError("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		w.Close()
		return stepError("DATA", err)
	}
	if err := w.Close(); err != nil {
		return stepError("DATA", err)
	}
	// The message is accepted; a failed QUIT changes nothing.
	c.Quit()
	return nil
}

// stepError is err at step: a server's answer keeps its code, and a 5xx
// one is permanent.
func stepError(step string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &SendError{Step: step, Code: te.Code, Permanent: te.Code >= 500, Err: errors.New(te.Msg)}
	}
	return &SendError{Step: step, Err: err}
}
