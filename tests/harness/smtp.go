package harness

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SMTPConfig configures the test SMTP server (tests/smtpserver, npm
// smtp-server).
type SMTPConfig struct {
	// TLS is "none" (the default), "starttls" (offered, and required
	// before AUTH and MAIL) or "tls" (implicit); the last two need
	// CertFile and KeyFile, a PEM pair for 127.0.0.1.
	TLS               string
	CertFile, KeyFile string
	// User and Pass, when set, are the only credentials AUTH accepts, and
	// AUTH is required.
	User, Pass string
	// Reject is a JavaScript regular expression: recipients it matches
	// are refused with 550.
	Reject string
}

// SMTPServer is a running test SMTP server.
type SMTPServer struct {
	Host string // 127.0.0.1
	Port int
	Dir  string // where it writes each message it accepts

	cmd   *exec.Cmd
	stdin io.WriteCloser
	log   *SyncBuffer
	done  chan struct{}
}

// Mail is a message the server accepted, as it arrived and as a mail
// reader shows it.
type Mail struct {
	Name    string // the file's name, in the order of arrival
	From    string // the envelope's sender
	To      []string
	User    string // who authenticated; "" for nobody
	Secure  bool   // it came over TLS
	Header  mail.Header
	Subject string // decoded (RFC 2047)
	Body    string // decoded (quoted-printable), lines ending in "\n"
	Raw     string
}

var smtpReadyRE = regexp.MustCompile(`^smtp-server listening on 127\.0\.0\.1:(\d+)$`)

// StartSMTP starts the test SMTP server on a free loopback port and stops
// it when the test ends. It installs the server's npm packages first when
// they are missing or do not match package-lock.json.
func StartSMTP(t testing.TB, cfg SMTPConfig) *SMTPServer {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("smtp: node is needed to run the test SMTP server: %v", err)
	}
	if err := NpmCI(smtpDir()); err != nil {
		t.Fatal(err)
	}
	// Read here so that go test's cache sees a change to the server.
	if _, err := os.ReadFile(filepath.Join(smtpDir(), "server.mjs")); err != nil {
		t.Fatalf("smtp: %v", err)
	}
	s := &SMTPServer{Host: "127.0.0.1", Dir: t.TempDir(), log: &SyncBuffer{}, done: make(chan struct{})}
	args := []string{"server.mjs", "--dir", s.Dir, "--port", "0", "--watch-stdin", "--tls", cmpOr(cfg.TLS, "none")}
	if cfg.CertFile != "" {
		args = append(args, "--cert", cfg.CertFile, "--key", cfg.KeyFile)
	}
	if cfg.User != "" {
		args = append(args, "--user", cfg.User, "--pass", cfg.Pass)
	}
	if cfg.Reject != "" {
		args = append(args, "--reject", cfg.Reject)
	}
	cmd := exec.Command(node, args...)
	cmd.Dir = smtpDir()
	cmd.Stderr = s.log
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("smtp: start node: %v", err)
	}
	s.cmd = cmd
	ready := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if m := smtpReadyRE.FindStringSubmatch(line); m != nil {
				port, _ := strconv.Atoi(m[1])
				select {
				case ready <- port:
				default:
				}
				continue
			}
			s.log.Write([]byte("stdout: " + line + "\n"))
		}
	}()
	go func() {
		cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(s.Stop)
	select {
	case s.Port = <-ready:
	case <-s.done:
		t.Fatalf("smtp: the server exited before listening (%v):\n%s", cmd.ProcessState, s.Log())
	case <-time.After(30 * time.Second):
		t.Fatalf("smtp: the server did not start listening in 30 s:\n%s", s.Log())
	}
	return s
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Stop ends the server and waits for it.
func (s *SMTPServer) Stop() {
	if s.cmd == nil {
		return
	}
	s.stdin.Close()
	StopProcess(s.cmd.Process, s.done, 10*time.Second)
	s.cmd = nil
}

// Log returns what the server wrote so far: a line per message received,
// and its errors.
func (s *SMTPServer) Log() string { return s.log.String() }

// Messages returns the messages accepted so far, in the order they
// arrived.
func (s *SMTPServer) Messages(t testing.TB) []Mail {
	t.Helper()
	entries, err := os.ReadDir(s.Dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".eml"); ok && !strings.HasPrefix(n, ".") {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out []Mail
	for _, n := range names {
		m, err := readMail(s.Dir, n)
		if err != nil {
			t.Fatalf("smtp: message %s: %v", n, err)
		}
		out = append(out, m)
	}
	return out
}

// WaitFor waits up to d for a message that ok accepts and returns it; it
// fails the test, listing what arrived, if none comes.
func (s *SMTPServer) WaitFor(t testing.TB, d time.Duration, what string, ok func(Mail) bool) Mail {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		for _, m := range s.Messages(t) {
			if ok(m) {
				return m
			}
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, m := range s.Messages(t) {
				fmt.Fprintf(&b, "\t%s to %v: %q\n", m.Name, m.To, m.Subject)
			}
			t.Fatalf("smtp: no message %s in %v; arrived:\n%s\nserver log:\n%s", what, d, b.String(), s.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// readMail reads the message name of dir and its envelope.
func readMail(dir, name string) (Mail, error) {
	m := Mail{Name: name}
	env, err := os.ReadFile(filepath.Join(dir, name+".json"))
	if err != nil {
		return m, err
	}
	var e struct {
		From   string   `json:"from"`
		To     []string `json:"to"`
		User   string   `json:"user"`
		Secure bool     `json:"secure"`
	}
	if err := json.Unmarshal(env, &e); err != nil {
		return m, err
	}
	m.From, m.To, m.User, m.Secure = e.From, e.To, e.User, e.Secure
	raw, err := os.ReadFile(filepath.Join(dir, name+".eml"))
	if err != nil {
		return m, err
	}
	m.Raw = string(raw)
	msg, err := mail.ReadMessage(strings.NewReader(m.Raw))
	if err != nil {
		return m, err
	}
	m.Header = msg.Header
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return m, err
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return m, err
	}
	m.Body = strings.ReplaceAll(string(b), "\r\n", "\n")
	return m, nil
}

func smtpDir() string { return filepath.Join(Root(), "tests", "smtpserver") }
