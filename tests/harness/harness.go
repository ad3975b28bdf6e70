// Package harness starts the real faldone binary, and the real processes it
// talks to, for integration tests.
package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/auth"
)

// Root is the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/faldone once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "faldone-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "faldone")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/faldone")
		cmd.Dir = Root()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Gateway is a running faldone process.
type Gateway struct {
	t       testing.TB
	URL     string // http://127.0.0.1:PORT
	DataDir string
	User    string
	Pass    string
	args    []string
	env     []string // extra environment, KEY=VALUE
	cmd     *exec.Cmd
	client  *http.Client // set by StartServeTLS: HTTPS; nil: plain HTTP (see tls.go)
	logMu   sync.Mutex
	log     strings.Builder
	done    chan struct{}
}

var listenRE = regexp.MustCompile(`faldone listening" addr=(\S+)`)

// StartDemo runs `faldone demo` over dataDir (a new temporary one when "")
// on a free loopback port, with env (KEY=VALUE) added to its environment.
func StartDemo(t testing.TB, dataDir string, env ...string) *Gateway {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	g := &Gateway{t: t, DataDir: dataDir, User: "demo", Pass: "litmus-Pw-42",
		args: []string{"demo", "--listen", "127.0.0.1:0", "--data", dataDir, "--password", "litmus-Pw-42", "--log-level", "debug"},
		env:  env}
	g.start()
	t.Cleanup(g.Stop)
	return g
}

// StartServe runs `faldone serve` with the given YAML configuration, to
// which it adds the data directory, a free loopback address and a local
// account whose credentials the Gateway uses.
func StartServe(t testing.TB, yaml string, env ...string) *Gateway {
	t.Helper()
	return StartServeOn(t, "127.0.0.1:0", yaml, env...)
}

// StartServeOn is StartServe on a given address, for tests that must know
// the gateway's URL before it starts (to register it with a provider).
func StartServeOn(t testing.TB, listen, yaml string, env ...string) *Gateway {
	t.Helper()
	dataDir := t.TempDir()
	return startServe(t, dataDir, filepath.Join(dataDir, "faldone.yaml"), listen, yaml, env...)
}

// StartServeIn is StartServe over a given data directory, which need not
// exist yet; the configuration file goes elsewhere.
func StartServeIn(t testing.TB, dataDir, yaml string, env ...string) *Gateway {
	t.Helper()
	return startServe(t, dataDir, filepath.Join(t.TempDir(), "faldone.yaml"), "127.0.0.1:0", yaml, env...)
}

func startServe(t testing.TB, dataDir, cfg, listen, yaml string, env ...string) *Gateway {
	t.Helper()
	const user, pass = "operatore", "serve-Pw-42"
	hash, err := auth.HashPassword(pass)
	if err != nil {
		t.Fatal(err)
	}
	yaml += fmt.Sprintf("\nusers:\n  - name: %s\n    password_hash: %q\n", user, hash)
	if !strings.Contains(yaml, "\naccess:") && !strings.HasPrefix(yaml, "access:") {
		// Unless the test sets the access rules, the account administers all.
		yaml += "access:\n  admins: [" + user + "]\n"
	}
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	g := &Gateway{t: t, DataDir: dataDir, User: user, Pass: pass, env: env,
		args: []string{"serve", "--config", cfg, "--listen", listen, "--data", dataDir, "--log-level", "debug"}}
	g.start()
	t.Cleanup(g.Stop)
	return g
}

// FreePort returns a loopback address with a port that was free a moment ago.
func FreePort(t testing.TB) string {
	t.Helper()
	addr, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// AddUser makes a local account with `faldone user add` in the gateway's
// data folder, and returns a Gateway that sends its credentials.
func (g *Gateway) AddUser(name, pass string) *Gateway {
	g.t.Helper()
	cmd := exec.Command(Binary(g.t), "user", "add", name, "--data", g.DataDir)
	cmd.Stdin = strings.NewReader(pass + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		g.t.Fatalf("user add %s: %v\n%s", name, err, out)
	}
	return g.As(name, pass)
}

// Archive is the folder of a Comune's files on disk.
func (g *Gateway) Archive(comune string) string {
	return filepath.Join(g.DataDir, "archivio", comune)
}

func (g *Gateway) start() {
	g.t.Helper()
	cmd := exec.Command(Binary(g.t), g.args...)
	cmd.Env = append(os.Environ(), g.env...)
	pr, pw := io.Pipe()
	cmd.Stdout = io.Discard
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	g.cmd = cmd
	g.done = make(chan struct{})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			g.logMu.Lock()
			g.log.WriteString(line + "\n")
			g.logMu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	go func() {
		cmd.Wait()
		pw.Close()
		close(g.done)
	}()
	select {
	case a := <-addr:
		g.URL = g.scheme() + "://" + a
	case <-g.done:
		g.t.Fatalf("faldone exited before listening:\n%s", g.Log())
	case <-time.After(30 * time.Second):
		g.t.Fatalf("faldone did not start listening:\n%s", g.Log())
	}
}

// Stop ends the process with SIGTERM and waits for it.
func (g *Gateway) Stop() {
	if g.cmd == nil {
		return
	}
	StopProcess(g.cmd.Process, g.done, 20*time.Second)
	g.cmd = nil
}

// Restart stops the process and starts it again over the same data.
func (g *Gateway) Restart() {
	g.t.Helper()
	g.Stop()
	g.start()
}

// As returns a client of the same gateway that authenticates with other
// credentials; stopping it does nothing.
func (g *Gateway) As(user, pass string) *Gateway {
	return &Gateway{t: g.t, URL: g.URL, DataDir: g.DataDir, User: user, Pass: pass, client: g.client}
}

// Log returns what the process logged so far.
func (g *Gateway) Log() string {
	g.logMu.Lock()
	defer g.logMu.Unlock()
	return g.log.String()
}

// Do sends a request with the gateway's credentials; path is relative to
// the root ("/guastalla/x") and sent as it is, unescaped by nobody.
func (g *Gateway) Do(method, path string, header map[string]string, body io.Reader) *http.Response {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	g.t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, method, g.URL+path, body)
	if err != nil {
		g.t.Fatal(err)
	}
	req.SetBasicAuth(g.User, g.Pass)
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := g.Client().Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp
}

// Status sends a request, reads the body and returns the status and body.
func (g *Gateway) Status(method, path string, header map[string]string, body string) (int, string, http.Header) {
	g.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	resp := g.Do(method, path, header, r)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatal(err)
	}
	return resp.StatusCode, string(b), resp.Header
}

// ConfigFile is the configuration file the gateway was started with, for
// commands run on the same state; "" for the demo.
func (g *Gateway) ConfigFile() string {
	for i, a := range g.args {
		if a == "--config" && i+1 < len(g.args) {
			return g.args[i+1]
		}
	}
	return ""
}
