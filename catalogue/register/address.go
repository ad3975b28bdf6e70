package register

import (
	"strings"
	"unicode"

	"github.com/bassareggiana/faldone/state"
)

// splitAddress reads an address as registers write it, the house number
// in the same cell: "Via Gonzaga 12/A", "Piazza Mazzini, 1". The number is
// split off only when it is surely one, since a road's own number looks
// alike ("Strada Provinciale 62"):
//
//   - after the last comma, a house number ("12", "12/A", "12bis", "snc",
//     also written "n. 12" or "civ. 12") is the number;
//   - with no comma, the last word is the number when it is a house number,
//     the first word is a kind of street (Via, Piazza, Strada, Località, …;
//     also abbreviated: P.zza, V.le), some name is between them, and the
//     word before it does not number a road ("Strada Statale 63",
//     "SP 62", "km 12").
//
// Anything else is all street: "Strada Statale 63 km 12", "Località San
// Girolamo". Write writes "street, number", which reads back the same.
func splitAddress(s string) state.Address {
	if i := strings.LastIndexByte(s, ','); i >= 0 {
		if n, ok := houseNumber(strings.TrimSpace(s[i+1:])); ok {
			return state.Address{Street: strings.TrimSpace(s[:i]), Number: n}
		}
		return state.Address{Street: s}
	}
	words := strings.Fields(s)
	if len(words) < 3 || !streetKind(fold(words[0])) {
		return state.Address{Street: s}
	}
	n, ok := houseNumber(words[len(words)-1])
	prev := fold(words[len(words)-2])
	if !ok || numbersRoad(fold(words[0]), prev) {
		return state.Address{Street: s}
	}
	keep := len(words) - 1
	if (prev == "n" || prev == "nr" || prev == "civ") && len(words) > 3 {
		keep-- // "Via Roma n. 12"
	}
	end := wordStart(s, keep)
	return state.Address{Street: strings.TrimSpace(s[:end]), Number: n}
}

// joinAddress is the cell of an address, as splitAddress reads it back.
func joinAddress(a state.Address) string {
	if a.Number == "" {
		return a.Street
	}
	return a.Street + ", " + a.Number
}

// houseNumber reports whether s is a house number (numero civico): 1 to 4
// digits, then a letter or "bis" or "/A" or "/3" — or "snc", senza numero
// civico. A leading "n.", "n°", "nr." or "civ." is dropped.
func houseNumber(s string) (string, bool) {
	for _, p := range []string{"n.", "n°", "nr.", "civ.", "N.", "N°", "Nr.", "Civ."} {
		if strings.HasPrefix(s, p) {
			s = strings.TrimSpace(s[len(p):])
			break
		}
	}
	switch strings.ToLower(s) {
	case "snc", "s.n.c.", "sn", "s.n.":
		return s, true
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 4 {
		return "", false
	}
	rest := s[i:]
	if rest != "" && (rest[0] == '/' || rest[0] == '-') {
		rest = rest[1:]
		if rest == "" {
			return "", false
		}
	}
	if len(rest) > 3 {
		return "", false
	}
	letters, nums := 0, 0
	for j := 0; j < len(rest); j++ {
		switch c := rest[j]; {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters++
		case c >= '0' && c <= '9':
			nums++
		default:
			return "", false
		}
	}
	if letters > 0 && nums > 0 {
		return "", false
	}
	return s, true
}

// streetKind reports whether w (folded) is a kind of street (odonimo's
// first word), in full or abbreviated.
func streetKind(w string) bool {
	switch w {
	case "via", "v", "viale", "vle", "vialetto", "piazza", "pza", "pzza", "p", "piazzale", "ple", "pzle",
		"piazzetta", "corso", "cso", "vicolo", "vic", "vicoletto", "largo", "lgo", "strada", "str",
		"stradello", "stradone", "strda", "localita", "loc", "frazione", "fraz", "contrada", "cda",
		"borgo", "galleria", "circonvallazione", "argine", "traversa", "salita", "piazzola", "viottolo",
		"lungargine", "lungopo", "quartiere", "villaggio", "rotonda", "passaggio", "androne", "calle":
		return true
	}
	return false
}

// numbersRoad reports whether prev (folded), the word before a number,
// makes it a road's number rather than a house number: "km 12",
// "SP 62", and "Strada Provinciale 62" (but "Via Provinciale 12" is a
// house in Via Provinciale).
func numbersRoad(kind, prev string) bool {
	switch prev {
	case "km", "sp", "ss", "sc", "sr", "exss":
		return true
	case "n", "nr", "civ": // "Via Roma n. 12", but "Strada Statale n. 63"
		return kind == "strada" || kind == "str"
	case "provinciale", "statale", "comunale", "regionale", "vicinale", "consorziale":
		return kind == "strada" || kind == "str"
	}
	return false
}

// wordStart is the offset in s of its word k (from 0), as strings.Fields
// splits it.
func wordStart(s string, k int) int {
	in := false
	for i, r := range s {
		space := unicode.IsSpace(r)
		if !space && !in {
			if k == 0 {
				return i
			}
			k--
		}
		in = !space
	}
	return len(s)
}
