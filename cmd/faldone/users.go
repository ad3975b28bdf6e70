package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/gateway"
	"github.com/bassareggiana/faldone/gateway/config"
	"github.com/bassareggiana/faldone/state"
)

// storeCommand parses the flags every command on the state store takes
// (--config, --data) and opens the store. synopsis is the command's usage,
// shown by --help; extra, if not nil, registers the command's own flags.
func storeCommand(name, synopsis string, args []string, stdout, stderr io.Writer, extra func(*flag.FlagSet)) (state.Store, config.Config, *flag.FlagSet, error) {
	fs := newFlags(name, synopsis)
	if extra != nil {
		extra(fs)
	}
	cfgPath := fs.String("config", "", "configuration file (YAML)")
	data := fs.String("data", "", "data directory (data_dir)")
	// Positional arguments may come before the flags too: "user add NAME --data DIR".
	var lead []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		lead, args = append(lead, args[0]), args[1:]
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return nil, config.Config{}, nil, err
	}
	if err := parseFlags(fs, append(append([]string{}, fs.Args()...), lead...), stdout, stderr); err != nil {
		return nil, config.Config{}, nil, err
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return nil, config.Config{}, nil, err
	}
	if *data != "" {
		cfg.DataDir = *data
	}
	if err := cfg.Finish(); err != nil {
		return nil, config.Config{}, nil, fmt.Errorf("configuration: %w", err)
	}
	st, err := gateway.OpenStore(context.Background(), cfg)
	return st, cfg, fs, err
}

const migrateUsage = `Usage: faldone migrate [--config FILE] [--data DIR]

Apply the state store's schema migrations and exit (every start applies them too).`

const userUsage = `Usage: faldone user add|passwd NAME [--config FILE] [--data DIR] < password
       faldone user list [--config FILE] [--data DIR]
       faldone user remove NAME [--config FILE] [--data DIR]

Local accounts are for service users and the demo; people sign in with SPID.
Run faldone user SUBCOMMAND --help for its flags.`

// userSynopsis is the usage of one user subcommand; ok is false for an
// unknown one.
func userSynopsis(sub string) (synopsis string, ok bool) {
	switch sub {
	case "add":
		return `Usage: faldone user add NAME [--config FILE] [--data DIR] < password

Make a local account. The password (at least 12 characters) is the first line of standard input,
or asked for twice without echo on a terminal.`, true
	case "passwd":
		return `Usage: faldone user passwd NAME [--config FILE] [--data DIR] < password

Change a local account's password, read as for user add.`, true
	case "list":
		return "Usage: faldone user list [--config FILE] [--data DIR]\n\nList the local accounts.", true
	case "remove":
		return "Usage: faldone user remove NAME [--config FILE] [--data DIR]\n\nRemove a local account.", true
	}
	return "", false
}

func userCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{usage: userUsage, msg: "user: no subcommand"}
	}
	sub := args[0]
	if isHelp(sub) {
		fmt.Fprintln(stdout, userUsage)
		return errHelp
	}
	synopsis, ok := userSynopsis(sub)
	if !ok {
		return &usageError{usage: userUsage, msg: fmt.Sprintf("user: unknown subcommand %q", sub)}
	}
	st, cfg, fs, err := storeCommand("user "+sub, synopsis, args[1:], stdout, stderr, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	name := fs.Arg(0)
	if sub == "list" && fs.NArg() > 0 {
		return &usageError{usage: synopsis, msg: "user list takes no account name"}
	}
	if sub != "list" && (name == "" || strings.ContainsAny(name, ":\x00") || fs.NArg() != 1) {
		return &usageError{usage: synopsis, msg: "user " + sub + ": give one account name (no ':')"}
	}
	switch sub {
	case "add", "passwd":
		pw, err := readPassword(stdin, stderr, fmt.Sprintf("Password for %s: ", name))
		if err != nil {
			return err
		}
		hash, err := auth.HashPassword(pw)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		if sub == "add" {
			err = st.CreateAccount(ctx, state.Account{Name: name, PasswordHash: hash, Created: now, Updated: now})
		} else {
			err = st.SetAccountPassword(ctx, name, hash, now)
		}
		if errors.Is(err, state.ErrExists) {
			return fmt.Errorf("account %q exists: use passwd to change its password", name)
		}
		if errors.Is(err, state.ErrNotFound) {
			return fmt.Errorf("no account %q", name)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %q saved\n", name)
	case "list":
		accs, err := st.Accounts(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "NAME\tCREATED (%s)\tPASSWORD CHANGED\n", cfg.Location)
		for _, a := range accs {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, a.Created.In(cfg.Location).Format(time.RFC3339), a.Updated.In(cfg.Location).Format(time.RFC3339))
		}
		return tw.Flush()
	case "remove":
		if err := st.DeleteAccount(ctx, name); errors.Is(err, state.ErrNotFound) {
			return fmt.Errorf("no account %q", name)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %q removed\n", name)
	}
	return nil
}

// readPassword reads a password: from a terminal after a prompt on
// stderr, without echo and twice, lest a typing slip lock the account out;
// from anything else (a pipe, a file) the first line. Passwords never go on
// the command line, where ps shows them.
func readPassword(r io.Reader, stderr io.Writer, prompt string) (string, error) {
	var pw string
	if f, ok := r.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		var typed [2]string
		for i, p := range []string{prompt, "Repeat it: "} {
			b, err := readHidden(int(f.Fd()), func() { fmt.Fprint(stderr, p) })
			fmt.Fprintln(stderr) // the newline the terminal did not echo
			if err != nil {
				return "", fmt.Errorf("read the password: %w", err)
			}
			typed[i] = string(b)
		}
		if typed[0] != typed[1] {
			return "", errors.New("the two passwords differ")
		}
		pw = typed[0]
	} else {
		line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		pw = strings.TrimRight(line, "\r\n")
	}
	if len(pw) < 12 {
		return "", errors.New("the password must have at least 12 characters")
	}
	return pw, nil
}
