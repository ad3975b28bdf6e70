// Package importer brings a delivery of the digitised archive — a folder
// of scanned dossiers, and the scanning firm's index of it (manifest.go) —
// into a Comune's storage, through the archive service: every file is
// written as any upload is (authorization, its SHA-256 computed as it
// streams and recorded, atomic: visible only once whole), several at once.
//
// An import is idempotent and resumable: a file already in the archive
// with the same SHA-256 is skipped without an upload, so an import killed
// part-way and started again ends as one that ran through, and two imports
// of one delivery store it once. What is wrong is reported, one Problem a
// file, in Italian for the archive staff: a file whose bytes are not the
// manifest's, a file of the manifest missing from the delivery or the
// reverse, a name the archive cannot store or Windows cannot show, a
// destination that holds other content (replaced only when asked).
package importer

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"crypto/sha256"

	"golang.org/x/text/unicode/norm"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/backends"
)

// Kind is what is wrong with a file of a delivery, as the report says it.
type Kind string

const (
	Mismatch  Kind = "impronta diversa"                   // the bytes are not the manifest's
	NotOnDisk Kind = "mancante nella consegna"            // in the manifest, not in the folder
	NotListed Kind = "non nel manifesto"                  // in the folder, not in the manifest
	BadName   Kind = "nome non valido"                    // cannot be stored, or shown on Windows
	Exists    Kind = "già presente con contenuto diverso" // and not replaced
	BadRow    Kind = "riga del manifesto non valida"
	Failed    Kind = "non importato" // could not be read or written
)

// Problem is one file that did not arrive as it should.
type Problem struct {
	Path   string // as the manifest or the delivery names it
	Kind   Kind
	Detail string
}

// Outcome is what became of a file.
type Outcome string

const (
	Imported Outcome = "importato"
	Replaced Outcome = "sostituito"
	Present  Outcome = "già presente" // the same SHA-256 is in the archive: skipped
	Planned  Outcome = "da importare" // a dry run's
	Refused  Outcome = "problema"
)

// File is the outcome for one file of the delivery.
type File struct {
	Rel     string // relative path in the delivery
	Path    string // namespace path in the archive ("" when the name was refused)
	Size    int64
	Outcome Outcome
	SHA256  [32]byte // of the content, when known
}

// Options configure an import.
type Options struct {
	// From is the delivery's folder on this machine.
	From string
	// Root is the archive folder that receives it (a namespace path, in a
	// Comune); missing folders on the way are made.
	Root string
	// Manifest, when not nil, lists the files and their SHA-256: each must
	// match, and files it does not list are not imported.
	Manifest *Manifest
	// DryRun checks everything and writes nothing.
	DryRun bool
	// Replace overwrites a destination that holds other content.
	Replace bool
	// Jobs is how many files are written at once (default 4).
	Jobs int
	// Problem and Done are told of each problem and of each file's
	// outcome, one call at a time. May be nil.
	Problem func(Problem)
	Done    func(File)
}

// Progress is read while an import runs.
type Progress struct {
	Files, Bytes          atomic.Int64 // done so far
	TotalFiles, TotalSize atomic.Int64 // of the delivery, once counted
	Current               atomic.Value // string: a file being written
}

// Summary counts an import's outcomes.
type Summary struct {
	Files, Bytes                       int64
	Imported, Replaced, Present, Plans int64
	Problems                           map[Kind]int64
}

// OK reports whether everything arrived and matched.
func (s Summary) OK() bool { return len(s.Problems) == 0 }

// Count walks the delivery and returns its files and bytes, for progress.
func Count(from string) (files, bytes int64, err error) {
	err = filepath.WalkDir(from, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files++
		bytes += info.Size()
		return nil
	})
	return files, bytes, err
}

// job is a file of the delivery to import.
type job struct {
	rel, orig, abs string // relative path composed and as on the disk, absolute path
	size           int64
}

type run struct {
	ctx    context.Context
	svc    *archive.Service
	caller archive.Caller
	opts   Options
	prog   *Progress

	mu   sync.Mutex // guards what follows, and the calls to opts.Problem and opts.Done
	sum  Summary
	seen map[string]bool // manifest rows found in the delivery

	mkMu sync.Mutex      // folders are made one at a time: two workers never race to make one
	made map[string]bool // folders made or seen, guarded by mkMu

	big chan struct{} // the big files being written
}

// bigFile is the size from which a file's upload is a multipart one that
// buffers parts; bigAtOnce of them are written at once (with small files
// alongside), so that an import stays within 128 MiB.
const (
	bigFile   = 16 << 20
	bigAtOnce = 1
)

// Run imports the delivery as caller (the command line's operator, whose
// policy lets them write into Root). An error ends the import: the store
// or the storage unavailable, the context cancelled, the delivery folder
// unreadable; problems with single files are reported and counted.
func Run(ctx context.Context, svc *archive.Service, caller archive.Caller, opts Options, prog *Progress) (Summary, error) {
	if opts.Jobs <= 0 {
		opts.Jobs = 4
	}
	if prog == nil {
		prog = &Progress{}
	}
	root, err := archive.Path(opts.Root)
	if err != nil || root == "/" {
		return Summary{}, fmt.Errorf("import: destination %q: not a folder of a Comune", opts.Root)
	}
	opts.Root = root
	r := &run{ctx: ctx, svc: svc, caller: caller, opts: opts, prog: prog,
		sum: Summary{Problems: map[Kind]int64{}}, seen: map[string]bool{}, made: map[string]bool{},
		big: make(chan struct{}, bigAtOnce)}
	if m := opts.Manifest; m != nil {
		for _, p := range m.Bad {
			r.problem(p)
		}
	}
	if !opts.DryRun {
		if err := r.mkdirAll(root); err != nil {
			return r.sum, fmt.Errorf("import: destination %s: %w", root, err)
		}
	}

	jobs := make(chan job)
	var (
		wg      sync.WaitGroup
		fatal   error
		fatalMu sync.Mutex
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.ctx = ctx
	stop := func(err error) {
		fatalMu.Lock()
		if fatal == nil {
			fatal = err
		}
		fatalMu.Unlock()
		cancel()
	}
	for range opts.Jobs {
		wg.Go(func() {
			for j := range jobs {
				if err := r.file(j); err != nil {
					stop(err)
				}
			}
		})
	}
	walkErr := filepath.WalkDir(opts.From, func(abs string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		orig, err := filepath.Rel(opts.From, abs)
		if err != nil || orig == "." {
			return err
		}
		orig = filepath.ToSlash(orig)
		rel := norm.NFC.String(orig)
		switch {
		case d.IsDir():
			// A folder of the delivery, empty ones too, is a folder of the
			// archive; what it holds comes through its files.
			dest, ok := r.destination(rel, orig)
			if !ok {
				// Reported once, for the folder: its files were found.
				if m := opts.Manifest; m != nil {
					r.mu.Lock()
					for p := range m.Rows {
						if strings.HasPrefix(p, rel+"/") {
							r.seen[p] = true
						}
					}
					r.mu.Unlock()
				}
				return fs.SkipDir
			}
			if !opts.DryRun {
				if err := r.mkdirAll(dest); err != nil {
					return fmt.Errorf("folder %s: %w", dest, err)
				}
			}
			return nil
		case !d.Type().IsRegular():
			r.problem(Problem{Path: orig, Kind: Failed, Detail: "non è un file (collegamento o file speciale)"})
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		select {
		case jobs <- job{rel: rel, orig: orig, abs: abs, size: info.Size()}:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
	close(jobs)
	wg.Wait()
	if fatal != nil {
		return r.sum, fatal
	}
	if walkErr != nil {
		return r.sum, fmt.Errorf("import: read the delivery: %w", walkErr)
	}
	if m := opts.Manifest; m != nil {
		var missing []*Row
		for rel, row := range m.Rows {
			if !r.seen[rel] {
				missing = append(missing, row)
			}
		}
		slices.SortFunc(missing, func(a, b *Row) int { return a.Line - b.Line })
		for _, row := range missing {
			r.problem(Problem{Path: row.Path, Kind: NotOnDisk, Detail: fmt.Sprintf("riga %d del manifesto: il file non è nella consegna", row.Line)})
		}
	}
	return r.sum, nil
}

// destination is the namespace path of the delivery's rel; ok is false,
// and the problem reported, when a name on the way cannot be stored or
// shown on Windows.
func (r *run) destination(rel, orig string) (string, bool) {
	for seg := range strings.SplitSeq(rel, "/") {
		if !archive.ShowableOnWindows(seg) {
			r.problem(Problem{Path: orig, Kind: BadName, Detail: fmt.Sprintf("%q non si può aprire da Windows (caratteri <>:\"|?*, punto o spazio finale, nome riservato)", seg)})
			return "", false
		}
	}
	p, err := archive.Path(r.opts.Root + "/" + rel)
	if err != nil {
		r.problem(Problem{Path: orig, Kind: BadName, Detail: "nome non memorizzabile (caratteri di controllo, non UTF-8, o più lungo di 255 byte; percorso oltre 1024 byte)"})
		return "", false
	}
	return p, true
}

func (r *run) problem(p Problem) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Problems[p.Kind]++
	if r.opts.Problem != nil {
		r.opts.Problem(p)
	}
}

func (r *run) done(f File) {
	r.prog.Files.Add(1)
	r.prog.Bytes.Add(f.Size)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum.Files++
	r.sum.Bytes += f.Size
	switch f.Outcome {
	case Imported:
		r.sum.Imported++
	case Replaced:
		r.sum.Replaced++
	case Present:
		r.sum.Present++
	case Planned:
		r.sum.Plans++
	}
	if r.opts.Done != nil {
		r.opts.Done(f)
	}
}

// refuse reports a problem with the file j, and its outcome.
func (r *run) refuse(j job, dest string, k Kind, detail string) {
	r.problem(Problem{Path: j.orig, Kind: k, Detail: detail})
	r.done(File{Rel: j.rel, Path: dest, Size: j.size, Outcome: Refused})
}

// file imports one file; an error is one that ends the import.
func (r *run) file(j job) error {
	var want *[32]byte
	if m := r.opts.Manifest; m != nil {
		if row := m.Rows[j.rel]; row != nil {
			r.mu.Lock()
			r.seen[j.rel] = true // found, whatever becomes of it
			r.mu.Unlock()
			want = &row.SHA256
		}
	}
	dest, ok := r.destination(j.rel, j.orig)
	if !ok {
		r.done(File{Rel: j.rel, Size: j.size, Outcome: Refused})
		return nil
	}
	if r.opts.Manifest != nil && want == nil {
		r.refuse(j, dest, NotListed, "il file è nella consegna ma non nel manifesto: non importato")
		return nil
	}
	r.prog.Current.Store(j.orig)
	op := r.svc.Begin(r.ctx, r.caller)
	if want == nil {
		// No manifest: the delivery's own bytes say what the file is, so
		// that one already in the archive with them is skipped.
		sum, err := hashFile(j.abs)
		if err != nil {
			r.refuse(j, dest, Failed, unreadable(err))
			return nil
		}
		want = &sum
	}
	if r.opts.DryRun {
		return r.plan(op, j, dest, *want)
	}
	if err := r.mkdirAll(path.Dir(dest)); err != nil {
		if archive.IsUnavailable(err) {
			return fmt.Errorf("import: folder of %s: %w", dest, err)
		}
		r.refuse(j, dest, Failed, "cartella non creata: "+err.Error())
		return nil
	}
	if j.size >= bigFile {
		// A big file's upload holds its parts in memory: a few at once
		// keep the import's memory bounded, whatever the delivery holds.
		select {
		case r.big <- struct{}{}:
			defer func() { <-r.big }()
		case <-r.ctx.Done():
			return r.ctx.Err()
		}
	}
	f, err := os.Open(j.abs)
	if err != nil {
		r.refuse(j, dest, Failed, unreadable(err))
		return nil
	}
	defer f.Close()
	// One look at the destination, made by the write itself: the same
	// content there is kept without an upload, other content is kept
	// unless Replace.
	w, err := op.PutWith(dest, f, j.size, archive.PutOptions{SHA256: want, KeepSame: true, NoReplace: !r.opts.Replace})
	var (
		dm     *archive.DigestMismatchError
		ex     *archive.ExistsError
		closed *archive.ClosedError
	)
	switch {
	case errors.As(err, &dm):
		r.refuse(j, dest, Mismatch, mismatch(dm.Want, dm.Got))
		return nil
	case errors.As(err, &ex):
		detail := otherContent(ex.SHA256, *want)
		if !ex.Known {
			detail = "nell'archivio c'è già un file con questo nome, la cui impronta non è registrata"
		}
		r.refuse(j, dest, Exists, detail)
		return nil
	case errors.Is(err, backends.ErrIsDir):
		r.refuse(j, dest, Exists, folderInTheWay)
		return nil
	case errors.As(err, &closed):
		r.refuse(j, dest, Failed, fmt.Sprintf("il fascicolo %s è chiuso dal %s: non si può modificare", closed.Path, closed.Closed.Format("02/01/2006")))
		return nil
	case errors.Is(err, archive.ErrIncomplete):
		r.refuse(j, dest, Failed, "il file è cambiato durante la lettura")
		return nil
	case archive.IsUnavailable(err):
		return fmt.Errorf("import: %s: %w", dest, err)
	case err != nil:
		r.refuse(j, dest, Failed, "scrittura non riuscita: "+err.Error())
		return nil
	}
	out := Imported
	switch {
	case w.Kept:
		out = Present
	case !w.Created:
		out = Replaced
	}
	r.done(File{Rel: j.rel, Path: dest, Size: w.Entry.Size, Outcome: out, SHA256: w.SHA256})
	return nil
}

// plan is a dry run's look at one file: what the import would do, and the
// problems it would meet, without writing anything (a file with no
// recorded digest is not read: the import would).
func (r *run) plan(op *archive.Op, j job, dest string, want [32]byte) error {
	if r.opts.Manifest != nil {
		// The bytes are checked against the manifest, as the write would.
		sum, err := hashFile(j.abs)
		if err != nil {
			r.refuse(j, dest, Failed, unreadable(err))
			return nil
		}
		if sum != want {
			r.refuse(j, dest, Mismatch, mismatch(want, sum))
			return nil
		}
	}
	e, err := op.Info(dest)
	switch {
	case errors.Is(err, backends.ErrNotFound):
		r.done(File{Rel: j.rel, Path: dest, Size: j.size, Outcome: Planned, SHA256: want})
		return nil
	case err != nil:
		return fmt.Errorf("import: %s: %w", dest, err)
	case e.IsDir:
		r.refuse(j, dest, Exists, folderInTheWay)
		return nil
	}
	stored, known, err := op.Digest(e)
	if err != nil {
		return fmt.Errorf("import: %s: %w", dest, err)
	}
	switch {
	case known && stored == want:
		r.done(File{Rel: j.rel, Path: dest, Size: j.size, Outcome: Present, SHA256: want})
	case known && !r.opts.Replace:
		r.refuse(j, dest, Exists, otherContent(stored, want))
	default:
		// Replaced, or without a digest: compared when the import reads it.
		r.done(File{Rel: j.rel, Path: dest, Size: j.size, Outcome: Planned, SHA256: want})
	}
	return nil
}

// The details of the problems that an import and its dry run both meet,
// worded once so that a dry run reports what the import would.

const folderInTheWay = "nell'archivio al suo posto c'è una cartella"

func unreadable(err error) string { return "lettura non riuscita: " + err.Error() }

func mismatch(want, got [32]byte) string { return fmt.Sprintf("attesa %x, calcolata %x", want, got) }

func otherContent(stored, delivered [32]byte) string {
	return fmt.Sprintf("nell'archivio %x, nella consegna %x: non sostituito (--replace per sostituirlo)", stored, delivered)
}

// mkdirAll makes the folder p and those above it that are missing, each
// once an import.
func (r *run) mkdirAll(p string) error {
	r.mkMu.Lock()
	defer r.mkMu.Unlock()
	return r.mkdirLocked(p)
}

func (r *run) mkdirLocked(p string) error {
	// The root and a Comune's own folder always exist.
	if r.made[p] || p == "/" || path.Dir(p) == "/" {
		return nil
	}
	if err := r.mkdirLocked(path.Dir(p)); err != nil {
		return err
	}
	if err := r.svc.Begin(r.ctx, r.caller).Mkdir(p); err != nil && !errors.Is(err, archive.ErrExists) {
		return err
	}
	r.made[p] = true
	return nil
}

// hashFile is the SHA-256 of the file at abs.
func hashFile(abs string) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(abs)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	return [32]byte(h.Sum(nil)), nil
}

// Hex writes a digest as the report does.
func Hex(sum [32]byte) string { return hex.EncodeToString(sum[:]) }
