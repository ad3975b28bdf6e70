package catalogue

import (
	"context"
	"strconv"
	"strings"
	"unicode"

	"github.com/bassareggiana/faldone/state"
	"github.com/bassareggiana/faldone/words"
)

// Rule says which folders are dossiers: those Depth levels below the
// root. The default, 3, is /<comune>/<anno>/<numero>.
type Rule struct {
	Depth int
}

// DefaultDepth is the depth of a dossier folder when none is configured.
const DefaultDepth = 3

func (r Rule) depth() int {
	if r.Depth <= 0 {
		return DefaultDepth
	}
	return r.Depth
}

// IsDossier reports whether the folder p (a namespace path) is a dossier.
func (r Rule) IsDossier(p string) bool { return depth(p) == r.depth() }

// DossierOf returns the dossier folder that p is, or is inside of.
func (r Rule) DossierOf(p string) (string, bool) {
	if depth(p) < r.depth() {
		return "", false
	}
	parts := strings.SplitN(p[1:], "/", r.depth()+1)
	return "/" + strings.Join(parts[:r.depth()], "/"), true
}

// Inside reports whether p is inside a dossier folder.
func (r Rule) Inside(p string) bool { return depth(p) > r.depth() }

// Above reports whether p is a folder above the dossiers (a Comune, a
// year), whose moves and deletes carry whole dossiers.
func (r Rule) Above(p string) bool { return depth(p) < r.depth() }

// depth is the number of names in the namespace path p.
func depth(p string) int {
	if p == "/" || p == "" {
		return 0
	}
	return strings.Count(p, "/")
}

// Type is a kind of dossier, with the starts of the numbers that tell it
// ("PC-2019-0042" is a PdC).
type Type struct {
	Name     string
	Prefixes []string
}

// DefaultTypes are the kinds of building-permit dossier of Emilia-Romagna's
// law (L.R. 15/2013) and of the older ones an archive holds.
func DefaultTypes() []Type {
	return []Type{
		{"PdC", []string{"PDC", "PC", "PCC"}},
		{"SCIA", []string{"SCIA"}},
		{"CILA", []string{"CILA"}},
		{"CIL", []string{"CIL"}},
		{"DIA", []string{"DIA"}},
		{"Condono", []string{"CONDONO", "COND", "CE"}},
		{"Sanatoria", []string{"SAN", "PCS", "ACC"}},
		{"Agibilità", []string{"AGI", "SCEA", "ABI"}},
		{"Autorizzazione paesaggistica", []string{"AP", "AUTPAES", "PAES"}},
		{"Concessione edilizia", []string{"CONC", "CONCED"}},
		{"Licenza edilizia", []string{"LE", "LIC"}},
	}
}

// FromName is the record that the path of a dossier folder tells: its
// Comune, its number (its name), its year (a year folder above it, or a
// year in its name) and its type (its name's start).
func FromName(p string, types []Type) state.Dossier {
	d := state.Dossier{Path: p}
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	d.Comune = parts[0]
	name := parts[len(parts)-1]
	d.Number = name
	for _, part := range parts[1 : len(parts)-1] {
		if y, ok := year(part); ok {
			d.Year = y
		}
	}
	if d.Year == 0 {
		for _, t := range words.Tokens(name) {
			if y, ok := year(t.Text); ok {
				d.Year = y
				break
			}
		}
	}
	d.Type = typeOf(name, types)
	return d
}

// year reads a four-digit year of an archive: 1900 to 2100.
func year(s string) (int, bool) {
	if len(s) != 4 {
		return 0, false
	}
	y, err := strconv.Atoi(s)
	return y, err == nil && y >= 1900 && y <= 2100
}

// typeOf is the type whose prefix starts name, the longest prefix first,
// followed by anything but a letter ("PC-", "SCIA 12"); "" when none.
func typeOf(name string, types []Type) string {
	up := strings.ToUpper(name)
	best, bestLen := "", 0
	for _, t := range types {
		for _, pre := range t.Prefixes {
			pre = strings.ToUpper(pre)
			if len(pre) <= bestLen || !strings.HasPrefix(up, pre) {
				continue
			}
			if rest := up[len(pre):]; rest != "" && unicode.IsLetter(rune(rest[0])) {
				continue
			}
			best, bestLen = t.Name, len(pre)
		}
	}
	return best
}

// Lister lists the folders directly in a folder, by namespace path.
type Lister interface {
	Folders(ctx context.Context, p string) ([]string, error)
}

// Walk calls fn with every dossier folder at or below root, as the storage
// holds them: one listing of each folder above the dossiers.
func (r Rule) Walk(ctx context.Context, l Lister, root string, fn func(p string) error) error {
	if r.IsDossier(root) {
		return fn(root)
	}
	if !r.Above(root) {
		return nil
	}
	subs, err := l.Folders(ctx, root)
	if err != nil {
		return err
	}
	for _, s := range subs {
		if err := r.Walk(ctx, l, s, fn); err != nil {
			return err
		}
	}
	return nil
}
