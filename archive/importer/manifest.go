package importer

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// A manifest is the scanning firm's index of a delivery: a CSV file with a
// header, one row a file. The columns percorso (the file's path, relative
// to the delivery's folder, with / or \) and sha256 (hexadecimal) are
// required; the others are kept, by name, for the catalogue. Firms export
// from spreadsheets: the separator is ";" (Italian Excel) or ",", and the
// text UTF-8 (with or without a byte-order mark) or Windows-1252.

// Row is one file of a manifest.
type Row struct {
	Line    int    // in the file, from 1 (the header), for the report
	Path    string // as the manifest names it
	Rel     string // cleaned: "/"-separated, composed, no leading "./" or "/"
	SHA256  [32]byte
	Columns map[string]string // the other columns, by their header's name
}

// Manifest is a delivery's index, by cleaned relative path.
type Manifest struct {
	Rows map[string]*Row
	// Bad are the rows that could not be read, for the report: their
	// path as written (or the line) and why, in Italian.
	Bad []Problem
}

// maxManifest bounds the file read into memory: some two million rows.
const maxManifest = 256 << 20

// ReadManifest reads the manifest at path.
func ReadManifest(path string) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxManifest+1))
	if err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	if len(b) > maxManifest {
		return nil, fmt.Errorf("manifest %s: larger than %d MiB", path, maxManifest>>20)
	}
	return parseManifest(b)
}

// decode returns the manifest's text as UTF-8: as it is when it is valid
// UTF-8 (a byte-order mark dropped), else read as Windows-1252, where any
// byte is a character.
func decode(b []byte) string {
	b = bytes.TrimPrefix(b, []byte("\ufeff"))
	if utf8.Valid(b) {
		return string(b)
	}
	s, _ := charmap.Windows1252.NewDecoder().Bytes(b)
	return string(s)
}

// separator is the one of ";" and "," that the header line holds more of.
func separator(text string) rune {
	header, _, _ := strings.Cut(text, "\n")
	if strings.Count(header, ";") >= strings.Count(header, ",") && strings.Contains(header, ";") {
		return ';'
	}
	return ','
}

func parseManifest(b []byte) (*Manifest, error) {
	text := decode(b)
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = separator(text)
	r.FieldsPerRecord = -1 // a short row is reported, not fatal
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("manifest: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	pi, ok1 := col["percorso"]
	hi, ok2 := col["sha256"]
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("manifest: the header has no %q or no %q column (it has %q)", "percorso", "sha256", header)
	}
	m := &Manifest{Rows: map[string]*Row{}}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				m.Bad = append(m.Bad, Problem{Path: fmt.Sprintf("riga %d", pe.Line), Kind: BadRow, Detail: "riga del manifesto illeggibile"})
				continue
			}
			return nil, fmt.Errorf("manifest: %w", err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // an empty line, as spreadsheets leave at the end
		}
		if pi >= len(rec) || hi >= len(rec) {
			m.Bad = append(m.Bad, Problem{Path: fmt.Sprintf("riga %d", line), Kind: BadRow, Detail: "mancano colonne"})
			continue
		}
		row := &Row{Line: line, Path: rec[pi], Rel: cleanRel(rec[pi]), Columns: map[string]string{}}
		sum, err := hex.DecodeString(strings.TrimSpace(rec[hi]))
		if err != nil || len(sum) != 32 {
			m.Bad = append(m.Bad, Problem{Path: row.Path, Kind: BadRow, Detail: fmt.Sprintf("riga %d: impronta SHA-256 non valida %q", line, rec[hi])})
			continue
		}
		copy(row.SHA256[:], sum)
		if row.Rel == "" {
			m.Bad = append(m.Bad, Problem{Path: row.Path, Kind: BadRow, Detail: fmt.Sprintf("riga %d: percorso vuoto", line)})
			continue
		}
		if prev, ok := m.Rows[row.Rel]; ok {
			m.Bad = append(m.Bad, Problem{Path: row.Path, Kind: BadRow, Detail: fmt.Sprintf("riga %d: percorso già alla riga %d", line, prev.Line)})
			continue
		}
		for i, v := range rec {
			if i != pi && i != hi && i < len(header) {
				row.Columns[strings.TrimSpace(header[i])] = v
			}
		}
		m.Rows[row.Rel] = row
	}
	return m, nil
}

// cleanRel is a relative path as the delivery's walk names it: with "/",
// composed, without a leading "./" or "/" or surrounding spaces.
func cleanRel(p string) string {
	p = strings.TrimSpace(strings.ReplaceAll(p, `\`, "/"))
	for {
		switch {
		case strings.HasPrefix(p, "./"):
			p = p[2:]
		case strings.HasPrefix(p, "/"):
			p = p[1:]
		default:
			return norm.NFC.String(p)
		}
	}
}
