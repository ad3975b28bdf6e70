package main

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/audit"
	"github.com/bassareggiana/faldone/auth/oidc"
	"github.com/bassareggiana/faldone/gateway"
	"github.com/bassareggiana/faldone/gateway/config"
	"github.com/bassareggiana/faldone/gateway/days"
	"github.com/bassareggiana/faldone/gateway/grants"
	"github.com/bassareggiana/faldone/state"
)

const grantUsage = `Usage: faldone grant add --person CF --path /comune/… --until YYYY-MM-DD --reason "Prot. N" [--write] [--email ADDRESS] [--by NAME]
       faldone grant list [--person CF] [--comune ID] [--all]
       faldone grant revoke ID [--by NAME]
Flags also: --config FILE, --data DIR. Run faldone grant SUBCOMMAND --help for its flags.`

// grantSynopsis is the usage of one grant subcommand; ok is false for an
// unknown one.
func grantSynopsis(sub string) (synopsis string, ok bool) {
	switch sub {
	case "add":
		return `Usage: faldone grant add --person CF --path /comune/… --until YYYY-MM-DD --reason "Prot. N" [--write] [--email ADDRESS] [--by NAME]

Give one person read (or, with --write, write) access to one dossier through the last day --until,
a day in time_zone, for the accesso agli atti request --reason. With mail configured, the person
is told by e-mail, at --email or else at the address of their last sign-in.`, true
	case "list":
		return "Usage: faldone grant list [--person CF] [--comune ID] [--all]\n\nList the grants in force (--all: expired ones too), times in time_zone.", true
	case "revoke":
		return "Usage: faldone grant revoke ID [--by NAME]\n\nRevoke a grant (its ID is in grant list).", true
	}
	return "", false
}

func grantCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{usage: grantUsage, msg: "grant: no subcommand"}
	}
	sub := args[0]
	if isHelp(sub) {
		fmt.Fprintln(stdout, grantUsage)
		return errHelp
	}
	synopsis, ok := grantSynopsis(sub)
	if !ok {
		return &usageError{usage: grantUsage, msg: fmt.Sprintf("grant: unknown subcommand %q", sub)}
	}
	var (
		person, gpath, until, reason, by, comune, email string
		write, all                                      bool
	)
	extra := func(fs *flag.FlagSet) {
		switch sub {
		case "add":
			fs.StringVar(&person, "person", "", "the grantee's fiscal number")
			fs.StringVar(&gpath, "path", "", "the granted subtree, e.g. /guastalla/2019/PC-2019-0042")
			fs.StringVar(&until, "until", "", "last day of the grant, YYYY-MM-DD in time_zone")
			fs.StringVar(&reason, "reason", "", "the protocol number of the access request")
			fs.BoolVar(&write, "write", false, "grant writing too")
			fs.StringVar(&email, "email", "", "where the grant's e-mails go (default: the address of the person's last sign-in)")
			fs.StringVar(&by, "by", "cli", "who grants")
		case "list":
			fs.StringVar(&person, "person", "", "only this person's grants (fiscal number)")
			fs.StringVar(&comune, "comune", "", "only this Comune")
			fs.BoolVar(&all, "all", false, "expired grants too")
		case "revoke":
			fs.StringVar(&by, "by", "cli", "who revokes")
		}
	}
	st, cfg, fs, err := storeCommand("grant "+sub, synopsis, args[1:], stdout, stderr, extra)
	if err != nil {
		return err
	}
	defer st.Close()
	ctx := context.Background()
	switch sub {
	case "add":
		known := func(c string) bool {
			return slices.ContainsFunc(cfg.Comuni, func(m config.Comune) bool { return m.ID == c })
		}
		archive, err := gateway.OpenArchive(ctx, cfg)
		if err != nil {
			return fmt.Errorf("open the archive to check --path: %w", err)
		}
		rules, closeLines, err := grantRules(cfg, st, archive)
		if err != nil {
			return err
		}
		defer closeLines()
		// The grant's e-mail goes out from here, and the command waits for
		// it; its failure is said on standard error and fails nothing.
		mail, err := gateway.Notices(cfg, st, nil, "cli-"+rand.Text()[:12], slog.New(slog.NewTextHandler(stderr, nil)))
		if err != nil {
			return err
		}
		if mail != nil {
			rules.Notify = mail
		}
		g, err := rules.Grant(ctx, grants.Request{Person: person, Path: gpath, Until: until, Reason: reason, Write: write, Email: email}, cliActor(by), known)
		switch {
		case errors.Is(err, grants.ErrBadPerson):
			return fmt.Errorf("--person: not a fiscal number")
		case errors.Is(err, grants.ErrBadPath):
			return fmt.Errorf("--path must be a folder inside a Comune (%q)", gpath)
		case errors.Is(err, grants.ErrNoFolder):
			return fmt.Errorf("--path %q: no such folder in the archive", gpath)
		case errors.Is(err, grants.ErrNotFolder):
			return fmt.Errorf("--path %q is a file: a grant gives a dossier, a folder", gpath)
		case errors.Is(err, grants.ErrBadUntil):
			return fmt.Errorf("--until %q: a day (YYYY-MM-DD) from today to %d years on", until, grants.MaxYears)
		case errors.Is(err, grants.ErrBadReason):
			return fmt.Errorf("--reason is required, at most %d characters", grants.MaxReason)
		case errors.Is(err, grants.ErrBadEmail):
			return fmt.Errorf("--email: not an e-mail address")
		case err != nil && !errors.Is(err, grants.ErrNotAudited):
			return err
		}
		fmt.Fprintf(stdout, "grant %s: %s may %s %s through %s (until %s, %s)\n", g.ID, g.Person, map[bool]string{false: "read", true: "read and write"}[write], g.Path,
			days.Last(g.Expires, cfg.Location).Format(days.Layout), g.Expires.In(cfg.Location).Format(time.RFC3339), cfg.Location)
		if err != nil {
			return err // made, but not in the access log: say so, and fail
		}
	case "list":
		f := state.GrantFilter{Comune: comune, Live: !all, Now: time.Now()}
		if person != "" {
			if f.Person, err = oidc.NormalizeFiscalNumber(person); err != nil {
				return fmt.Errorf("--person: not a fiscal number")
			}
		}
		gs, err := st.Grants(ctx, f)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		// The last valid day, and the instant it ends with its offset, in the
		// configured zone, which the header names.
		fmt.Fprintf(tw, "ID\tPERSON\tPATH\tMODE\tTHROUGH\tENDS (%s)\tREASON\tBY\n", cfg.Location)
		for _, g := range gs {
			mode := "read"
			if g.Write {
				mode = "write"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", g.ID, g.Person, g.Path, mode, days.Last(g.Expires, cfg.Location).Format(days.Layout),
				g.Expires.In(cfg.Location).Format(time.RFC3339), g.Reason, g.GrantedBy)
		}
		return tw.Flush()
	case "revoke":
		id := fs.Arg(0)
		if id == "" || fs.NArg() != 1 {
			return &usageError{usage: synopsis, msg: "grant revoke: give the grant's ID"}
		}
		rules, closeLines, err := grantRules(cfg, st, nil)
		if err != nil {
			return err
		}
		defer closeLines()
		_, err = rules.Revoke(ctx, id, cliActor(by), func(string) bool { return true })
		if errors.Is(err, grants.ErrNoGrant) {
			return fmt.Errorf("no grant %q", id)
		} else if err != nil && !errors.Is(err, grants.ErrNotAudited) {
			return err
		}
		if err != nil {
			fmt.Fprintf(stdout, "grant %s revoked\n", id)
			return err
		}
		fmt.Fprintf(stdout, "grant %s revoked\n", id)
	}
	return nil
}

const auditUsage = `Usage: faldone audit [--comune ID] [--person CF] [--path /…] [--since DAY] [--until DAY] [--csv | --excel]

Print the access log, or export it as CSV, filtered; days are days in time_zone, both included.
--excel writes the CSV that Excel in Italian opens as it is: ';' between cells, a UTF-8 BOM,
CRLF line ends. In both exports a cell that a spreadsheet would read as a formula (one beginning
with =, +, -, @, a tab or a CR) starts with an apostrophe instead, and each record has its exact
UTC time, its local time in time_zone and, last, the request target as the client sent it.`

func auditCmd(args []string, stdout, stderr io.Writer) error {
	var (
		comune, person, prefix, since, until string
		asCSV, asExcel                       bool
	)
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&comune, "comune", "", "only this Comune")
		fs.StringVar(&person, "person", "", "only this person (fiscal number or account)")
		fs.StringVar(&prefix, "path", "", "only this path and below it")
		fs.StringVar(&since, "since", "", "from this day (YYYY-MM-DD) or time (RFC 3339)")
		fs.StringVar(&until, "until", "", "through this day (YYYY-MM-DD, the day included) or before this time (RFC 3339)")
		fs.BoolVar(&asCSV, "csv", false, "export as CSV")
		fs.BoolVar(&asExcel, "excel", false, "export as CSV for Excel: ';' separated, with a UTF-8 BOM")
	}
	st, cfg, _, err := storeCommand("audit", auditUsage, args, stdout, stderr, extra)
	if err != nil {
		return err
	}
	defer st.Close()
	f := state.AuditFilter{Comune: comune}
	if prefix != "" {
		if f.PathPrefix, err = archive.Path(prefix); err != nil {
			return fmt.Errorf("--path %q: not a path", prefix)
		}
	}
	if person != "" {
		f.Person = person
		if cf, err := oidc.NormalizeFiscalNumber(person); err == nil {
			f.Person = cf
		}
	}
	// A day is a day in the configured zone: --since its first moment,
	// --until its end (the day included), as for grants.
	for _, t := range []struct {
		in    string
		out   *time.Time
		onDay func(string, *time.Location) (time.Time, error)
	}{{since, &f.Since, days.Start}, {until, &f.Until, days.End}} {
		if t.in == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.in)
		if err != nil {
			if v, err = t.onDay(t.in, cfg.Location); err != nil {
				return fmt.Errorf("date %q: use YYYY-MM-DD or RFC 3339", t.in)
			}
		}
		*t.out = v
	}
	header := []string{"time", "request_id", "person", "credential", "client", "method", "path", "destination", "comune", "status", "bytes", "local_time", "target", "sha256"}
	row := func(r state.AuditRecord) []string {
		return []string{r.Time.UTC().Format(time.RFC3339Nano), r.RequestID, r.Person, r.Credential, r.Client, r.Method, r.Path,
			r.Destination, r.Comune, strconv.Itoa(r.Status), strconv.FormatInt(r.Bytes, 10),
			r.Time.In(cfg.Location).Format("02/01/2006 15:04:05"), r.Target, r.SHA256}
	}
	if asCSV || asExcel {
		w := csv.NewWriter(stdout)
		if asExcel {
			io.WriteString(stdout, "\ufeff")
			w.Comma, w.UseCRLF = ';', true
		}
		w.Write(header)
		err := st.Audit(context.Background(), f, func(r state.AuditRecord) error { return w.Write(spreadsheetCells(row(r))) })
		w.Flush()
		if err != nil {
			return err
		}
		return w.Error()
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(header, "\t")))
	err = st.Audit(context.Background(), f, func(r state.AuditRecord) error {
		_, err := fmt.Fprintln(tw, strings.Join(row(r), "\t"))
		return err
	})
	if err != nil {
		return err
	}
	return tw.Flush()
}

// spreadsheetCells neutralizes the cells a spreadsheet would run as a
// formula (OWASP's advice on CSV injection): any field a client sent (a
// path, a Destination) may begin with "=HYPERLINK(…)", and a refused request
// needs no credentials. An apostrophe makes the cell text; the rest of the
// value stays as it was recorded.
func spreadsheetCells(cells []string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}

// grantRules are the grant rules of the server, with an access log that
// goes, as the server's, to the state store and to the JSON lines
// (audit.file), for a command that runs while the server may be holding
// its spool. The returned func closes the lines file.
func grantRules(cfg config.Config, st state.Store, archive grants.Archive) (*grants.Service, func(), error) {
	// The server's standard output is not the command's: "-" gives none.
	lines, closer, err := audit.OpenLines(*cfg.Audit.File, nil)
	if err != nil {
		return nil, nil, err
	}
	return &grants.Service{Store: st, Archive: archive, Location: cfg.Location,
		Audit: audit.Direct{Store: st, Lines: lines, Timeout: cfg.StateTimeout}}, func() { closer.Close() }, nil
}

// cliActor is who changes grants from the command line, for the log.
func cliActor(by string) grants.Actor {
	var id [8]byte
	rand.Read(id[:])
	return grants.Actor{Person: by, Credential: "cli", Client: "cli", RequestID: "cli-" + hex.EncodeToString(id[:])}
}
