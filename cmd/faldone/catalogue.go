package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/catalogue"
	"github.com/bassareggiana/faldone/catalogue/load"
	"github.com/bassareggiana/faldone/catalogue/register"
	"github.com/bassareggiana/faldone/gateway"
)

const catalogueUsage = `Usage: faldone catalogue import FILE.csv [--comune ID] [--dry-run] [--report FILE] [--by NAME]
       faldone catalogue export [--comune ID | --path /comune/…] [--output FILE]
       faldone catalogue status
Flags also: --config FILE, --data DIR. Run faldone catalogue SUBCOMMAND --help for its flags.`

func catalogueSynopsis(sub string) (string, bool) {
	switch sub {
	case "import":
		return "Usage: faldone catalogue import FILE.csv [--comune ID] [--dry-run] [--report FILE] [--by NAME]\n\n" +
			"Read a register of dossiers (CSV with a header, ; or ,, UTF-8 or Windows-1252) into the catalogue: each row\n" +
			"makes or completes the record of its dossier folder. Bad rows are reported, with the rows that match no\n" +
			"folder and the folders that no row names; running it again changes nothing more.", true
	case "export":
		return "Usage: faldone catalogue export [--comune ID | --path /comune/…] [--output FILE]\n\n" +
			"Write the catalogue's records as a register (the format import reads: ;, UTF-8 with BOM, dates gg/mm/aaaa).", true
	case "status":
		return "Usage: faldone catalogue status\n\nSay how far the index of the words inside the documents is: files indexed, waiting, failed.", true
	}
	return "", false
}

func catalogueCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{usage: catalogueUsage, msg: "catalogue: no subcommand"}
	}
	sub := args[0]
	if isHelp(sub) {
		fmt.Fprintln(stdout, catalogueUsage)
		return errHelp
	}
	synopsis, ok := catalogueSynopsis(sub)
	if !ok {
		return &usageError{usage: catalogueUsage, msg: fmt.Sprintf("catalogue: unknown subcommand %q", sub)}
	}
	var comune, under, reportFile, output, by string
	var dryRun bool
	st, cfg, fs, err := storeCommand("catalogue "+sub, synopsis, args[1:], stdout, stderr, func(fs *flag.FlagSet) {
		switch sub {
		case "import":
			fs.StringVar(&comune, "comune", "", "only this Comune's rows: a row of another is a bad row")
			fs.BoolVar(&dryRun, "dry-run", false, "read and check the register, change nothing")
			fs.StringVar(&reportFile, "report", "", "write the whole report to this file")
			fs.StringVar(&by, "by", "", "who imports, for the records (default: the system user)")
		case "export":
			fs.StringVar(&comune, "comune", "", "only this Comune's records")
			fs.StringVar(&under, "path", "", "only the records at this path or below it")
			fs.StringVar(&output, "output", "", "write to this file instead of standard output")
		}
	})
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	args = fs.Args()
	known := map[string]string{}
	for _, c := range cfg.Comuni {
		known[c.ID] = c.ID
		if c.Name != "" {
			known[c.Name] = c.ID
		}
	}
	if comune != "" && known[comune] != comune {
		return &usageError{usage: synopsis, msg: fmt.Sprintf("catalogue %s: --comune %q is no configured Comune", sub, comune)}
	}
	switch sub {
	case "status":
		if len(args) != 0 {
			return &usageError{usage: synopsis, msg: "catalogue status takes no arguments"}
		}
		s, err := st.IndexStatus(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "files indexed: %d\nwaiting: %d\nfailed: %d\n", s.Files, s.Waiting, s.Failed)
		return nil
	case "export":
		if len(args) != 0 || (comune != "" && under != "") {
			return &usageError{usage: synopsis, msg: "catalogue export: no arguments, and --comune or --path, not both"}
		}
		p := "/"
		switch {
		case comune != "":
			p = "/" + comune
		case under != "":
			if p, err = archive.Path(under); err != nil {
				return &usageError{usage: synopsis, msg: fmt.Sprintf("catalogue export: --path %q: %v", under, err)}
			}
		}
		w := stdout
		if output != "" {
			f, err := os.OpenFile(output, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		n, err := load.Export(ctx, st, w, p)
		if err != nil {
			return fmt.Errorf("catalogue export: %w", err)
		}
		if output != "" {
			fmt.Fprintf(stdout, "exported %d records to %s\n", n, output)
		}
		return nil
	}
	// import
	if len(args) != 1 {
		return &usageError{usage: synopsis, msg: "catalogue import: give the register's file"}
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	ns, err := gateway.OpenArchive(ctx, cfg)
	if err != nil {
		return err
	}
	svc := archive.New(ns, st, gateway.ArchiveOptions(cfg, nil, nil))
	rule := catalogue.Rule{Depth: cfg.Catalogue.Depth}
	by = operatorName(by)
	rep, err := load.Import(ctx, st, f, load.Options{
		Register: register.Options{Comuni: known, Comune: comune, Columns: register.Mapping(cfg.Catalogue.Columns)},
		DryRun:   dryRun,
		By:       by,
		Folders: func(ctx context.Context, fn func(string) error) error {
			for _, c := range cfg.Comuni {
				if comune != "" && c.ID != comune {
					continue
				}
				if err := rule.Walk(ctx, svc.Reader(), "/"+c.ID, fn); err != nil {
					return err
				}
			}
			return nil
		},
	})
	if err != nil {
		return fmt.Errorf("catalogue import: %w", err)
	}
	out := stdout
	if reportFile != "" {
		rf, err := os.OpenFile(reportFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		defer rf.Close()
		writeImportReport(rf, rep, true)
		out = stdout
	}
	writeImportReport(out, rep, reportFile == "")
	verb := "imported"
	if dryRun {
		verb = "would import"
	}
	fmt.Fprintf(stdout, "%s %d of %d rows; %d bad rows, %d rows without a folder, %d folders without a row\n",
		verb, rep.Imported, rep.Rows, len(rep.Bad), len(rep.NoFolder), len(rep.NoRow))
	if dryRun {
		return nil
	}
	return recordCLI(cfg, st, by, "CATALOGUE", "/"+comune, "register="+args[0]+" imported="+strconv.Itoa(rep.Imported)+" bad="+strconv.Itoa(len(rep.Bad)))
}

// writeImportReport writes what an import did: every bad row and warning,
// and, when whole, the rows without a folder and the folders without a
// row (else only their counts, which the summary line gives).
func writeImportReport(w io.Writer, rep load.Report, whole bool) {
	for _, e := range rep.Bad {
		fmt.Fprintf(w, "bad row: %s\n", e.Error())
	}
	for _, wn := range rep.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn.String())
	}
	if !whole {
		return
	}
	for _, p := range rep.NoFolder {
		fmt.Fprintf(w, "no folder: %s/\n", p)
	}
	for _, p := range rep.NoRow {
		fmt.Fprintf(w, "no row: %s/\n", p)
	}
}
