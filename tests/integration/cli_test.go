package integration

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/bassareggiana/faldone/tests/harness"
)

// runCLI runs the binary in dir with stdin, and returns its exit code,
// standard output and standard error apart.
func runCLI(t *testing.T, bin, dir, stdin string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("faldone %v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String()
}

// TestCLIHelp: every command and subcommand answers -h, --help and
// `faldone help …` with its usage on standard output and exit 0, without
// opening a state store or reading standard input; a flag it does not know
// is exit 2 with the usage on standard error.
func TestCLIHelp(t *testing.T) {
	bin := harness.Binary(t)
	for _, cmd := range []string{"", "serve", "demo", "user", "user add", "user passwd", "user list", "user remove",
		"grant", "grant add", "grant list", "grant revoke", "audit", "locks", "locks list", "locks break",
		"migrate", "hash-password", "cert", "version", "verify", "import", "dossier", "dossier close", "dossier reopen", "dossier list",
		"catalogue", "catalogue import", "catalogue export", "catalogue status", "trash", "trash list", "versions"} {
		words := strings.Fields(cmd)
		t.Run("faldone "+cmd, func(t *testing.T) {
			for _, args := range [][]string{append(append([]string{}, words...), "--help"), append(append([]string{}, words...), "-h"), append([]string{"help"}, words...)} {
				dir := t.TempDir()
				code, out, errOut := runCLI(t, bin, dir, "password-on-stdin\n", args...)
				if code != 0 || !strings.HasPrefix(out, "Usage: faldone "+cmd) || errOut != "" {
					t.Errorf("faldone %s: exit %d, want 0 with the usage on stdout\nstdout: %q\nstderr: %q", strings.Join(args, " "), code, out, errOut)
				}
				if entries, _ := os.ReadDir(dir); len(entries) > 0 {
					t.Errorf("faldone %s wrote %s in its working directory", strings.Join(args, " "), entries[0].Name())
				}
			}
			if cmd == "" {
				return
			}
			code, out, errOut := runCLI(t, bin, t.TempDir(), "", append(append([]string{}, words...), "--no-such-flag")...)
			if code != 2 || out != "" || !strings.Contains(errOut, "Usage: faldone "+words[0]) {
				t.Errorf("faldone %s --no-such-flag: exit %d, want 2 with the usage on stderr\nstdout: %q\nstderr: %q", cmd, code, out, errOut)
			}
		})
	}
	// Command lines that cannot be run: exit 2, the usage on stderr.
	for _, args := range [][]string{{}, {"frobnicate"}, {"user"}, {"user", "frob"}, {"grant", "frob"}, {"locks", "frob"},
		{"help", "frobnicate"}, {"hash-password", "my-password-here"}, {"version", "extra"}, {"user", "add", "--data", "DATA"}} {
		t.Run(strings.Join(append([]string{"faldone"}, args...), " "), func(t *testing.T) {
			dir := t.TempDir()
			for i := range args {
				args[i] = strings.ReplaceAll(args[i], "DATA", dir)
			}
			code, out, errOut := runCLI(t, bin, dir, "", args...)
			if code != 2 || out != "" || !strings.Contains(errOut, "Usage: faldone") {
				t.Errorf("exit %d, want 2 with the usage on stderr\nstdout: %q\nstderr: %q", code, out, errOut)
			}
		})
	}
}

// TestCLIVersion: faldone version and faldone --version print the release
// kept in the code and the VCS revision when the build carries one: from
// Go's VCS stamping, or from -X main.revision on machines that build with
// -buildvcs=false; without either they say it is unknown.
func TestCLIVersion(t *testing.T) {
	head, err := exec.Command("git", "-C", harness.Root(), "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse: %v", err)
	}
	// Go stamps the revision only where .git is a directory: not in a git
	// worktree, where .git is a file (cmd/go/internal/vcs).
	stamped := "faldone 0.3.0 (revision " + string(head[:12])
	if fi, err := os.Stat(filepath.Join(harness.Root(), ".git")); err != nil || !fi.IsDir() {
		stamped = "faldone 0.3.0 (revision unknown)\n"
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"vcs stamping", []string{"-buildvcs=true"}, stamped},
		{"no vcs stamping", []string{"-buildvcs=false"}, "faldone 0.3.0 (revision unknown)\n"},
		{"revision from the build", []string{"-buildvcs=false", "-ldflags=-X main.revision=1a2b3c4d5e6f"}, "faldone 0.3.0 (revision 1a2b3c4d5e6f)\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bin := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			build := exec.Command("go", append(append([]string{"build", "-o", bin}, tt.flags...), "./cmd/faldone")...)
			build.Dir = harness.Root()
			build.Env = append(os.Environ(), "GOFLAGS=") // the flags of the row, not the machine's
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			for _, arg := range []string{"version", "--version"} {
				code, out, errOut := runCLI(t, bin, dir, "", arg)
				if code != 0 || !strings.HasPrefix(out, tt.want) || errOut != "" {
					t.Errorf("faldone %s: exit %d, %q (stderr %q), want %q", arg, code, out, errOut, tt.want)
				}
			}
		})
	}
}

// TestCLIPasswordPrompt: a password typed at a terminal is asked for with
// a prompt on the terminal, twice, and not echoed; two different ones are
// refused. (From a pipe it is the first line, as TestUserCommands uses.)
func TestCLIPasswordPrompt(t *testing.T) {
	bin := harness.Binary(t)
	const pw = "segreto-lungo-42"
	for _, tt := range []struct {
		name    string
		args    []string
		prompt  string
		typed   []string
		code    int
		wantOut string
	}{
		{"hash-password", []string{"hash-password"}, "Password: ", []string{pw, pw}, 0, "$argon2id$"},
		{"user add", []string{"user", "add", "tecnico", "--data", "DATA"}, "Password for tecnico: ", []string{pw, pw}, 0, `account "tecnico" saved`},
		{"two different passwords", []string{"hash-password"}, "Password: ", []string{pw, pw + "x"}, 1, "differ"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for i := range tt.args {
				tt.args[i] = strings.ReplaceAll(tt.args[i], "DATA", dir)
			}
			cmd := exec.Command(bin, tt.args...)
			cmd.Dir = dir
			tty, err := pty.Start(cmd)
			if err != nil {
				t.Fatal(err)
			}
			defer tty.Close()
			var seen bytes.Buffer
			buf := make(chan []byte)
			go func() {
				b := make([]byte, 4096)
				for {
					n, err := tty.Read(b)
					if n > 0 {
						buf <- append([]byte{}, b[:n]...)
					}
					if err != nil {
						close(buf)
						return
					}
				}
			}()
			waitFor := func(s string) bool {
				deadline := time.After(15 * time.Second)
				for !strings.Contains(seen.String(), s) {
					select {
					case b, ok := <-buf:
						if !ok {
							return false
						}
						seen.Write(b)
					case <-deadline:
						return false
					}
				}
				return true
			}
			for i, prompt := range []string{tt.prompt, "Repeat it: "} {
				if !waitFor(prompt) {
					t.Fatalf("no prompt %q on the terminal; it shows:\n%q", prompt, seen.String())
				}
				seen.Reset()
				io.WriteString(tty, tt.typed[i]+"\r")
			}
			waitFor("\x00never") // to the end of the output
			cmd.Wait()
			out := seen.String()
			if strings.Contains(out, pw) {
				t.Errorf("the password was echoed:\n%q", out)
			}
			if code := cmd.ProcessState.ExitCode(); code != tt.code || !strings.Contains(out, tt.wantOut) {
				t.Errorf("exit %d, want %d with %q:\n%q", code, tt.code, tt.wantOut, out)
			}
		})
	}
}

// TestCLIAddressInUse: a port someone else listens on is an error that
// says how to choose another.
func TestCLIAddressInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	for _, args := range [][]string{{"serve"}, {"demo"}} {
		code, _, errOut := runCLI(t, harness.Binary(t), dir, "", append(args, "--listen", ln.Addr().String(), "--data", dir)...)
		if code != 1 || !strings.Contains(errOut, "address already in use") || !strings.Contains(errOut, "--listen") {
			t.Errorf("faldone %s on a busy port: exit %d, want 1 with a hint at --listen:\n%s", args[0], code, errOut)
		}
	}
}
