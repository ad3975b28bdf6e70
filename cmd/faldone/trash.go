package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/audit"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/gateway"
	"github.com/bassareggiana/faldone/gateway/config"
	"github.com/bassareggiana/faldone/state"
)

const trashUsage = `Usage: faldone trash list [--comune ID] [--path P] [--search TEXT]
       faldone trash restore ID [--as PATH]
       faldone trash purge ID | --older-than DURATION
Flags also: --config FILE, --data DIR, --by NAME. Run faldone trash SUBCOMMAND --help for its flags.`

const versionsUsage = `Usage: faldone versions list PATH
       faldone versions restore PATH ID [--as PATH]
Flags also: --config FILE, --data DIR, --by NAME. Run faldone versions SUBCOMMAND --help for its flags.`

func trashSynopsis(cmd, sub string) (string, bool) {
	switch cmd + " " + sub {
	case "trash list":
		return "Usage: faldone trash list [--comune ID] [--path P] [--search TEXT]\n\nList the recycle bin, newest first: one entry a line, its ID first, then when (in time_zone),\nwho, from where, how many files and bytes, and the path it was deleted from.", true
	case "trash restore":
		return "Usage: faldone trash restore ID [--as PATH]\n\nPut an entry of the recycle bin back where it was, or at PATH: a folder with everything it held.\nNothing is replaced: if something is there now, choose another PATH with --as.", true
	case "trash purge":
		return "Usage: faldone trash purge ID | --older-than DURATION\n\nDelete an entry of the recycle bin for good, or every entry (and version) older than\nDURATION (e.g. 720h, or 30d).", true
	case "versions list":
		return "Usage: faldone versions list PATH\n\nList the earlier versions of a file, newest first: one a line, its ID first.", true
	case "versions restore":
		return "Usage: faldone versions restore PATH ID [--as PATH]\n\nMake an earlier version the file's content again (the current content becomes a version),\nor write it at another PATH with --as.", true
	}
	return "", false
}

// trashCmd runs `faldone trash` and `faldone versions` (cmd).
func trashCmd(cmd string, args []string, stdout, stderr io.Writer) error {
	use := trashUsage
	if cmd == "versions" {
		use = versionsUsage
	}
	if len(args) == 0 {
		return &usageError{usage: use, msg: cmd + ": no subcommand"}
	}
	sub := args[0]
	if isHelp(sub) {
		fmt.Fprintln(stdout, use)
		return errHelp
	}
	synopsis, ok := trashSynopsis(cmd, sub)
	if !ok {
		return &usageError{usage: use, msg: fmt.Sprintf("%s: unknown subcommand %q", cmd, sub)}
	}
	var comune, under, search, as, olderThan, by string
	st, cfg, fs, err := storeCommand(cmd+" "+sub, synopsis, args[1:], stdout, stderr, func(fs *flag.FlagSet) {
		switch sub {
		case "list":
			if cmd == "trash" {
				fs.StringVar(&comune, "comune", "", "only this Comune's entries")
				fs.StringVar(&under, "path", "", "only entries deleted at this path or below it")
				fs.StringVar(&search, "search", "", "only entries whose path contains this text")
			}
		case "restore":
			fs.StringVar(&as, "as", "", "restore at this path instead (/comune/…)")
		case "purge":
			fs.StringVar(&olderThan, "older-than", "", "purge everything kept longer than this (720h, 30d)")
		}
		if sub != "list" {
			fs.StringVar(&by, "by", "", "who acts, for the record (default: the system user)")
		}
	})
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	ns, err := gateway.OpenArchive(ctx, cfg)
	if err != nil {
		return err
	}
	svc := archive.New(ns, st, gateway.ArchiveOptions(cfg, gateway.Catalogue(cfg, st, nil), nil))
	by = operatorName(by)
	op := svc.Begin(ctx, archive.Caller{Principal: by, From: "riga di comando", Policy: operator{}})
	args = fs.Args()
	switch cmd + " " + sub {
	case "trash list":
		if len(args) > 0 {
			return &usageError{usage: synopsis, msg: "trash list takes no arguments"}
		}
		q := state.KeptQuery{Kind: state.KindDeleted, Search: search}
		switch {
		case under != "" && comune != "":
			return &usageError{usage: synopsis, msg: "trash list: give --comune or --path, not both"}
		case comune != "":
			q.Path, q.Tree = "/"+comune, true
		case under != "":
			q.Path, q.Tree = under, true
		}
		ks, _, err := op.Kept(q)
		if err != nil {
			return fmt.Errorf("trash list: %w", err)
		}
		return printKept(stdout, cfg, ks, true)
	case "versions list":
		if len(args) != 1 {
			return &usageError{usage: synopsis, msg: "versions list: give the file's path"}
		}
		vs, err := op.Versions(args[0])
		if err != nil {
			return fmt.Errorf("versions list: %w", err)
		}
		return printKept(stdout, cfg, vs, false)
	case "trash restore", "versions restore":
		var id string
		switch {
		case sub == "restore" && cmd == "trash" && len(args) == 1:
			id = args[0]
		case cmd == "versions" && len(args) == 2:
			id = args[1]
			k, err := op.KeptEntry(id)
			if err != nil {
				return fmt.Errorf("versions restore: no version %s", id)
			}
			if p, _ := archive.Path(args[0]); k.Kind != state.KindVersion || k.Path != p {
				return fmt.Errorf("versions restore: %s is not a version of %s", id, args[0])
			}
		default:
			return &usageError{usage: synopsis, msg: cmd + " restore: wrong arguments"}
		}
		dst, err := op.Restore(id, as)
		switch {
		case errors.Is(err, archive.ErrDestinationExists):
			return fmt.Errorf("%s restore: something is at %s now; choose another place with --as PATH", cmd, orPath(as, dst, op, id))
		case errors.Is(err, archive.ErrNotFound):
			return fmt.Errorf("%s restore: nothing kept as %s", cmd, id)
		case err != nil:
			return fmt.Errorf("%s restore: %w", cmd, err)
		}
		fmt.Fprintf(stdout, "restored %s at %s\n", id, dst)
		return recordCLI(cfg, st, by, "RESTORE", dst, "kept="+id)
	case "trash purge":
		switch {
		case olderThan != "" && len(args) == 0:
			d, err := parseAge(olderThan)
			if err != nil || d <= 0 {
				return &usageError{usage: synopsis, msg: fmt.Sprintf("trash purge: --older-than %q is not a positive duration", olderThan)}
			}
			opts := gateway.ArchiveOptions(cfg, gateway.Catalogue(cfg, st, nil), nil)
			opts.Trash.Retention, opts.Trash.VersionAge = d, d
			n, err := archive.New(ns, st, opts).PurgeExpired(ctx, time.Now())
			fmt.Fprintf(stdout, "purged %d kept entries older than %s\n", n, olderThan)
			if err != nil {
				return fmt.Errorf("trash purge: %w", err)
			}
			return recordCLI(cfg, st, by, "PURGE", "/", "older-than="+olderThan+" purged="+strconv.Itoa(n))
		case olderThan == "" && len(args) == 1:
			k, err := op.Purge(args[0])
			if errors.Is(err, archive.ErrNotFound) {
				return fmt.Errorf("trash purge: nothing kept as %s", args[0])
			}
			if err != nil {
				return fmt.Errorf("trash purge: %w", err)
			}
			fmt.Fprintf(stdout, "purged %s (%s)\n", k.ID, k.Path)
			return recordCLI(cfg, st, by, "PURGE", k.Path, "kept="+k.ID)
		}
		return &usageError{usage: synopsis, msg: "trash purge: give an ID or --older-than, one of them"}
	}
	return nil
}

// orPath names the place a restore wanted.
func orPath(as, dst string, op *archive.Op, id string) string {
	if as != "" {
		return as
	}
	if k, err := op.KeptEntry(id); err == nil {
		return k.Path
	}
	return dst
}

// printKept writes one kept resource a line, its ID first.
func printKept(w io.Writer, cfg config.Config, ks []state.Kept, bin bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if bin {
		fmt.Fprintf(tw, "ID\tDELETED (%s)\tBY\tFROM\tFILES\tBYTES\tPATH\n", cfg.Location)
	} else {
		fmt.Fprintf(tw, "ID\tREPLACED (%s)\tBY\tFROM\tBYTES\tPATH\n", cfg.Location)
	}
	for _, k := range ks {
		at := k.At.In(cfg.Location).Format(time.RFC3339)
		if bin {
			path := k.Path
			if k.IsDir {
				path += "/"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", k.ID, at, k.By, k.From, k.Files, k.Size, path)
		} else {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", k.ID, at, k.By, k.From, k.Size, k.Path)
		}
	}
	return tw.Flush()
}

// parseAge parses a duration as Go does, or a whole number of days ("30d").
func parseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err := strconv.Atoi(n)
		if err != nil || d > 100*365 {
			return 0, fmt.Errorf("%q: not a number of days", s)
		}
		return time.Duration(d) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// recordCLI writes the audit record of a command's change.
func recordCLI(cfg config.Config, st state.Store, by, method, p, target string) error {
	lines, closer, err := audit.OpenLines(*cfg.Audit.File, nil)
	if err != nil {
		return err
	}
	defer closer.Close()
	comune, _ := access.SplitComune(p)
	return audit.Direct{Store: st, Lines: lines, Timeout: cfg.StateTimeout}.Record(state.AuditRecord{
		Time: time.Now().UTC(), RequestID: "cli-" + audit.NewKey(), Person: by, Credential: "cli", Client: "cli",
		Method: method, Path: p, Target: target, Comune: comune, Status: 200})
}
