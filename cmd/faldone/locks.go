package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bassareggiana/faldone/backends/state"
)

const locksUsage = `Usage: faldone locks list [--path /comune/…]
       faldone locks break TOKEN
Flags also: --config FILE, --data DIR`

var tags = regexp.MustCompile(`<[^>]*>`)

func locksCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, locksUsage)
		return errors.New("locks: no subcommand")
	}
	sub := args[0]
	var under string
	st, cfg, fs, err := storeCommand("locks "+sub, args[1:], stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&under, "path", "/", "list: only locks on this path and below it")
	})
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	switch sub {
	case "list":
		locks, err := st.Locks(ctx, path.Clean("/"+under), true, time.Now())
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "TOKEN\tPATH\tBY\tOWNER\tSCOPE\tDEPTH\tEXPIRES (%s)\n", cfg.Location)
		for _, l := range locks {
			scope, depth := "exclusive", "0"
			if l.Shared {
				scope = "shared"
			}
			if l.Infinite {
				depth = "infinity"
			}
			owner := strings.Join(strings.Fields(tags.ReplaceAllString(l.Owner, " ")), " ")
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Token, l.Root, l.Principal, owner, scope, depth, l.Expires.In(cfg.Location).Format(time.RFC3339))
		}
		return tw.Flush()
	case "break":
		tok := strings.Trim(fs.Arg(0), "<>")
		if tok == "" {
			return errors.New("locks break: give the lock's token (see faldone locks list)")
		}
		l, err := st.Lock(ctx, tok)
		if errors.Is(err, state.ErrNoSuchLock) {
			return fmt.Errorf("no live lock %q", tok)
		}
		if err != nil {
			return err
		}
		if err := st.DeleteLock(ctx, tok); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "lock on %s held by %s broken\n", l.Root, l.Principal)
	default:
		fmt.Fprintln(stderr, locksUsage)
		return fmt.Errorf("locks: unknown subcommand %q", sub)
	}
	return nil
}
