package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/archive/importer"
	"github.com/bassareggiana/faldone/audit"
	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/catalogue"
	"github.com/bassareggiana/faldone/catalogue/load"
	"github.com/bassareggiana/faldone/catalogue/register"
	"github.com/bassareggiana/faldone/gateway"
	"github.com/bassareggiana/faldone/gateway/config"
	"github.com/bassareggiana/faldone/state"
)

const importUsage = `Usage: faldone import --comune ID --from DIR [--to /ANNO/…] [--manifest FILE.csv] [--dry-run]
                      [--replace] [--report FILE.csv] [--jobs N] [--by NAME] [--config FILE] [--data DIR]

Bring a delivery of the digitised archive into a Comune: every file of DIR is written under the
same relative path (below --to), its SHA-256 checked against the manifest's (columns percorso and
sha256; ";" or ","; UTF-8 or Windows-1252) and recorded. A file already in the archive with the
same SHA-256 is skipped: an import stopped part-way is finished by running it again. Problems go to
the report (percorso;problema;dettaglio) and standard error; the exit status is 0 only when every
file arrived and matched. Runs whether the server is running or not.`

// errImportProblems is the exit of an import that found problems.
var errImportProblems = errors.New("import: some files did not arrive as they should; see the report")

// operator may do anything: the command line runs with the server's own
// configuration and storage credentials.
type operator struct{}

func (operator) Decide(access.Action, string) access.Verdict { return access.Allow }

func importCmd(args []string, stdout, stderr io.Writer) error {
	var (
		comune, from, to, manifest, report, by string
		dryRun, replace                        bool
		jobs                                   int
	)
	st, cfg, _, err := storeCommand("import", importUsage, args, stdout, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&comune, "comune", "", "the Comune whose archive receives the delivery (its id)")
		fs.StringVar(&from, "from", "", "the delivery's folder")
		fs.StringVar(&to, "to", "/", "the folder of the Comune's archive that receives it, e.g. /2019")
		fs.StringVar(&manifest, "manifest", "", "the scanning firm's index (CSV)")
		fs.BoolVar(&dryRun, "dry-run", false, "check everything, write nothing")
		fs.BoolVar(&replace, "replace", false, "replace files of the archive that hold other content")
		fs.StringVar(&report, "report", "", "write the problems, one a row, to this CSV file")
		fs.IntVar(&jobs, "jobs", max(4, 2*runtime.NumCPU()), "files written at once")
		fs.StringVar(&by, "by", "", "who imports, for the access log (default: the system user)")
	})
	if err != nil {
		return err
	}
	defer st.Close()
	switch {
	case comune == "" || from == "":
		return &usageError{usage: importUsage, msg: "import: --comune and --from are required"}
	case jobs < 1 || jobs > 64:
		return &usageError{usage: importUsage, msg: "import: --jobs must be from 1 to 64"}
	case !slices.ContainsFunc(cfg.Comuni, func(c config.Comune) bool { return c.ID == comune }):
		return fmt.Errorf("import: no Comune %q in the configuration", comune)
	}
	if info, err := os.Stat(from); err != nil || !info.IsDir() {
		return fmt.Errorf("import: --from %q: not a folder", from)
	}
	sub, err := archive.Path(to)
	if err != nil {
		return fmt.Errorf("import: --to %q: not a path", to)
	}
	root := "/" + comune + strings.TrimSuffix(sub, "/")
	by = operatorName(by)
	var m *importer.Manifest
	if manifest != "" {
		if m, err = importer.ReadManifest(manifest); err != nil {
			return err
		}
	}
	var rep *csv.Writer
	if report != "" {
		f, err := os.Create(report)
		if err != nil {
			return fmt.Errorf("import: report: %w", err)
		}
		defer f.Close()
		io.WriteString(f, "\ufeff") // Excel reads the accents as UTF-8
		rep = csv.NewWriter(f)
		rep.Comma, rep.UseCRLF = ';', true
		rep.Write([]string{"percorso", "problema", "dettaglio"})
		defer rep.Flush()
	}

	// What the import holds at once is some 40 MB (a big file's parts in
	// flight, the small files' buffers); a soft limit has the collector
	// keep the rest from piling up while the cores are busy uploading, so
	// that an import fits beside the server on a small machine.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(96 << 20)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ns, err := gateway.OpenArchive(ctx, cfg)
	if err != nil {
		return err
	}
	lines, closer, err := audit.OpenLines(*cfg.Audit.File, nil)
	if err != nil {
		return err
	}
	defer closer.Close()
	// The import's records go through a spool of its own, as the server's
	// do: shipped to the store in batches rather than a commit a file, and
	// kept across a kill, to be shipped by the next import. Another import
	// holding it, this one records directly.
	var log interface{ Record(state.AuditRecord) error }
	if spool, err := audit.Open(audit.Options{Dir: filepath.Join(cfg.DataDir, "audit-spool-import"), Lines: lines,
		MaxBytes: cfg.Audit.SpoolMaxBytes, ShipTimeout: cfg.Audit.ShipTimeout}, st); err == nil {
		spool.Start()
		defer func() {
			if err := spool.Close(time.Minute); err != nil {
				fmt.Fprintln(stderr, "faldone: import: access log:", err)
			}
			if left := spool.Backlog(); left > 0 {
				fmt.Fprintf(stderr, "faldone: import: %d bytes of access-log records wait in the spool, for the next import\n", left)
			}
		}()
		log = spool
	} else {
		log = audit.Direct{Store: st, Lines: lines, Timeout: cfg.StateTimeout}
	}
	batch := audit.NewKey()
	rec := func(method, p, target string, status int, n int64, sum string) {
		r := state.AuditRecord{Time: time.Now().UTC(), RequestID: "import-" + batch, Person: by, Credential: "cli",
			Client: "cli", Method: method, Path: p, Target: target, Comune: comune, Status: status, Bytes: n, SHA256: sum}
		if err := log.Record(r); err != nil {
			fmt.Fprintln(stderr, "faldone: import: access log:", err)
		}
	}
	if !dryRun {
		rec("IMPORT-BEGIN", root, "from="+from, 200, 0, "")
	}

	prog := &importer.Progress{}
	files, size, err := importer.Count(from)
	if err != nil {
		return fmt.Errorf("import: read the delivery: %w", err)
	}
	prog.TotalFiles.Store(files)
	prog.TotalSize.Store(size)
	show := newProgressLine(stderr, prog)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { show.run(done) })

	svc := archive.New(ns, st, gateway.ArchiveOptions(cfg, gateway.Catalogue(cfg, st, nil), nil))
	began := time.Now()
	sum, err := importer.Run(ctx, svc, archive.Caller{Principal: by, From: "import", Policy: operator{}}, importer.Options{
		From: from, Root: root, Manifest: m, DryRun: dryRun, Replace: replace, Jobs: jobs,
		Problem: func(p importer.Problem) {
			show.print(fmt.Sprintf("%s: %s: %s", p.Kind, p.Path, p.Detail))
			if rep != nil {
				rep.Write(spreadsheetCells([]string{p.Path, string(p.Kind), p.Detail}))
			}
		},
		Done: func(f importer.File) {
			if dryRun || f.Path == "" {
				return
			}
			status := map[importer.Outcome]int{importer.Imported: 201, importer.Replaced: 204, importer.Present: 200}[f.Outcome]
			if status == 0 {
				status = 422 // refused: the problem is in the report
			}
			sum := ""
			if f.SHA256 != ([32]byte{}) {
				sum = importer.Hex(f.SHA256)
			}
			rec("IMPORT", f.Path, f.Rel, status, f.Size, sum)
		},
	}, prog)
	close(done)
	wg.Wait()
	problems := int64(0)
	for _, n := range sum.Problems {
		problems += n
	}
	verb := "imported"
	if dryRun {
		verb = "checked (dry run, nothing written)"
	}
	fmt.Fprintf(stdout, "%s %d files, %s, in %v: %d new, %d replaced, %d already there, %d to import; %d problems\n",
		verb, sum.Files, bytesText(sum.Bytes), time.Since(began).Round(time.Second),
		sum.Imported, sum.Replaced, sum.Present, sum.Plans, problems)
	for _, k := range slices.Sorted(func(yield func(importer.Kind) bool) {
		for k := range sum.Problems {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(stdout, "  %s: %d\n", k, sum.Problems[k])
	}
	if !dryRun {
		status := 200
		if err != nil || !sum.OK() {
			status = 207
		}
		rec("IMPORT-END", root, fmt.Sprintf("from=%s files=%d imported=%d replaced=%d present=%d problems=%d",
			from, sum.Files, sum.Imported, sum.Replaced, sum.Present, problems), status, sum.Bytes, "")
	}
	if err == nil && !dryRun && m != nil {
		catalogueFromManifest(ctx, cfg, st, m, root, by, stdout)
	}
	if err != nil {
		return err
	}
	if !sum.OK() {
		return errImportProblems
	}
	return nil
}

// catalogueFromManifest completes the records of the delivery's dossiers
// with what its manifest says of them (its columns beyond percorso and
// sha256, read as a register's): a failure is said, and the files stay
// imported.
func catalogueFromManifest(ctx context.Context, cfg config.Config, st state.Store, m *importer.Manifest, root, by string, stdout io.Writer) {
	var files []load.FileColumns
	for _, r := range m.Rows {
		files = append(files, load.FileColumns{Path: strings.TrimSuffix(root, "/") + "/" + r.Rel, Columns: r.Columns})
	}
	reg := load.FromManifest(files, catalogue.Rule{Depth: cfg.Catalogue.Depth})
	if reg == nil {
		return
	}
	known := map[string]string{}
	for _, c := range cfg.Comuni {
		known[c.ID] = c.ID
		if c.Name != "" {
			known[c.Name] = c.ID
		}
	}
	rep, err := load.Import(ctx, st, bytes.NewReader(reg), load.Options{
		Register: register.Options{Comuni: known, Columns: register.Mapping(cfg.Catalogue.Columns)}, By: by})
	if err != nil {
		fmt.Fprintln(stdout, "catalogue: the manifest's records not kept:", err)
		return
	}
	fmt.Fprintf(stdout, "catalogue: %d dossier records completed from the manifest", rep.Imported)
	if len(rep.Bad) > 0 {
		fmt.Fprintf(stdout, "; %d not, their values refused:", len(rep.Bad))
		for _, e := range rep.Bad {
			fmt.Fprintf(stdout, "\n  %s", e.Error())
		}
	}
	fmt.Fprintln(stdout)
}

// progressLine shows an import's progress on standard error: one line
// rewritten in place on a terminal, a plain line every ten seconds
// otherwise (a log, a pipe). Problems are printed above it.
type progressLine struct {
	w     io.Writer
	prog  *importer.Progress
	tty   bool
	began time.Time
	mu    sync.Mutex
	width int // of the line shown, to clear it
}

func newProgressLine(w io.Writer, prog *importer.Progress) *progressLine {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progressLine{w: w, prog: prog, tty: tty, began: time.Now()}
}

func (p *progressLine) run(done <-chan struct{}) {
	every := 10 * time.Second
	if p.tty {
		every = 250 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-done:
			p.show(true)
			return
		case <-t.C:
			p.show(false)
		}
	}
}

func (p *progressLine) line() string {
	files, bytes := p.prog.Files.Load(), p.prog.Bytes.Load()
	tf, ts := p.prog.TotalFiles.Load(), p.prog.TotalSize.Load()
	el := time.Since(p.began).Seconds()
	rate := float64(bytes) / max(el, 0.001)
	eta := "?"
	if rate > 0 && ts > bytes {
		eta = (time.Duration(float64(ts-bytes)/rate) * time.Second).Round(time.Second).String()
	} else if ts <= bytes {
		eta = "0s"
	}
	cur, _ := p.prog.Current.Load().(string)
	return fmt.Sprintf("%d/%d files, %s/%s, %s/s, ETA %s  %s", files, tf, bytesText(bytes), bytesText(ts), bytesText(int64(rate)), eta, cur)
}

func (p *progressLine) show(last bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.line()
	if !p.tty {
		fmt.Fprintln(p.w, l)
		return
	}
	if w, _, err := term.GetSize(int(p.w.(*os.File).Fd())); err == nil && len([]rune(l)) > w-1 {
		l = string([]rune(l)[:max(w-1, 0)])
	}
	fmt.Fprintf(p.w, "\r%-*s", p.width, l)
	p.width = len([]rune(l))
	if last {
		fmt.Fprintln(p.w)
	}
}

// print writes s above the progress line.
func (p *progressLine) print(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.width > 0 {
		fmt.Fprintf(p.w, "\r%-*s\r", p.width, "")
		p.width = 0
	}
	fmt.Fprintln(p.w, s)
}
