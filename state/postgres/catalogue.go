package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/internal/cat"
	"github.com/bassareggiana/faldone/words"
)

var _ state.CatalogueStore = (*Store)(nil)

// maxIndexAttempts is how many times a job of the text index is tried
// before it is counted as failed for good.
const maxIndexAttempts = 3

// textConfig is the text search configuration of the catalogue's words.
const textConfig = "pg_catalog.italian"

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
			return fmt.Errorf("postgres: put dossier: %w", err)
		}
		if !storable(ds[i].Path) {
			return fmt.Errorf("postgres: put dossier %q: text a store cannot hold", ds[i].Path)
		}
		if ds[i].Comune == "" {
			ds[i].Comune, _, _ = strings.Cut(ds[i].Path[1:], "/")
		}
	}
	// One round trip for the lot: each record, its parcels (made anew in
	// the same statement) and its vocabulary, queued in one batch.
	var b pgx.Batch
	for _, d := range ds {
		all, streets := cat.Text(d)
		sheets, numbers, subs := make([]string, len(d.Parcels)), make([]string, len(d.Parcels)), make([]string, len(d.Parcels))
		for i, p := range d.Parcels {
			sheets[i], numbers[i], subs[i] = p.Sheet, p.Number, p.Sub
		}
		b.Queue(`WITH d AS (
				INSERT INTO dossiers (`+dossierColumns+`, words, streets)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, to_tsvector('`+textConfig+`', $10), to_tsvector('`+textConfig+`', $11))
				ON CONFLICT (path) DO UPDATE SET comune = excluded.comune, year = excluded.year, type = excluded.type,
					number = excluded.number, deleted = excluded.deleted, record = excluded.record,
					updated = excluded.updated, updated_by = excluded.updated_by, words = excluded.words, streets = excluded.streets
				RETURNING id),
			gone AS (DELETE FROM dossier_parcels WHERE dossier = (SELECT id FROM d))
			INSERT INTO dossier_parcels (dossier, sheet, number, sub)
			SELECT (SELECT id FROM d), s, n, u FROM unnest($12::text[], $13::text[], $14::text[]) AS p (s, n, u)`,
			d.Path, d.Comune, d.Year, d.Type, d.Number, d.Deleted, cat.Encode(d), d.Updated, d.UpdatedBy,
			words.Folded(all), words.Folded(streets), sheets, numbers, subs)
		if v := cat.Vocabulary(d); len(v) > 0 {
			b.Queue(`INSERT INTO catalogue_words (word) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, v)
		}
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: put dossiers: %w", err)
	}
	return nil
}

// indexDossier makes the parcels and the vocabulary of the record id anew.
func indexDossier(ctx context.Context, tx pgx.Tx, id int64, d state.Dossier) error {
	if _, err := tx.Exec(ctx, `DELETE FROM dossier_parcels WHERE dossier = $1`, id); err != nil {
		return err
	}
	for _, p := range d.Parcels {
		if _, err := tx.Exec(ctx, `INSERT INTO dossier_parcels (dossier, sheet, number, sub) VALUES ($1, $2, $3, $4)`,
			id, p.Sheet, p.Number, p.Sub); err != nil {
			return err
		}
	}
	if v := cat.Vocabulary(d); len(v) > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO catalogue_words (word) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`, v); err != nil {
			return err
		}
	}
	return nil
}

// DossierByPath returns the record of the folder p.
func (s *Store) DossierByPath(ctx context.Context, p string) (state.Dossier, error) {
	if !storable(p) {
		return state.Dossier{}, state.ErrNotFound
	}
	d, err := scanDossier(s.pool.QueryRow(ctx, `SELECT `+dossierColumns+` FROM dossiers WHERE path = $1`, p))
	if errors.Is(err, pgx.ErrNoRows) {
		return state.Dossier{}, state.ErrNotFound
	}
	if err != nil {
		return state.Dossier{}, fmt.Errorf("postgres: dossier %q: %w", p, err)
	}
	return d, nil
}

// DossiersByPath returns the records of those of paths that have one.
func (s *Store) DossiersByPath(ctx context.Context, paths []string) (map[string]state.Dossier, error) {
	ok := slices.DeleteFunc(slices.Clone(paths), func(p string) bool { return !storable(p) })
	rows, err := s.pool.Query(ctx, `SELECT `+dossierColumns+` FROM dossiers WHERE path = ANY($1)`, ok)
	if err != nil {
		return nil, fmt.Errorf("postgres: dossiers by path: %w", err)
	}
	defer rows.Close()
	out := make(map[string]state.Dossier, len(paths))
	for rows.Next() {
		d, err := scanDossier(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: dossiers by path: %w", err)
		}
		out[d.Path] = d
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: dossiers by path: %w", err)
	}
	return out, nil
}

func scanDossier(row pgx.Row) (state.Dossier, error) {
	var d state.Dossier
	var rec []byte
	if err := row.Scan(&d.Path, &d.Comune, &d.Year, &d.Type, &d.Number, &d.Deleted, &rec, &d.Updated, &d.UpdatedBy); err != nil {
		return d, err
	}
	d.Updated = d.Updated.UTC()
	return d, cat.Decode(rec, &d)
}

// params numbers a query's parameters as they are added.
type params struct{ args []any }

func (a *params) add(v any) string {
	a.args = append(a.args, v)
	return "$" + strconv.Itoa(len(a.args))
}

// atOrBelow is the condition, on the column col, of the paths at p or
// below it.
func (a *params) atOrBelow(col, p string) string {
	lo, hi := below(p)
	return `(` + col + ` = ` + a.add(p) + ` OR (` + col + ` > ` + a.add(lo) + ` AND ` + col + ` < ` + a.add(hi) + `))`
}

// DeleteDossiers drops the records at and below p and the text of their
// files.
func (s *Store) DeleteDossiers(ctx context.Context, p string) error {
	var a, f params
	where, fwhere := a.atOrBelow("path", p), f.atOrBelow("dossier", p)
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM dossiers WHERE `+where, a.args...); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM file_texts WHERE `+fwhere, f.args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete dossiers %q: %w", p, err)
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
	var a, f params
	where, fwhere := a.atOrBelow("path", from), f.atOrBelow("dossier", from)
	err := s.write(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, `+dossierColumns+` FROM dossiers WHERE `+where+` ORDER BY path FOR UPDATE`, a.args...)
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
			var rec []byte
			d := &m.d
			if err := rows.Scan(&m.id, &d.Path, &d.Comune, &d.Year, &d.Type, &d.Number, &d.Deleted, &rec, &d.Updated, &d.UpdatedBy); err != nil {
				rows.Close()
				return err
			}
			if err := cat.Decode(rec, d); err != nil {
				rows.Close()
				return err
			}
			ms = append(ms, m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// Out of the way first: a move may put one record where another
		// of the same tree was.
		if _, err := tx.Exec(ctx, `UPDATE dossiers SET path = '#' || id WHERE `+where, a.args...); err != nil {
			return err
		}
		for _, m := range ms {
			m.d.Path = to + strings.TrimPrefix(m.d.Path, from)
			m.d.Comune, _, _ = strings.Cut(m.d.Path[1:], "/")
			all, streets := cat.Text(m.d)
			if _, err := tx.Exec(ctx, `UPDATE dossiers SET path = $1, comune = $2,
				words = to_tsvector('`+textConfig+`', $3), streets = to_tsvector('`+textConfig+`', $4) WHERE id = $5`,
				m.d.Path, m.d.Comune, words.Folded(all), words.Folded(streets), m.id); err != nil {
				return err
			}
			if err := indexDossier(ctx, tx, m.id, m.d); err != nil {
				return err
			}
		}
		n := len(from)
		args := append([]any{}, f.args...)
		args = append(args, to, n+1)
		k := len(f.args)
		_, err = tx.Exec(ctx, fmt.Sprintf(`UPDATE file_texts SET path = $%d || substr(path, $%d), dossier = $%d || substr(dossier, $%d) WHERE `, k+1, k+2, k+1, k+2)+fwhere, args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: move dossiers %q to %q: %w", from, to, err)
	}
	return nil
}

// MarkDossiersDeleted sets Deleted on the records at and below p.
func (s *Store) MarkDossiersDeleted(ctx context.Context, p string, deleted bool) error {
	var a params
	set := a.add(deleted)
	where := a.atOrBelow("path", p)
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE dossiers SET deleted = `+set+` WHERE `+where, a.args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: mark dossiers %q: %w", p, err)
	}
	return nil
}

// Dossiers calls fn with each record at and below p, in path order.
func (s *Store) Dossiers(ctx context.Context, p string, fn func(state.Dossier) error) error {
	var a params
	where := a.atOrBelow("path", p)
	rows, err := s.pool.Query(ctx, `SELECT `+dossierColumns+` FROM dossiers WHERE `+where+` ORDER BY path`, a.args...)
	if err != nil {
		return fmt.Errorf("postgres: dossiers %q: %w", p, err)
	}
	defer rows.Close()
	for rows.Next() {
		d, err := scanDossier(rows)
		if err != nil {
			return fmt.Errorf("postgres: dossiers %q: %w", p, err)
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// tsquery is the text search query of terms, for to_tsquery with the
// catalogue's configuration, which stems each word as it stemmed the
// records': each term's word, as a prefix too where it is one, and its
// near words, any of them; every term.
func tsquery(terms []words.Term) string {
	parts := make([]string, 0, len(terms))
	for _, t := range terms {
		var alts []string
		if t.Stem != "" {
			alts = append(alts, "'"+t.Folded+"'")
		}
		switch {
		case t.Prefix:
			alts = append(alts, "'"+t.Folded+"':*")
		case t.Stem == "":
			alts = append(alts, "'"+t.Folded+"'")
		}
		for _, n := range t.Near {
			alts = append(alts, "'"+n+"'")
		}
		parts = append(parts, "("+strings.Join(alts, " | ")+")")
	}
	return strings.Join(parts, " & ")
}

// dossierFilter is the condition, on dossiers d, of q's filters and scope.
func dossierFilter(a *params, q state.DossierQuery) string {
	conds := []string{"NOT d.deleted"}
	if len(q.Comuni) > 0 {
		conds = append(conds, "d.comune = ANY("+a.add(q.Comuni)+")")
	}
	if q.YearFrom > 0 {
		conds = append(conds, "d.year >= "+a.add(q.YearFrom))
	}
	if q.YearTo > 0 {
		conds = append(conds, "d.year <= "+a.add(q.YearTo))
	}
	if q.Type != "" {
		conds = append(conds, "d.type = "+a.add(q.Type))
	}
	if q.Sheet != "" || q.Parcel != "" {
		var pc []string
		if q.Sheet != "" {
			pc = append(pc, "sheet = "+a.add(q.Sheet))
		}
		if q.Parcel != "" {
			pc = append(pc, "number = "+a.add(q.Parcel))
		}
		conds = append(conds, `d.id IN (SELECT dossier FROM dossier_parcels WHERE `+strings.Join(pc, " AND ")+`)`)
	}
	if !q.Scope.All {
		var sc []string
		if len(q.Scope.Comuni) > 0 {
			sc = append(sc, "d.comune = ANY("+a.add(q.Scope.Comuni)+")")
		}
		for _, p := range q.Scope.Paths {
			sc = append(sc, a.atOrBelow("d.path", p))
		}
		if len(sc) == 0 {
			sc = []string{"false"}
		}
		conds = append(conds, "("+strings.Join(sc, " OR ")+")")
	}
	return strings.Join(conds, " AND ")
}

// OptimizeCatalogue renews the planner's statistics of the catalogue's
// tables, after a bulk import: without them a search's plan walks a
// Comune's every record rather than the words' index.
func (s *Store) OptimizeCatalogue(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, `ANALYZE dossiers, dossier_parcels, file_texts`); err != nil {
		return fmt.Errorf("postgres: optimize catalogue: %w", unavailable(err))
	}
	return nil
}

// SearchDossiers finds the dossiers q selects: those whose record's words
// match, and those with a file whose words do, each once, best first.
func (s *Store) SearchDossiers(ctx context.Context, q state.DossierQuery) (state.DossierResult, error) {
	if q.Limit < 0 || q.Offset < 0 {
		return state.DossierResult{}, errors.New("postgres: search dossiers: Limit and Offset must not be negative")
	}
	street := tsquery(words.Query(q.Street))
	var cands []cat.Candidate
	collect := func(query string, args []any, file bool) error {
		rows, err := s.pool.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c cat.Candidate
			var score float32
			dest := []any{&c.Path, &c.Comune, &c.Type, &c.Year, &score}
			if file {
				dest = append(dest, &c.File)
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			c.Score = float64(score)
			cands = append(cands, c)
		}
		return rows.Err()
	}
	var err error
	if len(q.Terms) == 0 && street == "" {
		var a params
		filter := dossierFilter(&a, q)
		err = collect(`SELECT d.path, d.comune, d.type, d.year, 0::real FROM dossiers d WHERE `+filter, a.args, false)
	} else {
		var a params
		conds := []string{}
		rank := "0::real"
		if len(q.Terms) > 0 {
			t := a.add(tsquery(q.Terms))
			conds = append(conds, "d.words @@ to_tsquery('"+textConfig+"', "+t+")")
			rank = "ts_rank(d.words, to_tsquery('" + textConfig + "', " + t + "))"
		}
		if street != "" {
			conds = append(conds, "d.streets @@ to_tsquery('"+textConfig+"', "+a.add(street)+")")
		}
		filter := dossierFilter(&a, q)
		err = collect(`SELECT d.path, d.comune, d.type, d.year, `+rank+` FROM dossiers d WHERE `+
			strings.Join(append(conds, filter), " AND "), a.args, false)
		if err == nil && len(q.Terms) > 0 {
			var f params
			t := f.add(tsquery(cat.Exact(q.Terms)))
			var conds []string
			if street != "" {
				conds = append(conds, "d.streets @@ to_tsquery('"+textConfig+"', "+f.add(street)+")")
			}
			conds = append(conds, dossierFilter(&f, q))
			// Each dossier once, with its first file that matches: a
			// common word matches many files of a dossier, and a rank of
			// each would read each one's words again.
			// The Comuni asked for narrow the files before they are
			// grouped: a dossier's path starts with its Comune's.
			within := ""
			if len(q.Comuni) > 0 {
				var ors []string
				for _, c := range q.Comuni {
					ors = append(ors, f.atOrBelow("dossier", "/"+c))
				}
				within = " AND (" + strings.Join(ors, " OR ") + ")"
			}
			err = collect(`SELECT d.path, d.comune, d.type, d.year, 0::real, m.path
				FROM (SELECT DISTINCT ON (dossier) dossier, path FROM file_texts
					WHERE words @@ to_tsquery('`+textConfig+`', `+t+`)`+within+` ORDER BY dossier, path) m
				JOIN dossiers d ON d.path = m.dossier WHERE `+strings.Join(conds, " AND "), f.args, true)
		}
	}
	if err != nil {
		return state.DossierResult{}, fmt.Errorf("postgres: search dossiers: %w", unavailable(err))
	}
	page, res := cat.Rank(cands, q.Limit, q.Offset)
	if res.Hits, err = s.hits(ctx, page); err != nil {
		return state.DossierResult{}, fmt.Errorf("postgres: search dossiers: %w", unavailable(err))
	}
	return res, nil
}

// hits reads the records of a page of candidates, and the text of the
// files that matched.
func (s *Store) hits(ctx context.Context, page []cat.Candidate) ([]state.DossierHit, error) {
	hits := make([]state.DossierHit, len(page))
	for i, c := range page {
		d, err := scanDossier(s.pool.QueryRow(ctx, `SELECT `+dossierColumns+` FROM dossiers WHERE path = $1`, c.Path))
		if err != nil {
			return nil, err
		}
		hits[i] = state.DossierHit{Dossier: d, Rank: c.Score, File: c.File}
		if c.File != "" {
			if err := s.pool.QueryRow(ctx, `SELECT text FROM file_texts WHERE path = $1`, c.File).Scan(&hits[i].Text); err != nil {
				return nil, err
			}
		}
	}
	return hits, nil
}

// CatalogueWords returns the records' folded words that start with key.
func (s *Store) CatalogueWords(ctx context.Context, key string, limit int) ([]string, error) {
	if key == "" || !storable(key) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT word FROM catalogue_words WHERE word >= $1 AND word < $2 ORDER BY word LIMIT $3`,
		key, cat.After(key), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: catalogue words: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: catalogue words: %w", err)
	}
	return out, nil
}

// PutFileText indexes the text of a file, replacing what was indexed of it.
func (s *Store) PutFileText(ctx context.Context, t state.FileText) error {
	return s.PutFileTexts(ctx, []state.FileText{t})
}

// PutFileTexts is PutFileText for each of ts, in one transaction: one
// round trip for the lot (a pipelined batch).
func (s *Store) PutFileTexts(ctx context.Context, ts []state.FileText) error {
	var b pgx.Batch
	for _, t := range ts {
		if !storable(t.Path) || !storable(t.Text) || !storable(t.Dossier) || !storable(t.ETag) {
			return fmt.Errorf("postgres: put file text %q: text a store cannot hold", t.Path)
		}
		b.Queue(`INSERT INTO file_texts (path, dossier, etag, text, words) VALUES ($1, $2, $3, $4, to_tsvector('`+textConfig+`', $5))
			ON CONFLICT (path) DO UPDATE SET dossier = excluded.dossier, etag = excluded.etag, text = excluded.text, words = excluded.words`,
			t.Path, t.Dossier, t.ETag, cat.Cut(t.Text), words.Folded(t.Text))
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: put file texts: %w", err)
	}
	return nil
}

// DeleteFileText drops the text of the file p, or of every file below it.
func (s *Store) DeleteFileText(ctx context.Context, p string) error {
	var a params
	where := a.atOrBelow("path", p)
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM file_texts WHERE `+where, a.args...)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: delete file text %q: %w", p, err)
	}
	return nil
}

// QueueIndex queues the files for indexing; a path queued again waits
// again, even while a replica works it.
func (s *Store) QueueIndex(ctx context.Context, paths []string, now time.Time) error {
	if len(paths) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO index_jobs (path, queued, holder, taken, attempt, failed)
			SELECT p, $2, '', 'epoch', 0, false FROM unnest($1::text[]) AS p
			ON CONFLICT (path) DO UPDATE SET queued = excluded.queued, attempt = 0, failed = false`, paths, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: queue index: %w", err)
	}
	return nil
}

// TakeIndexJobs takes up to n jobs, the longest waiting first: those no
// replica holds, or holds since before stale. Two replicas taking at once
// take different jobs (SKIP LOCKED).
func (s *Store) TakeIndexJobs(ctx context.Context, holder string, n int, now, stale time.Time) ([]state.IndexJob, error) {
	var jobs []state.IndexJob
	err := s.write(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `UPDATE index_jobs SET holder = $1, taken = $2
			WHERE path IN (SELECT path FROM index_jobs WHERE NOT failed AND (holder = '' OR taken < $3)
				ORDER BY queued LIMIT $4 FOR UPDATE SKIP LOCKED)
			RETURNING path, queued, holder, taken, attempt`, holder, now, stale, n)
		if err != nil {
			return err
		}
		jobs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (state.IndexJob, error) {
			var j state.IndexJob
			err := r.Scan(&j.Path, &j.Queued, &j.Holder, &j.Taken, &j.Attempt)
			j.Queued, j.Taken = j.Queued.UTC(), j.Taken.UTC()
			return j, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: take index jobs: %w", err)
	}
	// RETURNING keeps no order of its own.
	cat.SortJobs(jobs)
	return jobs, nil
}

// FinishIndexJob removes a job done, unless the file was queued again
// since it was taken; a failure counts an attempt, and the job waits again
// until its attempts run out.
func (s *Store) FinishIndexJob(ctx context.Context, p string, failed bool) error {
	err := s.write(ctx, func(tx pgx.Tx) error {
		if !failed {
			if _, err := tx.Exec(ctx, `DELETE FROM index_jobs WHERE path = $1 AND queued <= taken`, p); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE index_jobs SET holder = '' WHERE path = $1`, p)
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE index_jobs SET holder = '', attempt = attempt + 1,
			failed = attempt + 1 >= $2 WHERE path = $1`, p, maxIndexAttempts)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: finish index job %q: %w", p, err)
	}
	return nil
}

// IndexStatus counts the files indexed and the jobs waiting and failed.
func (s *Store) IndexStatus(ctx context.Context) (state.IndexStatus, error) {
	var st state.IndexStatus
	err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM file_texts),
		(SELECT count(*) FROM index_jobs WHERE NOT failed), (SELECT count(*) FROM index_jobs WHERE failed)`).
		Scan(&st.Files, &st.Waiting, &st.Failed)
	if err != nil {
		return st, fmt.Errorf("postgres: index status: %w", err)
	}
	return st, nil
}
