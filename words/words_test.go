package words

import (
	"slices"
	"strings"
	"testing"
)

func TestTokens(t *testing.T) {
	for _, tt := range []struct {
		text string
		want []string
	}{
		{"Via Caffè 12/A", []string{"via", "caffe", "12", "a"}},
		{"PC-2019-0042", []string{"pc", "2019", "0042"}},
		{"dell'edificio NICOLÒ", []string{"dell", "edificio", "nicolo"}},
		{"  ", nil},
		{"perché—più", []string{"perche", "piu"}},
		{strings.Repeat("x", 65) + " ok", []string{"ok"}},
	} {
		var got []string
		for _, tok := range Tokens(tt.text) {
			got = append(got, tok.Text)
			if tok.Start < 0 || tok.End > len(tt.text) || Fold(tt.text[tok.Start:tok.End]) != tok.Text {
				t.Errorf("Tokens(%q): %+v does not stand for its text", tt.text, tok)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestStem(t *testing.T) {
	// The same stems as PostgreSQL's italian configuration gives
	// (to_tsvector('italian', …)).
	for _, tt := range []struct{ word, want string }{
		{"relazione", "relazion"},
		{"progetti", "progett"},
		{"progetto", "progett"},
		{"ampliamento", "ampli"},
		{"fabbricato", "fabbric"},
		{"tecnica", "tecnic"},
		{"0042", "0042"},
		{"12a", "12a"},
	} {
		if got := Stem(tt.word); got != tt.want {
			t.Errorf("Stem(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestQuery(t *testing.T) {
	for _, tt := range []struct {
		q    string
		want []Term
	}{
		{"progetti della Via Gonz", []Term{{Folded: "progetti", Stem: "progett"}, {Folded: "via", Stem: "via"}, {Folded: "gonz", Stem: "gonz", Prefix: true}}},
		{"PC-2019", []Term{{Folded: "pc", Stem: "pc"}, {Folded: "2019", Prefix: true}}},
		{"della", []Term{{Folded: "della", Stem: "dell", Prefix: true}}},
		{"", nil},
	} {
		if got := Query(tt.q); !slices.EqualFunc(got, tt.want, func(a, b Term) bool {
			return a.Folded == b.Folded && a.Stem == b.Stem && a.Prefix == b.Prefix
		}) {
			t.Errorf("Query(%q) = %+v, want %+v", tt.q, got, tt.want)
		}
	}
}

func TestMatches(t *testing.T) {
	for _, tt := range []struct {
		q, token string
		want     bool
	}{
		{"progetto x", "progetti", true},
		{"caff", "caffe", true}, // the last word, a prefix
		{"cafe x", "caffe", false},
		{"0042", "0042", true},
		{"004", "0042", true},
		{"0042", "004", false},
		{"rossi x", "rossini", false},
	} {
		term := Query(tt.q)[0]
		if got := term.Matches(tt.token); got != tt.want {
			t.Errorf("term %q matches %q = %v, want %v", tt.q, tt.token, got, tt.want)
		}
	}
}

func TestSnippet(t *testing.T) {
	text := "Il presente documento descrive il progetto di ampliamento del fabbricato sito in Via Caffè 12, " +
		"foglio 21 mappale 345, di proprietà del sig. Rossi; seguono le tavole."
	s, marks := Snippet(text, Query("caffè x"), 60)
	if !strings.HasPrefix(s, "…") || !strings.HasSuffix(s, "…") || !strings.Contains(s, "Caffè") {
		t.Fatalf("Snippet = %q", s)
	}
	if len(marks) != 1 || s[marks[0].Start:marks[0].End] != "Caffè" {
		t.Errorf("marks %v in %q", marks, s)
	}
	if s, marks := Snippet(text, Query("assente"), 20); marks != nil || strings.HasPrefix(s, "…") || !strings.HasPrefix(s, "Il presente") {
		t.Errorf("Snippet without a match = %q %v", s, marks)
	}
	if s, _ := Snippet("breve", Query("breve"), 60); s != "breve" {
		t.Errorf("Snippet of a short text = %q", s)
	}
}

func FuzzSnippet(f *testing.F) {
	f.Add("Via Caffè 12", "caffe")
	f.Add("PC-2019-0042 è", "0042")
	f.Fuzz(func(t *testing.T, text, q string) {
		s, marks := Snippet(text, Query(q), 40)
		for _, m := range marks {
			if m.Start < 0 || m.End > len(s) || m.Start > m.End {
				t.Fatalf("mark %v out of %q", m, s)
			}
		}
	})
}

func TestNear(t *testing.T) {
	term := Query("cafe x")[0]
	if !term.Fuzzy() || term.NearKey() != "ca" {
		t.Fatalf("term %+v: fuzzy %v, key %q", term, term.Fuzzy(), term.NearKey())
	}
	near := term.NearOf([]string{"caffe", "cafe", "cave", "cafes", "acfe", "caffee", "casa", "cfe"})
	if want := []string{"caffe", "cave", "cafes", "acfe", "cfe"}; !slices.Equal(near, want) {
		t.Errorf("NearOf = %q, want %q", near, want)
	}
	term.Near = near
	if !term.Matches("caffe") || term.Matches("casa") {
		t.Error("a term does not match its near words, or matches others")
	}
	if Query("0042")[0].Fuzzy() || Query("via")[0].Fuzzy() {
		t.Error("an identifier or a short word is fuzzy")
	}
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"rossi", "rosis", true}, {"rossi", "rossi", true}, {"rossi", "ross", true},
		{"rossi", "rosso", true}, {"rossi", "russo", false}, {"nicolo", "niccolo", true},
	} {
		if got := oneEdit([]rune(tt.a), []rune(tt.b)); got != tt.want {
			t.Errorf("oneEdit(%q, %q) = %v", tt.a, tt.b, got)
		}
	}
}
