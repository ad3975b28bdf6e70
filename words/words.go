// Package words analyses the catalogue's text alike for every state
// store: it cuts text into tokens (letters or digits), folds case and
// accents, and stems Italian words with Snowball's Italian stemmer — the
// algorithm PostgreSQL's italian configuration uses, so that SQLite's FTS5
// index, fed with stems from here, and PostgreSQL's tsvector, fed with the
// folded tokens from here, find the same documents for the same query.
//
// A token with a digit in it ("0042", "12a") is an identifier: never
// stemmed, and matched as a prefix. "PC-2019-0042" is three tokens, "pc",
// "2019" and "0042", so that any part of a dossier's number finds it.
package words

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	snowball "github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/italian"
	"golang.org/x/text/unicode/norm"
)

// maxToken is the longest token kept, in bytes: longer runs (a hash, a
// base64 blob in a text file) are no words anyone searches for.
const maxToken = 64

// Token is a word of a text, folded, with where it stands in the text.
type Token struct {
	Text       string // folded: lower case, no accents
	Start, End int    // the byte offsets of the original word in the text
}

// Tokens cuts text into its folded tokens.
func Tokens(text string) []Token {
	var out []Token
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		if f := Fold(text[start:end]); f != "" && len(f) <= maxToken {
			out = append(out, Token{Text: f, Start: start, End: end})
		}
		start = -1
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(text))
	return out
}

// Fold lowers the case of s and takes its accents off ("Caffè" → "caffe").
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Identifier reports whether the folded token t is an identifier (it has
// a digit), which is matched as a prefix and never stemmed.
func Identifier(t string) bool {
	return strings.IndexFunc(t, unicode.IsDigit) >= 0
}

// Stem is the Italian stem of the folded token t; an identifier is its
// own stem.
func Stem(t string) string {
	if Identifier(t) || !utf8.ValidString(t) {
		return t
	}
	env := snowball.NewEnv(t)
	italian.Stem(env)
	return env.Current()
}

// Stems is the text as a search engine without an Italian stemmer indexes
// it: the stems of its tokens, separated by spaces.
func Stems(text string) string {
	var b strings.Builder
	for _, t := range Tokens(text) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(Stem(t.Text))
	}
	return b.String()
}

// Folded is the text as a search engine with its own Italian stemmer
// indexes it: its folded tokens, separated by spaces, so that its parser
// sees the same tokens as Tokens does.
func Folded(text string) string {
	var b strings.Builder
	for _, t := range Tokens(text) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Text)
	}
	return b.String()
}

// Term is a word of a query.
type Term struct {
	Folded string // the word, folded
	Stem   string // its stem ("" for an identifier)
	// Prefix: the word also matches as the start of a longer word — an
	// identifier always, and the last word of a query, which a person may
	// still be typing.
	Prefix bool
	// Near are other folded words it matches too: words of the catalogue
	// one typing mistake away ("cafe" for "caffe"), set when the words as
	// typed find nothing (see Near).
	Near []string
}

// Query cuts a search into its terms. Italian articles, prepositions and
// conjunctions are left out, as they would match almost everything; a
// query of nothing else keeps them.
func Query(q string) []Term {
	toks := Tokens(q)
	var terms []Term
	for i, t := range toks {
		if isStopword(t.Text) && len(toks) > 1 {
			continue
		}
		// The last word as a prefix once it has three letters: fewer
		// would match most of the catalogue.
		term := Term{Folded: t.Text, Prefix: i == len(toks)-1 && utf8.RuneCountInString(t.Text) >= 3}
		if Identifier(t.Text) {
			term.Prefix = true
		} else {
			term.Stem = Stem(t.Text)
		}
		terms = append(terms, term)
	}
	return terms
}

// Matches reports whether the folded token t is matched by the term.
func (m Term) Matches(t string) bool {
	switch {
	case m.Prefix && strings.HasPrefix(t, m.Folded), slices.Contains(m.Near, t):
		return true
	case m.Stem != "":
		return Stem(t) == m.Stem
	}
	return t == m.Folded
}

// Fuzzy reports whether a term may be looked for among near words: a word
// of at least four letters; identifiers are exact.
func (m Term) Fuzzy() bool { return m.Stem != "" && utf8.RuneCountInString(m.Folded) >= 4 }

// NearKey is the start that every near word of the term shares with it,
// for a store to find the candidates by: its first two letters.
func (m Term) NearKey() string {
	r := []rune(m.Folded)
	return string(r[:min(2, len(r))])
}

// NearOf returns the candidates one edit away from the term's word: one
// letter added, left out, changed, or two letters swapped.
func (m Term) NearOf(candidates []string) []string {
	var out []string
	for _, c := range candidates {
		if c != m.Folded && oneEdit([]rune(m.Folded), []rune(c)) {
			out = append(out, c)
		}
	}
	return out
}

// oneEdit reports whether a and b are at most one edit apart (the
// restricted Damerau–Levenshtein distance is at most 1).
func oneEdit(a, b []rune) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > 1 {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	if i == len(a) {
		return true // equal, or b has one more at the end
	}
	if len(a) == len(b) {
		// Changed, or swapped with the next.
		if slices.Equal(a[i+1:], b[i+1:]) {
			return true
		}
		return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && slices.Equal(a[i+2:], b[i+2:])
	}
	return slices.Equal(a[i:], b[i+1:]) // b has one more at i
}

// isStopword reports whether the folded token w is one of the Italian
// function words that a query leaves out.
func isStopword(w string) bool {
	switch w {
	case "a", "ad", "al", "allo", "ai", "agli", "all", "alla", "alle",
		"c", "che", "chi", "ci", "col", "con", "coi",
		"da", "dal", "dallo", "dai", "dagli", "dall", "dalla", "dalle",
		"del", "dello", "dei", "degli", "dell", "della", "delle", "di",
		"e", "ed", "i", "il", "in", "l", "la", "le", "lo", "gli",
		"nel", "nello", "nei", "negli", "nell", "nella", "nelle",
		"o", "od", "per", "su", "sul", "sullo", "sui", "sugli", "sull", "sulla", "sulle",
		"tra", "fra", "un", "una", "uno":
		return true
	}
	return false
}
