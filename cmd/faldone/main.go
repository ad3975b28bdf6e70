// Command faldone serves the archive of building-permit dossiers of the
// Unione dei Comuni della Bassa Reggiana as a WebDAV network drive.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/gateway"
	"github.com/bassareggiana/faldone/gateway/config"
	"github.com/bassareggiana/faldone/gateway/demo"
	"github.com/bassareggiana/faldone/state"
)

// Version is this release of Faldone. `faldone version` adds the VCS
// revision when the build carries one.
const Version = "0.3.0"

// revision is the VCS revision given by the build, for machines that build
// without VCS stamping (GOFLAGS=-buildvcs=false):
//
//	go build -ldflags "-X main.revision=$(git rev-parse --short=12 HEAD)" ./cmd/faldone
var revision string

const usage = `Usage: faldone <command> [flags]

Commands:
  serve          run the gateway (faldone serve --config faldone.yaml)
  demo           run the gateway over a seeded sample archive on 127.0.0.1:8080
  user           manage local accounts: add, passwd, list, remove
  grant          manage time-limited access grants: add, list, revoke
  audit          print or export (--csv) the access log, filtered
  locks          list and break WebDAV locks
  dossier        close, reopen and list closed dossiers (fascicoli chiusi)
  trash          list, restore and purge the recycle bin (cestino)
  versions       list and restore the earlier versions of a file
  import         bring a delivery of the digitised archive into a Comune, checked against its manifest
  catalogue      import and export the register of dossiers (catalogo), and the text index's status
  verify         prove the files intact against their recorded SHA-256
  migrate        apply the state store's schema migrations and exit
  hash-password  print the argon2id hash of a password (asked for, or read from standard input)
  cert           write a self-signed TLS certificate and key for trials and tests
  version        print the version (also: faldone --version)
  help           print this, or a command's usage (faldone help CMD, faldone CMD --help)
`

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	var ue *usageError
	switch {
	case err == nil || errors.Is(err, errHelp):
		return
	case errors.As(err, &ue):
		// Bad command lines exit 2, with the usage on standard error.
		if !ue.reported {
			fmt.Fprint(os.Stderr, ue.usage)
			if ue.usage != "" && !strings.HasSuffix(ue.usage, "\n") {
				fmt.Fprintln(os.Stderr)
			}
			fmt.Fprintln(os.Stderr, "faldone:", ue.msg)
		}
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "faldone:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{usage: usage, msg: "no command given"}
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "demo":
		return runDemo(args[1:], stdout, stderr)
	case "user":
		return userCmd(args[1:], os.Stdin, stdout, stderr)
	case "grant":
		return grantCmd(args[1:], stdout, stderr)
	case "audit":
		return auditCmd(args[1:], stdout, stderr)
	case "locks":
		return locksCmd(args[1:], stdout, stderr)
	case "verify":
		return verifyCmd(args[1:], stdout, stderr)
	case "import":
		return importCmd(args[1:], stdout, stderr)
	case "dossier":
		return dossierCmd(args[1:], stdout, stderr)
	case "catalogue":
		return catalogueCmd(args[1:], stdout, stderr)
	case "trash", "versions":
		return trashCmd(args[0], args[1:], stdout, stderr)
	case "migrate":
		// Opening the store applies the migrations (under an advisory lock
		// on PostgreSQL): the same as every start, for upgrade scripts.
		st, _, _, err := storeCommand("migrate", migrateUsage, args[1:], stdout, stderr, nil)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "state store schema up to date")
		return st.Close()
	case "hash-password":
		return hashPassword(args[1:], os.Stdin, stdout, stderr)
	case "cert":
		return certCmd(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fs := newFlags("version", "Usage: faldone version\n\nPrint the release and, when the build carries it, the VCS revision.")
		if err := parseFlags(fs, args[1:], stdout, stderr); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return &usageError{usage: "Usage: faldone version\n", msg: "version takes no arguments"}
		}
		fmt.Fprintln(stdout, versionText())
		return nil
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" && !isHelp(args[1]) {
			// faldone help CMD [SUBCOMMAND] is faldone CMD [SUBCOMMAND] --help.
			if len(args) > 3 {
				return &usageError{usage: usage, msg: "help: give a command and perhaps its subcommand"}
			}
			return run(append(append([]string{}, args[1:]...), "--help"), stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return errHelp
	default:
		return &usageError{usage: usage, msg: fmt.Sprintf("unknown command %q", args[0])}
	}
}

// versionText is the release and the VCS revision of this build: from the
// build's -X main.revision, else from Go's VCS stamping.
func versionText() string {
	rev, modified := revision, false
	if bi, ok := debug.ReadBuildInfo(); ok && rev == "" {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if rev == "" {
		return "faldone " + Version + " (revision unknown)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += ", modified"
	}
	return "faldone " + Version + " (revision " + rev + ")"
}

// errHelp is returned when usage was asked for and printed: exit 0.
var errHelp = flag.ErrHelp

// usageError is a command line that cannot be run: faldone prints the
// usage and the message on standard error and exits 2. reported: the flag
// package printed both already.
type usageError struct {
	usage, msg string
	reported   bool
}

func (e *usageError) Error() string { return e.msg }

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// newFlags returns a flag set whose usage is synopsis, then its flags.
func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), synopsis)
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(fs.Output(), "\nFlags:")
			printFlags(fs)
		}
	}
	return fs
}

// printFlags lists fs's flags as flag.PrintDefaults does, but with the
// two dashes people type (the flag package takes one or two).
func printFlags(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		kind, text := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + kind
		}
		switch {
		case f.DefValue == "" || f.DefValue == "false" || f.DefValue == "0":
		case kind == "string":
			text += fmt.Sprintf(" (default %q)", f.DefValue)
		default:
			text += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(fs.Output(), "%s\n    \t%s\n", line, text)
	})
}

// parseFlags parses args with fs. -h or --help prints the usage on
// standard output and returns errHelp; a bad flag prints the error and the
// usage on standard error and returns a usageError.
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	if errors.Is(err, flag.ErrHelp) {
		_, werr := stdout.Write(buf.Bytes())
		if werr != nil {
			return werr
		}
		return errHelp
	}
	stderr.Write(buf.Bytes())
	if err != nil {
		return &usageError{msg: err.Error(), reported: true}
	}
	return nil
}

// commonFlags are the flags of serve and demo; each overrides the
// configuration key of the same meaning.
type commonFlags struct {
	listen, data, logLevel, logFormat string
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.listen, "listen", "", "address to listen on (listen)")
	fs.StringVar(&c.data, "data", "", "data directory (data_dir)")
	fs.StringVar(&c.logLevel, "log-level", "", "debug, info, warn or error (log.level)")
	fs.StringVar(&c.logFormat, "log-format", "", "text or json (log.format)")
}

func (c *commonFlags) apply(cfg *config.Config) {
	for _, kv := range []struct {
		flag string
		key  *string
	}{{c.listen, &cfg.Listen}, {c.data, &cfg.DataDir}, {c.logLevel, &cfg.Log.Level}, {c.logFormat, &cfg.Log.Format}} {
		if kv.flag != "" {
			*kv.key = kv.flag
		}
	}
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: durationText}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// durationText writes a duration as Go writes it ("30s", "1h0m0s") rather
// than as a count of nanoseconds, which the JSON handler would write:
// both formats then say the same, as people read it.
func durationText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

const serveUsage = `Usage: faldone serve [--config FILE] [flags]

Run the gateway. Environment variables (FALDONE_*) override the configuration file, and flags
override both.`

func serve(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", serveUsage)
	cfgPath := fs.String("config", "", "configuration file (YAML); none: embedded defaults")
	var cf commonFlags
	cf.register(fs)
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{usage: serveUsage, msg: fmt.Sprintf("serve: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	cf.apply(&cfg)
	if err := cfg.Finish(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return start(cfg, nil, stderr, nil)
}

func start(cfg config.Config, extra map[string]string, logw io.Writer, ready func(string)) error {
	log := newLogger(cfg, logw)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := gateway.New(ctx, cfg, log, extra)
	if err != nil {
		return err
	}
	err = srv.Serve(ctx, ready)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("%w: another program listens on %s; choose another address with --listen HOST:PORT (or listen in the configuration)", err, cfg.Listen)
	}
	return err
}

const demoUsage = `Usage: faldone demo [flags]

Seed a sample archive (under ./faldone-demo unless --data says otherwise) and run the gateway over
it on 127.0.0.1:8080, with the account demo, an administrator of every Comune.`

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", demoUsage)
	password := fs.String("password", "demo", "password of the demo account")
	var cf commonFlags
	cf.register(fs)
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return &usageError{usage: demoUsage, msg: fmt.Sprintf("demo: unexpected argument %q", fs.Arg(0))}
	}
	cfg, err := config.Load("")
	if err != nil {
		return err
	}
	if cfg.DataDir == config.Default().DataDir {
		cfg.DataDir = "faldone-demo"
	}
	// The demo account administers every Comune.
	cfg.Access.Admins = append(cfg.Access.Admins, "demo")
	cf.apply(&cfg)
	if err := cfg.Finish(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	var comuni []demo.Comune
	for _, c := range cfg.Comuni {
		comuni = append(comuni, demo.Comune{ID: c.ID, Name: c.Name})
	}
	// The sample .p7m files are signed by a demo authority the demo trusts.
	signer, err := demo.Authority(filepath.Join(cfg.DataDir, "firme-demo"))
	if err != nil {
		return fmt.Errorf("demo signer: %w", err)
	}
	if cfg.Signatures.TrustDir == "" {
		cfg.Signatures.TrustDir = filepath.Join(cfg.DataDir, "firme-demo", "ca")
	}
	made, err := demo.SeedSigned(filepath.Join(cfg.DataDir, "archivio"), comuni, signer)
	if err != nil {
		return fmt.Errorf("seed demo archive: %w", err)
	}
	if err := catalogueDemo(cfg, made); err != nil {
		return fmt.Errorf("seed demo catalogue: %w", err)
	}
	hash, err := auth.HashPassword(*password)
	if err != nil {
		return err
	}
	return start(cfg, map[string]string{"demo": hash}, stderr, func(addr string) {
		scheme := "http"
		if cfg.TLS.Enabled() { // FALDONE_TLS_* in the environment
			scheme = "https"
		}
		demoInstructions(stdout, scheme+"://"+addr+"/", *password, cfg.DataDir)
	})
}

// demoInstructions prints the demo's address, account and how to mount
// it. rclone's mount needs its cache for writes: without it, programs that
// open a file to change it (office programs, CAD) fail on the mount.
func demoInstructions(w io.Writer, url, password, dataDir string) {
	fmt.Fprintf(w, `Faldone demo: %s
  account: demo   password: %s
  data:    %s
Mount it:
  Linux:   rclone mount :webdav: ~/faldone --webdav-url %s --webdav-user demo --webdav-pass "$(rclone obscure %s)" --vfs-cache-mode writes
           or: mount -t davfs %s /mnt/faldone
  macOS:   Finder > Go > Connect to Server > %s
  Windows: net use Z: %s /user:demo %s   (Windows sends Basic credentials only over HTTPS: see README)
`, url, password, dataDir, url, password, url, url, url, password)
}

const hashPasswordUsage = `Usage: faldone hash-password < password

Print the argon2id hash of a password, for a local account in the configuration (users). The
password (at least 12 characters) is the first line of standard input, or asked for twice without
echo on a terminal.`

func hashPassword(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("hash-password", hashPasswordUsage)
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		// Never a password on the command line, where ps shows it.
		return &usageError{usage: hashPasswordUsage, msg: "hash-password takes no arguments: give the password on standard input"}
	}
	pw, err := readPassword(stdin, stderr, "Password: ")
	if err != nil {
		return err
	}
	h, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, h)
	return nil
}

// operatorName is who runs a command, for the access log: the name given
// with --by, or else the system user's.
func operatorName(by string) string {
	if by != "" {
		return by
	}
	if u, err := user.Current(); err == nil {
		return "cli:" + u.Username
	}
	return "cli"
}

// catalogueDemo gives the sample dossiers seeded their catalogue records,
// and queues their files for the text index.
func catalogueDemo(cfg config.Config, made []state.Dossier) error {
	if len(made) == 0 {
		return nil
	}
	ctx := context.Background()
	st, err := gateway.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now().UTC()
	var paths []string
	for i := range made {
		made[i].Updated = now
		paths = append(paths, made[i].Path)
	}
	if err := st.PutDossiers(ctx, made); err != nil {
		return err
	}
	return st.QueueIndex(ctx, paths, now)
}
