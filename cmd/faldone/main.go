// Command faldone serves the archive of building-permit dossiers of the
// Unione dei Comuni della Bassa Reggiana as a WebDAV network drive.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/gateway"
	"github.com/bassareggiana/faldone/gateway/config"
	"github.com/bassareggiana/faldone/gateway/demo"
)

const usage = `Usage: faldone <command> [flags]

Commands:
  serve          run the gateway (faldone serve --config faldone.yaml)
  demo           run the gateway over a seeded sample archive on 127.0.0.1:8080
  user           manage local accounts: add, passwd, list, remove
  grant          manage time-limited access grants: add, list, revoke
  audit          print or export (--csv) the access log, filtered
  locks          list and break WebDAV locks
  migrate        apply the state store's schema migrations and exit
  hash-password  print the argon2id hash of a password read from standard input
  cert           write a self-signed TLS certificate and key for trials and tests
  version        print the version
`

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "faldone:", err)
		}
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
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
	case "migrate":
		// Opening the store applies the migrations (under an advisory lock
		// on PostgreSQL): the same as every start, for upgrade scripts.
		st, _, _, err := storeCommand("migrate", args[1:], stderr, nil)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, "state store schema up to date")
		return st.Close()
	case "hash-password":
		return hashPassword(os.Stdin, stdout)
	case "cert":
		return certCmd(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "faldone", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
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
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func serve(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML); none: embedded defaults")
	var cf commonFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
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
	return srv.Serve(ctx, ready)
}

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	password := fs.String("password", "demo", "password of the demo account")
	var cf commonFlags
	cf.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
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
	var ids []string
	for _, c := range cfg.Comuni {
		ids = append(ids, c.ID)
	}
	if err := demo.Seed(filepath.Join(cfg.DataDir, "archivio"), ids); err != nil {
		return fmt.Errorf("seed demo archive: %w", err)
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
		url := scheme + "://" + addr + "/"
		fmt.Fprintf(stdout, `Faldone demo: %s
  account: demo   password: %s
  data:    %s
Mount it:
  Linux:   rclone mount :webdav: ~/faldone --webdav-url %s --webdav-user demo --webdav-pass "$(rclone obscure %s)"
           or: mount -t davfs %s /mnt/faldone
  macOS:   Finder > Go > Connect to Server > %s
  Windows: net use Z: %s /user:demo %s   (Windows sends Basic credentials only over HTTPS: see README)
`, url, *password, cfg.DataDir, url, *password, url, url, url, *password)
	})
}

func hashPassword(r io.Reader, w io.Writer) error {
	pw, err := readPassword(r)
	if err != nil {
		return err
	}
	h, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, h)
	return nil
}
