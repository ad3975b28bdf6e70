package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/state"
)

const locksUsage = `Usage: faldone locks list [--path /comune/…]
       faldone locks break TOKEN
Flags also: --config FILE, --data DIR. Run faldone locks SUBCOMMAND --help for its flags.`

// locksSynopsis is the usage of one locks subcommand; ok is false for an
// unknown one.
func locksSynopsis(sub string) (synopsis string, ok bool) {
	switch sub {
	case "list":
		return "Usage: faldone locks list [--path /comune/…]\n\nList the live WebDAV locks, expiry times in time_zone.", true
	case "break":
		return "Usage: faldone locks break TOKEN\n\nBreak a lock (its token is in locks list), for a program that left one behind.", true
	}
	return "", false
}

var tags = regexp.MustCompile(`<[^>]*>`)

func locksCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{usage: locksUsage, msg: "locks: no subcommand"}
	}
	sub := args[0]
	if isHelp(sub) {
		fmt.Fprintln(stdout, locksUsage)
		return errHelp
	}
	synopsis, ok := locksSynopsis(sub)
	if !ok {
		return &usageError{usage: locksUsage, msg: fmt.Sprintf("locks: unknown subcommand %q", sub)}
	}
	var under string
	st, cfg, fs, err := storeCommand("locks "+sub, synopsis, args[1:], stdout, stderr, func(fs *flag.FlagSet) {
		if sub == "list" {
			fs.StringVar(&under, "path", "/", "only locks on this path and below it")
		}
	})
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	switch sub {
	case "list":
		p, err := archive.Path(under)
		if err != nil {
			return fmt.Errorf("--path %q: not a path", under)
		}
		locks, err := st.Locks(ctx, p, true, time.Now())
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
		if tok == "" || fs.NArg() != 1 {
			return &usageError{usage: synopsis, msg: "locks break: give the lock's token (see faldone locks list)"}
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
	}
	return nil
}
