package words

import "unicode/utf8"

// Mark is a matched word in a snippet: its byte offsets in Snippet's text.
type Mark struct{ Start, End int }

// Snippet is the part of text, about width bytes, around the first word
// that a term matches, with every matched word in it marked; the start of
// the text, unmarked, when none matches. "…" stands where it cuts text.
func Snippet(text string, terms []Term, width int) (string, []Mark) {
	toks := Tokens(text)
	first := -1
	for i, t := range toks {
		if matchesAny(terms, t.Text) {
			first = i
			break
		}
	}
	start := 0
	if first >= 0 {
		// A third of the width before the word, to show what leads to it.
		start = max(0, toks[first].Start-width/3)
		for start > 0 && !utf8.RuneStart(text[start]) {
			start--
		}
		// From the start of a word.
		for _, t := range toks {
			if t.End > start {
				if t.Start < start {
					start = t.Start
				}
				break
			}
		}
	}
	end := min(len(text), start+width)
	for end < len(text) && !utf8.RuneStart(text[end]) {
		end++
	}
	// To the end of a word.
	for _, t := range toks {
		if t.Start < end && t.End > end {
			end = t.End
			break
		}
	}
	var out []byte
	var marks []Mark
	if start > 0 {
		out = append(out, "…"...)
	}
	off := len(out) - start
	out = append(out, text[start:end]...)
	for _, t := range toks {
		if t.Start >= start && t.End <= end && matchesAny(terms, t.Text) {
			marks = append(marks, Mark{t.Start + off, t.End + off})
		}
	}
	if end < len(text) {
		out = append(out, "…"...)
	}
	return string(out), marks
}

func matchesAny(terms []Term, t string) bool {
	for _, m := range terms {
		if m.Matches(t) {
			return true
		}
	}
	return false
}
