package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/backends/state"
	"github.com/bassareggiana/faldone/gateway"
	"github.com/bassareggiana/faldone/gateway/config"
)

// storeCommand parses the flags every command on the state store takes
// (--config, --data) and opens the store.
// extra, if not nil, registers the command's own flags.
func storeCommand(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (gateway.Store, config.Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if extra != nil {
		extra(fs)
	}
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML)")
	data := fs.String("data", "", "data directory (data_dir)")
	// Positional arguments may come before the flags too: "user add NAME --data DIR".
	var lead []string
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		lead, args = append(lead, args[0]), args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return nil, config.Config{}, nil, err
	}
	if err := fs.Parse(append(append([]string{}, fs.Args()...), lead...)); err != nil {
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

const userUsage = `Usage: faldone user add|passwd NAME < password
       faldone user list
       faldone user remove NAME
Flags: --config FILE, --data DIR (after the subcommand)
Local accounts are for service users and the demo; people sign in with SPID.`

func userCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, userUsage)
		return errors.New("user: no subcommand")
	}
	sub := args[0]
	st, _, fs, err := storeCommand("user "+sub, args[1:], stderr, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	name := fs.Arg(0)
	needName := sub != "list"
	if needName && (name == "" || strings.ContainsAny(name, ":\x00") || fs.NArg() != 1) {
		fmt.Fprintln(stderr, userUsage)
		return errors.New("user: give one account name (no ':')")
	}
	switch sub {
	case "add", "passwd":
		pw, err := readPassword(stdin)
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
		fmt.Fprintln(tw, "NAME\tCREATED\tPASSWORD CHANGED")
		for _, a := range accs {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, a.Created.Format(time.RFC3339), a.Updated.Format(time.RFC3339))
		}
		return tw.Flush()
	case "remove":
		if err := st.DeleteAccount(ctx, name); errors.Is(err, state.ErrNotFound) {
			return fmt.Errorf("no account %q", name)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "account %q removed\n", name)
	default:
		fmt.Fprintln(stderr, userUsage)
		return fmt.Errorf("user: unknown subcommand %q", sub)
	}
	return nil
}

// readPassword reads a password from the first line of r (a pipe or a
// terminal): passwords never go on the command line, where ps shows them.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if len(pw) < 12 {
		return "", errors.New("the password on standard input must have at least 12 characters")
	}
	return pw, nil
}
