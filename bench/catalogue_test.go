//go:build bench

package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/catalogue"
	"github.com/bassareggiana/faldone/catalogue/load"
	"github.com/bassareggiana/faldone/catalogue/register"
	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/state/postgres"
	"github.com/bassareggiana/faldone/state/sqlite"
)

// The catalogue's budgets (issue 16): over 200,000 dossiers and 2,000,000
// files, a two-word query with a Comune filter in p95 < 50 ms and a
// parcel lookup in p95 < 10 ms, an import of ≥ 5,000 rows/s; the text
// index's throughput and size reported. BENCH_CAT_DOSSIERS and
// BENCH_CAT_FILES scale it; BENCH_CAT_QUERIES is the queries of each kind.

var (
	catComuni   = []string{"boretto", "brescello", "gualtieri", "guastalla", "luzzara", "novellara", "poviglio", "reggiolo"}
	catStreets  = strings.Split("Via Roma|Via Giuseppe Garibaldi|Via Giuseppe Mazzini|Via XX Settembre|Via Cesare Battisti|Piazza della Libertà|Via Gonzaga|Via Po|Via Argine|Via Guastalla|Via Novellara|Via Reggiolo|Via Matteotti|Via Gramsci|Via Aldo Moro|Via Don Minzoni|Via San Rocco|Via Ferrante Gonzaga|Via Tagliata|Via Pieve|Strada Provinciale 62|Via Canale|Via Dosso|Via Codisotto|Via Villa|Via Chiesa|Via Fornace|Via Mulino|Via Ronchi|Via Saltini|Via Valle|Via Castello|Via Circonvallazione|Via Europa|Via Verdi|Via Puccini|Via Rossini|Via Dante Alighieri|Via Petrarca|Via Leopardi|Via Manzoni|Via Carducci|Via Pascoli|Viale Lombardia|Via Emilia|Via Toscana|Via Marconi|Via Volta|Via Galilei|Via Fermi", "|")
	catSurnames = strings.Split("Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo Conti De Luca Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro Mariani Rinaldi Caruso Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale Lombardo Serra Coppola De Santis D'Angelo Marchetti Parisi Villa Conte Ferraro Ferri Fabbri Bianco Marini Grasso Valentini Messina Sala De Angelis Gatti Pellegrini Palumbo Sanna Farina Rizzi Monti Cattaneo Morelli Amato Silvestri Mazza Testa Grassi Pellegrino Carbone Giuliani Benedetti Barone Rossetti Caputo Montanari Guerra Palmieri Bernardi Martino Fiore De Rosa Ferretti Bellini Basile Riva Donati Piras Vitali Battaglia Sartori Neri Costantini Milani Pagano Ruggiero Sorrentino D'Amico Orlando Damico Negri Caffè Nicolò Ferrè", " ")
	catNames    = strings.Split("Mario Giuseppe Anna Maria Luca Marco Giovanni Francesca Paolo Laura Andrea Elena Stefano Giulia Alessandro Chiara Roberto Sara Davide Federica Nicolò Matteo Silvia Antonio Lucia", " ")
	catWords    = strings.Split("relazione tecnica illustrativa progetto ampliamento ristrutturazione fabbricato residenziale autorimessa recinzione copertura solaio fondazioni platea muratura cemento armato calcestruzzo acciaio legno intonaco tinteggiatura serramenti infissi impianto elettrico termico idraulico fognatura scarico allaccio pozzetto tubazione caldaia pannelli fotovoltaici solare isolamento cappotto termico sismica verifica collaudo statico geologica geotecnica terreno argilloso falda sondaggio carotaggio prova penetrometrica strutturale calcolo carichi neve vento agibilità abitabilità conformità urbanistica catastale planimetria prospetto sezione pianta tavola particolare scala rilievo stato di fatto progetto variante sanatoria condono permesso costruire segnalazione certificata inizio attività comunicazione asseverata lavori direttore sicurezza cantiere notifica preliminare coordinatore esecuzione durc impresa esecutrice committente proprietario confine distanza altezza volume superficie utile lorda parcheggio pertinenziale verde privato standard oneri urbanizzazione costo costruzione versamento ricevuta bollo marca", " ")
)

func TestCatalogueBenchmark(t *testing.T) {
	nDossiers := envInt(t, "BENCH_CAT_DOSSIERS", 200_000)
	nFiles := envInt(t, "BENCH_CAT_FILES", 2_000_000)
	nQueries := envInt(t, "BENCH_CAT_QUERIES", 300)
	only := envRegexp(t, "BENCH_ONLY")
	began, loadAvg := time.Now(), loadAverage()
	ctx := context.Background()

	rng := mrand.New(mrand.NewPCG(42, 16))
	reg, dossiers := catRegister(rng, nDossiers)
	type store struct {
		name string
		open func(t *testing.T) (state.Store, func() int64)
	}
	var rows []string
	for _, st := range []store{
		{"SQLite", func(t *testing.T) (state.Store, func() int64) {
			path := filepath.Join(t.TempDir(), "state.db")
			s, err := sqlite.Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			return s, func() int64 {
				var n int64
				for _, suffix := range []string{"", "-wal"} {
					if fi, err := os.Stat(path + suffix); err == nil {
						n += fi.Size()
					}
				}
				return n
			}
		}},
		{"PostgreSQL", func(t *testing.T) (state.Store, func() int64) {
			dsn := catPostgres(t)
			s, err := postgres.Open(ctx, dsn, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s, func() int64 {
				conn, err := pgx.Connect(ctx, dsn)
				if err != nil {
					return -1
				}
				defer conn.Close(ctx)
				var n int64
				conn.QueryRow(ctx, `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
					WHERE c.relkind = 'r' AND c.relname IN ('dossiers', 'dossier_parcels', 'catalogue_words', 'file_texts', 'index_jobs')`).Scan(&n)
				return n
			}
		}},
	} {
		if only != nil && !only.MatchString(st.name) {
			continue
		}
		t.Run(st.name, func(t *testing.T) {
			s, size := st.open(t)
			defer s.Close()

			// The register's import.
			cpu0, _ := cpuOf("self")
			t0 := time.Now()
			rep, err := load.Import(ctx, s, bytes.NewReader(reg), load.Options{By: "bench"})
			if err != nil || rep.Imported != nDossiers {
				t.Fatalf("import: %d of %d, %v (bad %v)", rep.Imported, nDossiers, err, rep.Bad[:min(3, len(rep.Bad))])
			}
			importDur := time.Since(t0)
			cpu1, _ := cpuOf("self")

			// The text of the files, in the indexer's batches.
			const batch = 1000
			ts := make([]state.FileText, 0, batch)
			textBytes := 0
			t1 := time.Now()
			for i := range nFiles {
				d := dossiers[i%len(dossiers)]
				text := catText(rng, 40)
				textBytes += len(text)
				ts = append(ts, state.FileText{Path: fmt.Sprintf("%s/doc-%07d.pdf", d.Path, i), Dossier: d.Path, ETag: "e", Text: text})
				if len(ts) == batch || i == nFiles-1 {
					if err := s.PutFileTexts(ctx, ts); err != nil {
						t.Fatal(err)
					}
					ts = ts[:0]
				}
			}
			indexDur := time.Since(t1)
			cpu2, _ := cpuOf("self")

			// Queries: two words (an applicant's surname and a word of a
			// street) with a Comune; a foglio and mappale.
			cat := catalogue.New(s, catalogue.Options{Comuni: catComuni})
			admin := access.NewPolicy(access.Subject{Admin: true})
			var words2, parcels, inside []time.Duration
			found := 0
			for range nQueries {
				d := dossiers[rng.IntN(len(dossiers))]
				street := strings.Fields(d.Addresses[0].Street)
				q := catalogue.Query{Text: strings.Fields(d.Applicants[0].Name)[1] + " " + street[len(street)-1], Comuni: []string{d.Comune}}
				start := time.Now()
				res, err := cat.Search(ctx, admin, q)
				words2 = append(words2, time.Since(start))
				if err != nil {
					t.Fatal(err)
				}
				if slices.ContainsFunc(res.Hits, func(h state.DossierHit) bool { return h.Path == d.Path }) || res.Total > catalogue.PageSize {
					found++
				}
				p := d.Parcels[0]
				start = time.Now()
				res, err = cat.Search(ctx, admin, catalogue.Query{Sheet: p.Sheet, Parcel: p.Number})
				parcels = append(parcels, time.Since(start))
				if err != nil || res.Total == 0 {
					t.Fatalf("parcel %+v: %d, %v", p, res.Total, err)
				}
				start = time.Now()
				if _, err := cat.Search(ctx, admin, catalogue.Query{Text: catWords[rng.IntN(len(catWords))] + " " + catWords[rng.IntN(len(catWords))], Comuni: []string{d.Comune}}); err != nil {
					t.Fatal(err)
				}
				inside = append(inside, time.Since(start))
			}
			if found < nQueries*9/10 {
				t.Errorf("the two-word queries found their dossier %d times of %d", found, nQueries)
			}
			rows = append(rows,
				fmt.Sprintf("| %s | import of %s register rows | %.0f rows/s (%.1f s; %.1f s CPU) | ≥ 5,000 rows/s: %s |", st.name, thousands(nDossiers),
					float64(nDossiers)/importDur.Seconds(), importDur.Seconds(), (cpu1-cpu0).Seconds(), metText(float64(nDossiers)/importDur.Seconds() >= 5000)),
				fmt.Sprintf("| %s | text index of %s files (%.0f bytes each) | %.0f files/s (%.1f s; %.1f s CPU of this process, %.0f files a CPU second) | reported |", st.name, thousands(nFiles),
					float64(textBytes)/float64(nFiles), float64(nFiles)/indexDur.Seconds(), indexDur.Seconds(), (cpu2-cpu1).Seconds(), float64(nFiles)/math.Max((cpu2-cpu1).Seconds(), 0.01)),
				fmt.Sprintf("| %s | two words (surname, street) and a Comune, %d queries | %s | p95 < 50 ms: %s |", st.name, nQueries, latencies(words2), metText(pct(words2, 95) < 50*time.Millisecond)),
				fmt.Sprintf("| %s | foglio and mappale, %d lookups | %s | p95 < 10 ms: %s |", st.name, nQueries, latencies(parcels), metText(pct(parcels, 95) < 10*time.Millisecond)),
				fmt.Sprintf("| %s | two words of the documents' text and a Comune, %d queries | %s | reported |", st.name, nQueries, latencies(inside)),
				fmt.Sprintf("| %s | the catalogue's size on disk | %s MiB | reported |", st.name, fmt.Sprintf("%.0f", float64(size())/(1<<20))),
			)
		})
	}
	fmt.Printf("\n%s: %d cores; catalogue benchmark took %v; load average %s at its start, %s at its end.\n\n",
		time.Now().Format("2006-01-02"), runtime.NumCPU(), time.Since(began).Round(time.Second), loadAvg, loadAverage())
	fmt.Println("| Store | Work | Result | Budget |")
	fmt.Println("|---|---|---|---|")
	for _, r := range rows {
		fmt.Println(r)
	}
	fmt.Println()
}

// catRegister generates a register of n dossiers across the eight Comuni,
// as `faldone catalogue import` reads it, and the records it holds.
func catRegister(rng *mrand.Rand, n int) ([]byte, []state.Dossier) {
	var ds []state.Dossier
	for i := range n {
		comune := catComuni[i%len(catComuni)]
		year := 1960 + rng.IntN(66)
		num := fmt.Sprintf("PC-%d-%05d", year, i)
		d := state.Dossier{Path: fmt.Sprintf("/%s/%d/%s", comune, year, num), Comune: comune, Year: year, Type: "PdC", Number: num,
			Subject:    catText(rng, 6),
			Applicants: []state.Applicant{{Name: catNames[rng.IntN(len(catNames))] + " " + catSurnames[rng.IntN(len(catSurnames))]}},
			Addresses:  []state.Address{{Street: catStreets[rng.IntN(len(catStreets))], Number: fmt.Sprint(1 + rng.IntN(120))}},
			Parcels:    []state.Parcel{{Register: "F", Sheet: fmt.Sprint(1 + rng.IntN(60)), Number: fmt.Sprint(1 + rng.IntN(2000))}},
			Protocol:   fmt.Sprint(rng.IntN(100000)), ProtocolDate: fmt.Sprintf("%d-%02d-%02d", year, 1+rng.IntN(12), 1+rng.IntN(28))}
		ds = append(ds, d)
	}
	var buf bytes.Buffer
	w := register.NewWriter(&buf)
	for _, d := range ds {
		if err := w.Write(d); err != nil {
			panic(err)
		}
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
	return buf.Bytes(), ds
}

// catText is n words of the documents' vocabulary, with a number now and then.
func catText(rng *mrand.Rand, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		if rng.IntN(10) == 0 {
			fmt.Fprint(&b, rng.IntN(10000))
			continue
		}
		b.WriteString(catWords[rng.IntN(len(catWords))])
	}
	return b.String()
}

// catPostgres makes a database for the benchmark and drops it after.
func catPostgres(t *testing.T) string {
	admin := os.Getenv("FALDONE_TEST_POSTGRES")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("PostgreSQL is not reachable: %v", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	name := "faldone_bench_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), admin); err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	return strings.Replace(admin, "/postgres?", "/"+name+"?", 1)
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	return s[min(len(s)-1, len(s)*p/100)]
}

func latencies(ds []time.Duration) string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }
	return fmt.Sprintf("p50 %s ms, p95 %s ms, max %s ms", ms(pct(ds, 50)), ms(pct(ds, 95)), ms(slices.Max(ds)))
}

func metText(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}
