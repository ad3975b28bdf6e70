package mounts

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/tests/harness"
)

// TestCadaver: a scripted cadaver session over TLS — mkcol, put, ls, get,
// move, propset/propget, lock/unlock, delete — checked on cadaver's output,
// by another client between the commands, and on the bucket at the end.
func TestCadaver(t *testing.T) {
	requireTools(t, false, "cadaver", "script")
	e := startEnv(t)
	local := t.TempDir()
	relazione := []byte("Relazione tecnica — pratica PdC 42/2024, Guastalla.\n")
	files := map[string][]byte{"relazione.txt": relazione, "tavola.dxf": []byte("0\nSECTION\n2\nENTITIES\n0\nENDSEC\n0\nEOF\n")}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(local, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := startCadaver(t, e)
	const dir = "/" + comune + "/cantiere/"

	// Each command with what cadaver must answer, and a look from another
	// client (the harness's) at what the command did on the server.
	steps := []struct {
		cmd    string
		want   []string
		absent []string
		check  func(t *testing.T)
	}{
		{cmd: "mkcol cantiere", want: []string{"Creating `cantiere': succeeded."}},
		{cmd: "cd cantiere"},
		{cmd: "put " + filepath.Join(local, "relazione.txt") + " relazione.txt", want: []string{"succeeded."}},
		{cmd: "put " + filepath.Join(local, "tavola.dxf") + " tavola.dxf", want: []string{"succeeded."}},
		{cmd: "ls", want: []string{"Listing collection `/guastalla/cantiere/': succeeded.", "relazione.txt", fmt.Sprint(len(relazione)), "tavola.dxf"}},
		{cmd: "get relazione.txt " + filepath.Join(local, "copia.txt"), want: []string{"succeeded."},
			check: func(t *testing.T) {
				if got, err := os.ReadFile(filepath.Join(local, "copia.txt")); err != nil || !bytes.Equal(got, relazione) {
					t.Errorf("get: %q, %v; want %q", got, err, relazione)
				}
			}},
		{cmd: "move relazione.txt relazione-finale.txt", want: []string{"Moving `/guastalla/cantiere/relazione.txt' to `/guastalla/cantiere/relazione-finale.txt':  succeeded."}},
		{cmd: "propset relazione-finale.txt protocollo PG-2024-0042", want: []string{"Setting property on `relazione-finale.txt': succeeded."},
			check: func(t *testing.T) {
				// cadaver puts its properties in a namespace of its own.
				body := propfind(t, e, dir+"relazione-finale.txt", `<D:prop><P:protocollo xmlns:P="http://webdav.org/cadaver/custom-properties/"/></D:prop>`)
				if !strings.Contains(body, "PG-2024-0042") {
					t.Errorf("the property cadaver set is not there for another client:\n%s", body)
				}
			}},
		{cmd: "propget relazione-finale.txt protocollo", want: []string{"Value of protocollo is: PG-2024-0042"}},
		{cmd: "lock relazione-finale.txt", want: []string{"Locking `relazione-finale.txt': succeeded."},
			check: func(t *testing.T) {
				if code, body, _ := e.g.Status("DELETE", dir+"relazione-finale.txt", nil, ""); code != 423 {
					t.Errorf("DELETE of the file cadaver locked, without its token: %d, want 423\n%s", code, body)
				}
			}},
		{cmd: "discover relazione-finale.txt", want: []string{"Lock token <", "Scope: exclusive  Type: write", "Depth 0 on `" + e.url + dir + "relazione-finale.txt'"}},
		{cmd: "unlock relazione-finale.txt", want: []string{"Unlocking `relazione-finale.txt': succeeded."},
			check: func(t *testing.T) {
				if body := propfind(t, e, dir+"relazione-finale.txt", `<D:prop><D:lockdiscovery/></D:prop>`); strings.Contains(body, "activelock") {
					t.Errorf("a lock is left after cadaver's unlock:\n%s", body)
				}
			}},
		{cmd: "delete tavola.dxf", want: []string{"Deleting `tavola.dxf': succeeded."}},
		{cmd: "ls", want: []string{"relazione-finale.txt"}, absent: []string{"tavola.dxf", "relazione.txt "}},
	}
	for _, st := range steps {
		out := c.do(st.cmd)
		for _, w := range st.want {
			if !strings.Contains(out, w) {
				t.Errorf("cadaver %q: no %q in\n%s", st.cmd, w, out)
			}
		}
		for _, a := range st.absent {
			if strings.Contains(out, a) {
				t.Errorf("cadaver %q: %q is still there:\n%s", st.cmd, a, out)
			}
		}
		if strings.Contains(out, "failed") {
			t.Errorf("cadaver %q failed:\n%s", st.cmd, out)
		}
		if st.check != nil {
			st.check(t)
		}
	}
	c.quit()
	t.Logf("cadaver session:\n%s", c.out)
	checkStorage(t, e, tree{"cantiere/relazione-finale.txt": relazione})
}

// cadaverSession drives an interactive cadaver: one command at a time,
// reading its answer up to the next prompt.
type cadaverSession struct {
	t     *testing.T
	stdin io.WriteCloser
	out   *harness.SyncBuffer
	mark  int // where the answer to the next command starts in out
	done  chan struct{}
}

// The prompt is the path of the current collection.
var cadaverPrompt = regexp.MustCompile(`(?m)^dav:/[^\n]*> $`)

// startCadaver opens Guastalla in cadaver, with the credentials in the
// ~/.netrc of a home of its own, and accepts the self-signed certificate
// as a person would. cadaver has no option to trust a CA, and it rejects
// an untrusted certificate without asking unless its input is a terminal:
// script(1) gives it one.
func startCadaver(t *testing.T, e *env) *cadaverSession {
	t.Helper()
	home := t.TempDir()
	netrc := fmt.Sprintf("machine 127.0.0.1\nlogin %s\npassword %s\n", e.g.User, e.g.Pass)
	if err := os.WriteFile(filepath.Join(home, ".netrc"), []byte(netrc), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, "script", "--quiet", "--return", "--command", "cadaver "+e.url+"/"+comune+"/", "/dev/null")
	// A dumb terminal keeps readline's escape sequences out of the output.
	cmd.Env = append(os.Environ(), "HOME="+home, "TERM=dumb")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &cadaverSession{t: t, stdin: stdin, out: &harness.SyncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = c.out, c.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("cadaver: %v", err)
	}
	go func() { cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		stdin.Close()
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
		}
		cancel() // kills it if it is still there
		<-c.done
	})

	if !c.waitFor("Do you wish to accept the certificate? (y/n) ") {
		t.Fatalf("cadaver did not ask about the certificate:\n%s", c.out)
	}
	out := c.out.String()
	for _, w := range []string{"Untrusted server certificate presented for `127.0.0.1'", "Issued to: Faldone (self-signed)"} {
		if !strings.Contains(out, w) {
			t.Errorf("cadaver's certificate warning has no %q:\n%s", w, out)
		}
	}
	c.mark = len(out)
	if answer := c.do("y"); strings.Contains(answer, "Could not open") {
		t.Fatalf("cadaver did not connect:\n%s", c.out)
	}
	return c
}

// do sends one command and returns cadaver's answer.
func (c *cadaverSession) do(cmd string) string {
	c.t.Helper()
	if _, err := io.WriteString(c.stdin, cmd+"\n"); err != nil {
		c.t.Fatalf("cadaver %q: %v\n%s", cmd, err, c.out)
	}
	if !c.waitFor("") {
		c.t.Fatalf("cadaver %q: no prompt again within 30s:\n%s", cmd, c.out)
	}
	out := c.out.String()
	answer := out[c.mark:]
	c.mark = len(out)
	return answer
}

// waitFor waits until the output since mark ends with suffix, or with a
// new prompt when suffix is "".
func (c *cadaverSession) waitFor(suffix string) bool {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out := c.out.String()[c.mark:]
		if suffix != "" && strings.HasSuffix(out, suffix) {
			return true
		}
		// A new prompt: the echoed command, its answer, then the prompt.
		if suffix == "" && strings.Contains(out, "\n") && cadaverPrompt.MatchString(out[strings.LastIndex(out, "\n")+1:]) {
			return true
		}
		select {
		case <-c.done:
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	return false
}

// quit ends the session and waits for cadaver to exit.
func (c *cadaverSession) quit() {
	c.t.Helper()
	io.WriteString(c.stdin, "quit\n")
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		c.t.Errorf("cadaver did not exit after quit:\n%s", c.out)
	}
}

// propfind asks the gateway, as another client, for the properties in
// prop of one resource.
func propfind(t *testing.T, e *env, path, prop string) string {
	t.Helper()
	code, body, _ := e.g.Status("PROPFIND", path, map[string]string{"Depth": "0", "Content-Type": "application/xml"},
		`<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:">`+prop+`</D:propfind>`)
	if code != 207 {
		t.Fatalf("PROPFIND %s: %d\n%s", path, code, body)
	}
	return body
}
