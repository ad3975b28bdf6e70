package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/internal/cat"
	"github.com/bassareggiana/faldone/words"
)

var _ state.CatalogueStore = (*Store)(nil)

// maxIndexAttempts is how many times a job of the text index is tried
// before it is counted as failed for good.
const maxIndexAttempts = 3

const dossierColumns = `path, comune, year, type, number, deleted, record, updated, updated_by`

// PutDossier creates or replaces the record of d.Path, its words and its
// parcels, in one transaction.
func (s *Store) PutDossier(ctx context.Context, d state.Dossier) error {
	return s.PutDossiers(ctx, []state.Dossier{d})
}

// PutDossiers is PutDossier for each of ds, in one transaction.
func (s *Store) PutDossiers(ctx context.Context, ds []state.Dossier) error {
	for i := range ds {
		if err := cat.Check(ds[i]); err != nil {
			return fmt.Errorf("sqlite: put dossier: %w", err)
		}
		if ds[i].Comune == "" {
			ds[i].Comune, _, _ = strings.Cut(ds[i].Path[1:], "/")
		}
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		w, err := newRecordWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.close()
		for _, d := range ds {
			if err := w.put(ctx, d); err != nil {
				return fmt.Errorf("%q: %w", d.Path, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: put dossiers: %w", err)
	}
	return nil
}

// recordWriter writes records in one transaction through statements it
// prepares once: SQLite parses each text once for a whole batch, and a word
// of the vocabulary is written once a batch.
type recordWriter struct {
	upsert, delWords, addWords, delParcels, addParcel, addWord *sql.Stmt
	vocabulary                                                 map[string]bool
}

func newRecordWriter(ctx context.Context, tx *sql.Tx) (*recordWriter, error) {
	w := &recordWriter{vocabulary: map[string]bool{}}
	for _, st := range []struct {
		to  **sql.Stmt
		sql string
	}{
		{&w.upsert, `INSERT INTO dossiers (` + dossierColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (path) DO UPDATE SET comune = excluded.comune, year = excluded.year, type = excluded.type,
				number = excluded.number, deleted = excluded.deleted, record = excluded.record,
				updated = excluded.updated, updated_by = excluded.updated_by
			RETURNING id`},
		{&w.delWords, `DELETE FROM dossier_words WHERE rowid = ?`},
		{&w.addWords, `INSERT INTO dossier_words (rowid, words, streets) VALUES (?, ?, ?)`},
		{&w.delParcels, `DELETE FROM dossier_parcels WHERE dossier = ?`},
		{&w.addParcel, `INSERT INTO dossier_parcels (dossier, sheet, number, sub) VALUES (?, ?, ?, ?)`},
		{&w.addWord, `INSERT INTO catalogue_words (word) VALUES (?) ON CONFLICT DO NOTHING`},
	} {
		stmt, err := tx.PrepareContext(ctx, st.sql)
		if err != nil {
			w.close()
			return nil, err
		}
		*st.to = stmt
	}
	return w, nil
}

func (w *recordWriter) close() {
	for _, st := range []*sql.Stmt{w.upsert, w.delWords, w.addWords, w.delParcels, w.addParcel, w.addWord} {
		if st != nil {
			st.Close()
		}
	}
}

// put creates or replaces the record d, and indexes it.
func (w *recordWriter) put(ctx context.Context, d state.Dossier) error {
	var id int64
	err := w.upsert.QueryRowContext(ctx, d.Path, d.Comune, d.Year, d.Type, d.Number, d.Deleted, cat.Encode(d),
		d.Updated.UnixNano(), d.UpdatedBy).Scan(&id)
	if err != nil {
		return err
	}
	return w.index(ctx, id, d)
}

// index makes the words, the parcels and the vocabulary of the record id anew.
func (w *recordWriter) index(ctx context.Context, id int64, d state.Dossier) error {
	all, streets := cat.Text(d)
	if _, err := w.delWords.ExecContext(ctx, id); err != nil {
		return err
	}
	if _, err := w.addWords.ExecContext(ctx, id, words.Stems(all), words.Stems(streets)); err != nil {
		return err
	}
	if _, err := w.delParcels.ExecContext(ctx, id); err != nil {
		return err
	}
	for _, p := range d.Parcels {
		if _, err := w.addParcel.ExecContext(ctx, id, p.Sheet, p.Number, p.Sub); err != nil {
			return err
		}
	}
	for _, v := range cat.Vocabulary(d) {
		if w.vocabulary[v] {
			continue
		}
		w.vocabulary[v] = true
		if _, err := w.addWord.ExecContext(ctx, v); err != nil {
			return err
		}
	}
	return nil
}

// DossierByPath returns the record of the folder p.
func (s *Store) DossierByPath(ctx context.Context, p string) (state.Dossier, error) {
	d, err := scanDossier(s.rd.QueryRowContext(ctx, `SELECT `+dossierColumns+` FROM dossiers WHERE path = ?`, p))
	if errors.Is(err, sql.ErrNoRows) {
		return state.Dossier{}, state.ErrNotFound
	}
	if err != nil {
		return state.Dossier{}, fmt.Errorf("sqlite: dossier %q: %w", p, err)
	}
	return d, nil
}

// DossiersByPath returns the records of those of paths that have one.
func (s *Store) DossiersByPath(ctx context.Context, paths []string) (map[string]state.Dossier, error) {
	out := make(map[string]state.Dossier, len(paths))
	for chunk := range slices.Chunk(paths, 500) {
		in, args := inList(chunk)
		rows, err := s.r.QueryContext(ctx, `SELECT `+dossierColumns+` FROM dossiers WHERE path IN `+in, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: dossiers by path: %w", err)
		}
		for rows.Next() {
			d, err := scanDossier(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: dossiers by path: %w", err)
			}
			out[d.Path] = d
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: dossiers by path: %w", err)
		}
	}
	return out, nil
}

func scanDossier(row interface{ Scan(...any) error }) (state.Dossier, error) {
	var d state.Dossier
	var rec []byte
	var updated int64
	if err := row.Scan(&d.Path, &d.Comune, &d.Year, &d.Type, &d.Number, &d.Deleted, &rec, &updated, &d.UpdatedBy); err != nil {
		return d, err
	}
	d.Updated = time.Unix(0, updated).UTC()
	return d, cat.Decode(rec, &d)
}

// atOrBelow is the condition, on the column col, of the paths at p or
// below it, with its arguments.
func atOrBelow(col, p string) (string, []any) {
	lo, hi := below(p)
	return `(` + col + ` = ? OR (` + col + ` > ? AND ` + col + ` < ?))`, []any{p, lo, hi}
}

// DeleteDossiers drops the records at and below p and the text of their
// files.
func (s *Store) DeleteDossiers(ctx context.Context, p string) error {
	where, args := atOrBelow("path", p)
	fwhere, fargs := atOrBelow("dossier", p)
	err := s.write(ctx, func(tx *sql.Tx) error {
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM dossier_words WHERE rowid IN (SELECT id FROM dossiers WHERE ` + where + `)`, args},
			{`DELETE FROM dossiers WHERE ` + where, args},
			{`DELETE FROM file_words WHERE rowid IN (SELECT id FROM file_texts WHERE ` + fwhere + `)`, fargs},
			{`DELETE FROM file_texts WHERE ` + fwhere, fargs},
		} {
			if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete dossiers %q: %w", p, err)
	}
	return nil
}

// MoveDossiers moves the records at and below from below to, with the
// text of their files; the records' words are made anew, their folder's
// name being among them.
func (s *Store) MoveDossiers(ctx context.Context, from, to string) error {
	if from == to {
		return nil
	}
	where, args := atOrBelow("path", from)
	fwhere, fargs := atOrBelow("dossier", from)
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, `+dossierColumns+` FROM dossiers WHERE `+where+` ORDER BY path`, args...)
		if err != nil {
			return err
		}
		type moved struct {
			id int64
			d  state.Dossier
		}
		var ms []moved
		for rows.Next() {
			var m moved
			d, err := scanDossier(scanFunc(func(dest ...any) error { return rows.Scan(append([]any{&m.id}, dest...)...) }))
			if err != nil {
				rows.Close()
				return err
			}
			m.d = d
			ms = append(ms, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// Out of the way first: a move may put one record where another
		// of the same tree was.
		if _, err := tx.ExecContext(ctx, `UPDATE dossiers SET path = '#' || id WHERE `+where, args...); err != nil {
			return err
		}
		w, err := newRecordWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer w.close()
		for _, m := range ms {
			m.d.Path = to + strings.TrimPrefix(m.d.Path, from)
			m.d.Comune, _, _ = strings.Cut(m.d.Path[1:], "/")
			if _, err := tx.ExecContext(ctx, `UPDATE dossiers SET path = ?, comune = ? WHERE id = ?`, m.d.Path, m.d.Comune, m.id); err != nil {
				return err
			}
			if err := w.index(ctx, m.id, m.d); err != nil {
				return err
			}
		}
		n := len(from)
		_, err = tx.ExecContext(ctx, `UPDATE file_texts SET path = ? || substr(path, ?), dossier = ? || substr(dossier, ?) WHERE `+fwhere,
			append([]any{to, n + 1, to, n + 1}, fargs...)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: move dossiers %q to %q: %w", from, to, err)
	}
	return nil
}

// scanFunc makes a Scan of a function.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// MarkDossiersDeleted sets Deleted on the records at and below p.
func (s *Store) MarkDossiersDeleted(ctx context.Context, p string, deleted bool) error {
	where, args := atOrBelow("path", p)
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE dossiers SET deleted = ? WHERE `+where, append([]any{deleted}, args...)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: mark dossiers %q: %w", p, err)
	}
	return nil
}

// Dossiers calls fn with each record at and below p, in path order.
func (s *Store) Dossiers(ctx context.Context, p string, fn func(state.Dossier) error) error {
	where, args := atOrBelow("path", p)
	rows, err := s.r.QueryContext(ctx, `SELECT `+dossierColumns+` FROM dossiers WHERE `+where+` ORDER BY path`, args...)
	if err != nil {
		return fmt.Errorf("sqlite: dossiers %q: %w", p, err)
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanDossier(rows)
		if err != nil {
			return fmt.Errorf("sqlite: dossiers %q: %w", p, err)
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// match is the FTS5 query of terms: each term's stem, its word as a
// prefix, its near words' stems, any of them; every term.
func match(terms []words.Term) string {
	parts := make([]string, 0, len(terms))
	for _, t := range terms {
		var alts []string
		if t.Stem != "" {
			alts = append(alts, `"`+t.Stem+`"`)
		}
		switch {
		case t.Prefix:
			alts = append(alts, `"`+t.Folded+`"*`)
		case t.Stem == "":
			alts = append(alts, `"`+t.Folded+`"`)
		}
		for _, n := range t.Near {
			alts = append(alts, `"`+words.Stem(n)+`"`)
		}
		parts = append(parts, "("+strings.Join(alts, " OR ")+")")
	}
	return strings.Join(parts, " AND ")
}

// dossierFilter is the condition, on dossiers d, of q's filters and scope.
func dossierFilter(q state.DossierQuery) (string, []any) {
	conds := []string{"d.deleted = 0"}
	var args []any
	if len(q.Comuni) > 0 {
		in, a := inList(q.Comuni)
		conds, args = append(conds, "d.comune IN "+in), append(args, a...)
	}
	if q.YearFrom > 0 {
		conds, args = append(conds, "d.year >= ?"), append(args, q.YearFrom)
	}
	if q.YearTo > 0 {
		conds, args = append(conds, "d.year <= ?"), append(args, q.YearTo)
	}
	if q.Type != "" {
		conds, args = append(conds, "d.type = ?"), append(args, q.Type)
	}
	if q.Sheet != "" || q.Parcel != "" {
		var pc []string
		if q.Sheet != "" {
			pc, args = append(pc, "sheet = ?"), append(args, q.Sheet)
		}
		if q.Parcel != "" {
			pc, args = append(pc, "number = ?"), append(args, q.Parcel)
		}
		conds = append(conds, `d.id IN (SELECT dossier FROM dossier_parcels WHERE `+strings.Join(pc, " AND ")+`)`)
	}
	if !q.Scope.All {
		var sc []string
		if len(q.Scope.Comuni) > 0 {
			in, a := inList(q.Scope.Comuni)
			sc, args = append(sc, "d.comune IN "+in), append(args, a...)
		}
		for _, p := range q.Scope.Paths {
			w, a := atOrBelow("d.path", p)
			sc, args = append(sc, w), append(args, a...)
		}
		if len(sc) == 0 {
			sc = []string{"0"}
		}
		conds = append(conds, "("+strings.Join(sc, " OR ")+")")
	}
	return strings.Join(conds, " AND "), args
}

// OptimizeCatalogue lets SQLite renew the statistics its planner needs,
// after a bulk import.
func (s *Store) OptimizeCatalogue(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `PRAGMA optimize`); err != nil {
		return fmt.Errorf("sqlite: optimize catalogue: %w", err)
	}
	return nil
}

// SearchDossiers finds the dossiers q selects: those whose record's words
// match, and those with a file whose words do, each once, best first.
func (s *Store) SearchDossiers(ctx context.Context, q state.DossierQuery) (state.DossierResult, error) {
	if q.Limit < 0 || q.Offset < 0 {
		return state.DossierResult{}, errors.New("sqlite: search dossiers: Limit and Offset must not be negative")
	}
	filter, fargs := dossierFilter(q)
	street := match(words.Query(q.Street))
	var cands []cat.Candidate
	collect := func(query string, args []any, file bool) error {
		rows, err := s.r.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c cat.Candidate
			dest := []any{&c.Path, &c.Comune, &c.Type, &c.Year, &c.Score}
			if file {
				dest = append(dest, &c.File)
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			cands = append(cands, c)
		}
		return rows.Err()
	}
	var err error
	switch {
	case len(q.Terms) == 0 && street == "":
		err = collect(`SELECT d.path, d.comune, d.type, d.year, 0 FROM dossiers d WHERE `+filter, fargs, false)
	default:
		expr := match(q.Terms)
		if street != "" {
			expr = strings.TrimPrefix(expr+" AND {streets} : ("+street+")", " AND ")
		}
		err = collect(`SELECT d.path, d.comune, d.type, d.year, -bm25(dossier_words) FROM dossier_words
			JOIN dossiers d ON d.id = dossier_words.rowid WHERE dossier_words MATCH ? AND `+filter,
			append([]any{expr}, fargs...), false)
		if err == nil && len(q.Terms) > 0 {
			// The Comuni asked for narrow the files before they are grouped:
			// a dossier's path starts with its Comune's.
			within, wargs := "", []any(nil)
			if len(q.Comuni) > 0 {
				var ors []string
				for _, c := range q.Comuni {
					w, a := atOrBelow("f.dossier", "/"+c)
					ors, wargs = append(ors, w), append(wargs, a...)
				}
				within = " WHERE " + strings.Join(ors, " OR ")
			}
			cond, args := filter, append(append([]any{match(cat.Exact(q.Terms))}, wargs...), fargs...)
			if street != "" {
				cond += ` AND d.id IN (SELECT rowid FROM dossier_words WHERE dossier_words MATCH ?)`
				args = append(args, "{streets} : ("+street+")")
			}
			// Each dossier once, with its best file.
			// (SQLite gives the bare column path of the row with the max.)
			// CROSS JOIN keeps the matches the outer loop: else the planner
			// walks a Comune's every record to look each up among them.
			err = collect(`WITH w AS MATERIALIZED (SELECT rowid, -bm25(file_words) AS score FROM file_words WHERE file_words MATCH ?),
				m AS (SELECT f.dossier, max(w.score) AS score, f.path FROM w JOIN file_texts f ON f.id = w.rowid`+within+` GROUP BY f.dossier)
				SELECT d.path, d.comune, d.type, d.year, m.score, m.path FROM m CROSS JOIN dossiers d ON d.path = m.dossier WHERE `+cond, args, true)
		}
	}
	if err != nil {
		return state.DossierResult{}, fmt.Errorf("sqlite: search dossiers: %w", err)
	}
	page, res := cat.Rank(cands, q.Limit, q.Offset)
	if res.Hits, err = s.hits(ctx, page); err != nil {
		return state.DossierResult{}, fmt.Errorf("sqlite: search dossiers: %w", err)
	}
	return res, nil
}

// hits reads the records of a page of candidates, and the text of the
// files that matched.
func (s *Store) hits(ctx context.Context, page []cat.Candidate) ([]state.DossierHit, error) {
	hits := make([]state.DossierHit, len(page))
	for i, c := range page {
		d, err := scanDossier(s.rd.QueryRowContext(ctx, `SELECT `+dossierColumns+` FROM dossiers WHERE path = ?`, c.Path))
		if err != nil {
			return nil, err
		}
		hits[i] = state.DossierHit{Dossier: d, Rank: c.Score, File: c.File}
		if c.File != "" {
			if err := s.rd.QueryRowContext(ctx, `SELECT text FROM file_texts WHERE path = ?`, c.File).Scan(&hits[i].Text); err != nil {
				return nil, err
			}
		}
	}
	return hits, nil
}

// CatalogueWords returns the records' folded words that start with key.
func (s *Store) CatalogueWords(ctx context.Context, key string, limit int) ([]string, error) {
	if key == "" {
		return nil, nil
	}
	rows, err := s.rd.QueryContext(ctx, `SELECT word FROM catalogue_words WHERE word >= ? AND word < ? ORDER BY word LIMIT ?`,
		key, cat.After(key), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: catalogue words: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var w string
		if err := rows.Scan(&w); err != nil {
			return nil, fmt.Errorf("sqlite: catalogue words: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// PutFileText indexes the text of a file, replacing what was indexed of it.
func (s *Store) PutFileText(ctx context.Context, t state.FileText) error {
	return s.PutFileTexts(ctx, []state.FileText{t})
}

// PutFileTexts is PutFileText for each of ts, in one transaction.
func (s *Store) PutFileTexts(ctx context.Context, ts []state.FileText) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		// Each statement parsed once for the batch.
		var stmts [3]*sql.Stmt
		for k, q := range []string{
			`INSERT INTO file_texts (path, dossier, etag, text) VALUES (?, ?, ?, ?)
				ON CONFLICT (path) DO UPDATE SET dossier = excluded.dossier, etag = excluded.etag, text = excluded.text
				RETURNING id`,
			`DELETE FROM file_words WHERE rowid = ?`,
			`INSERT INTO file_words (rowid, words) VALUES (?, ?)`,
		} {
			stmt, err := tx.PrepareContext(ctx, q)
			if err != nil {
				return err
			}
			defer stmt.Close()
			stmts[k] = stmt
		}
		for _, t := range ts {
			var id int64
			if err := stmts[0].QueryRowContext(ctx, t.Path, t.Dossier, t.ETag, cat.Cut(t.Text)).Scan(&id); err != nil {
				return fmt.Errorf("%q: %w", t.Path, err)
			}
			if _, err := stmts[1].ExecContext(ctx, id); err != nil {
				return fmt.Errorf("%q: %w", t.Path, err)
			}
			if _, err := stmts[2].ExecContext(ctx, id, words.Stems(t.Text)); err != nil {
				return fmt.Errorf("%q: %w", t.Path, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: put file texts: %w", err)
	}
	return nil
}

// DeleteFileText drops the text of the file p, or of every file below it.
func (s *Store) DeleteFileText(ctx context.Context, p string) error {
	where, args := atOrBelow("path", p)
	err := s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM file_words WHERE rowid IN (SELECT id FROM file_texts WHERE `+where+`)`, args...); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM file_texts WHERE `+where, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete file text %q: %w", p, err)
	}
	return nil
}

// QueueIndex queues the files for indexing; a path queued again waits
// again, even while a replica works it.
func (s *Store) QueueIndex(ctx context.Context, paths []string, now time.Time) error {
	if len(paths) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO index_jobs (path, queued, holder, taken, attempt, failed) VALUES (?, ?, '', 0, 0, 0)
			ON CONFLICT (path) DO UPDATE SET queued = excluded.queued, attempt = 0, failed = 0`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, p := range paths {
			if _, err := stmt.ExecContext(ctx, p, now.UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: queue index: %w", err)
	}
	return nil
}

// TakeIndexJobs takes up to n jobs, the longest waiting first: those no
// replica holds, or holds since before stale.
func (s *Store) TakeIndexJobs(ctx context.Context, holder string, n int, now, stale time.Time) ([]state.IndexJob, error) {
	var jobs []state.IndexJob
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE index_jobs SET holder = ?, taken = ?
			WHERE path IN (SELECT path FROM index_jobs WHERE failed = 0 AND (holder = '' OR taken < ?) ORDER BY queued LIMIT ?)
			RETURNING path, queued, holder, taken, attempt`, holder, now.UnixNano(), stale.UnixNano(), n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var j state.IndexJob
			var queued, taken int64
			if err := rows.Scan(&j.Path, &queued, &j.Holder, &taken, &j.Attempt); err != nil {
				return err
			}
			j.Queued, j.Taken = time.Unix(0, queued).UTC(), time.Unix(0, taken).UTC()
			jobs = append(jobs, j)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: take index jobs: %w", err)
	}
	// RETURNING keeps no order of its own.
	cat.SortJobs(jobs)
	return jobs, nil
}

// FinishIndexJob removes a job done, unless the file was queued again
// since it was taken; a failure counts an attempt, and the job waits again
// until its attempts run out.
func (s *Store) FinishIndexJob(ctx context.Context, p string, failed bool) error {
	err := s.write(ctx, func(tx *sql.Tx) error {
		if !failed {
			if _, err := tx.ExecContext(ctx, `DELETE FROM index_jobs WHERE path = ? AND queued <= taken`, p); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `UPDATE index_jobs SET holder = '' WHERE path = ?`, p)
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE index_jobs SET holder = '', attempt = attempt + 1,
			failed = CASE WHEN attempt + 1 >= ? THEN 1 ELSE 0 END WHERE path = ?`, maxIndexAttempts, p)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: finish index job %q: %w", p, err)
	}
	return nil
}

// IndexStatus counts the files indexed and the jobs waiting and failed.
func (s *Store) IndexStatus(ctx context.Context) (state.IndexStatus, error) {
	var st state.IndexStatus
	err := s.rd.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM file_texts),
		(SELECT count(*) FROM index_jobs WHERE failed = 0), (SELECT count(*) FROM index_jobs WHERE failed = 1)`).
		Scan(&st.Files, &st.Waiting, &st.Failed)
	if err != nil {
		return st, fmt.Errorf("sqlite: index status: %w", err)
	}
	return st, nil
}
