package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/gateway"
)

const dossierUsage = `Usage: faldone dossier close PATH --reason TEXT [--by NAME]
       faldone dossier reopen PATH --reason TEXT [--by NAME]
       faldone dossier list [--path /comune/…]
Flags also: --config FILE, --data DIR. Run faldone dossier SUBCOMMAND --help for its flags.`

func dossierSynopsis(sub string) (string, bool) {
	switch sub {
	case "close":
		return "Usage: faldone dossier close PATH --reason TEXT [--by NAME]\n\nClose a dossier folder (fascicolo chiuso): from then on nothing inside it can change through\nFaldone, by anyone, until it is reopened.", true
	case "reopen":
		return "Usage: faldone dossier reopen PATH --reason TEXT [--by NAME]\n\nReopen a closed dossier (an administrator's decision, recorded with its reason).", true
	case "list":
		return "Usage: faldone dossier list [--path /comune/…]\n\nList the closed dossiers, with who closed them, when (in time_zone) and why.", true
	}
	return "", false
}

func dossierCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{usage: dossierUsage, msg: "dossier: no subcommand"}
	}
	sub := args[0]
	if isHelp(sub) {
		fmt.Fprintln(stdout, dossierUsage)
		return errHelp
	}
	synopsis, ok := dossierSynopsis(sub)
	if !ok {
		return &usageError{usage: dossierUsage, msg: fmt.Sprintf("dossier: unknown subcommand %q", sub)}
	}
	var under, reason, by string
	st, cfg, fs, err := storeCommand("dossier "+sub, synopsis, args[1:], stdout, stderr, func(fs *flag.FlagSet) {
		if sub == "list" {
			fs.StringVar(&under, "path", "/", "only closed dossiers at this path and below it")
			return
		}
		fs.StringVar(&reason, "reason", "", "why (recorded, and shown in the access log)")
		fs.StringVar(&by, "by", "", "who decides, for the record (default: the system user)")
	})
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	if sub == "list" {
		p, err := archive.Path(under)
		if err != nil {
			return fmt.Errorf("--path %q: not a path", under)
		}
		ds, err := st.ClosedDossiers(ctx, p, true)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "PATH\tCLOSED (%s)\tBY\tREASON\n", cfg.Location)
		for _, d := range ds {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Path, d.Closed.In(cfg.Location).Format(time.RFC3339), d.By, d.Reason)
		}
		return tw.Flush()
	}
	if fs.NArg() != 1 {
		return &usageError{usage: synopsis, msg: "dossier " + sub + ": give the dossier's path"}
	}
	if strings.TrimSpace(reason) == "" {
		return &usageError{usage: synopsis, msg: "dossier " + sub + ": --reason is required"}
	}
	if len(reason) > 500 {
		return &usageError{usage: synopsis, msg: "dossier " + sub + ": --reason is longer than 500 bytes"}
	}
	by = operatorName(by)
	ns, err := gateway.OpenArchive(ctx, cfg)
	if err != nil {
		return err
	}
	svc := archive.New(ns, st, gateway.ArchiveOptions(cfg, gateway.Catalogue(cfg, st, nil), nil))
	p := fs.Arg(0)
	method := "CLOSE"
	if sub == "close" {
		d, err := svc.CloseDossier(ctx, st, p, by, reason)
		switch {
		case errors.Is(err, archive.ErrExists):
			return fmt.Errorf("dossier close: %s is closed already", p)
		case errors.Is(err, archive.ErrNotFound):
			return fmt.Errorf("dossier close: no folder %s", p)
		case err != nil:
			return fmt.Errorf("dossier close: %w", err)
		}
		p = d.Path
		fmt.Fprintf(stdout, "dossier %s closed\n", p)
	} else {
		method = "REOPEN"
		if err := svc.ReopenDossier(ctx, st, p); err != nil {
			if errors.Is(err, archive.ErrNotFound) {
				return fmt.Errorf("dossier reopen: %s is not a closed dossier", p)
			}
			return fmt.Errorf("dossier reopen: %w", err)
		}
		p, _ = archive.Path(p)
		fmt.Fprintf(stdout, "dossier %s reopened\n", p)
	}
	return recordCLI(cfg, st, by, method, p, "reason="+reason)
}
