package web

import (
	"errors"
	"strconv"
	"strings"

	"github.com/bassareggiana/faldone/archive"
	"github.com/bassareggiana/faldone/backends"
)

// defaultSearchLimit bounds the entries one search looks at: a thousand
// listed per storage request, so fifty requests at most.
const defaultSearchLimit = 50_000

func (h *Handler) searchLimit() int {
	if h.cfg.SearchLimit > 0 {
		return h.cfg.SearchLimit
	}
	return defaultSearchLimit
}

// thousandsText writes a count as Italian pages do: "50.000".
func thousandsText(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "." + s[i:]
	}
	return s
}

// search finds the entries below folder p, at any depth, whose name holds
// needle (case aside), among those the person may see. It walks listings:
// complete is false when it stopped at the search limit.
func (h *Handler) search(op *archive.Op, p string, needle string) (found []archiveEntry, complete bool, err error) {
	needle = strings.ToLower(needle)
	roots := []string{p}
	if p == "/" {
		// The root is the Comuni, each its own storage: search each.
		comuni, err := h.listAll(op, "/")
		if err != nil {
			return nil, false, err
		}
		roots = roots[:0]
		for _, c := range comuni {
			if strings.Contains(strings.ToLower(c.Name), needle) {
				found = append(found, c)
			}
			roots = append(roots, c.path)
		}
	}
	seen := 0
	for _, root := range roots {
		for page, err := range op.Pages(root, true) {
			if err != nil {
				if errors.Is(err, backends.ErrNotFound) && root != p {
					break // a Comune without its folder yet
				}
				return nil, false, err
			}
			for _, e := range page.Entries {
				if !strings.Contains(strings.ToLower(e.Name()), needle) {
					continue
				}
				np := "/" + e.Path
				ae := h.entry(np, e, op)
				// Found below the folder: the name says where.
				ae.Name = strings.TrimPrefix(np, strings.TrimSuffix(p, "/")+"/")
				found = append(found, ae)
			}
			seen += page.Listed
			if seen >= h.searchLimit() {
				return found, false, nil
			}
		}
	}
	return found, true, nil
}
