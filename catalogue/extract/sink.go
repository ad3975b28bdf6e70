package extract

import (
	"bytes"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// sink collects the text of a file as the extractors find it: it collapses
// whitespace, drops what is not text, and stops taking text past its
// limit, so that extractors can stop reading once it is full.
type sink struct {
	buf     []byte
	max     int
	pending byte // the separator owed before the next word: 0, ' ' or '\n'
}

func newSink(max int) *sink { return &sink{max: max} }

// full reports whether the sink takes no more text.
func (s *sink) full() bool { return len(s.buf) >= s.max }

// space separates what comes next from what came before, as the end of a
// table cell does.
func (s *sink) space() {
	if s.pending == 0 {
		s.pending = ' '
	}
}

// newline separates what comes next by a line break, as the end of a
// paragraph does.
func (s *sink) newline() { s.pending = '\n' }

// text adds str: invalid UTF-8 and control characters are dropped, runs of
// whitespace become one separator, ligatures become their letters (so
// that "ﬁrma" is found as "firma").
func (s *sink) text(str string) {
	for i := 0; i < len(str) && !s.full(); {
		r, n := utf8.DecodeRuneInString(str[i:])
		i += n
		switch {
		case r == utf8.RuneError:
			// Invalid bytes and the decoders' replacement characters.
		case r == '\n' || r == '\f' || r == '\v' || r == '\u2028' || r == '\u2029':
			s.newline()
		case unicode.IsSpace(r) || r == '\u200b':
			s.space()
		case unicode.IsControl(r):
			s.space()
		case unicode.Is(unicode.Cf, r):
			// Soft hyphens, byte order marks, joiners: invisible.
		case r >= 0xfb00 && r <= 0xfb06:
			s.word(norm.NFKC.String(string(r)))
		default:
			s.word(str[i-n : i])
		}
	}
}

// word adds letters, after the separator owed.
func (s *sink) word(w string) {
	if s.pending != 0 {
		if len(s.buf) > 0 {
			s.buf = append(s.buf, s.pending)
		}
		s.pending = 0
	}
	s.buf = append(s.buf, w...)
}

// String returns the text collected, in NFC, at most max bytes cut at a
// rune boundary.
func (s *sink) String() string {
	b := norm.NFC.Bytes(s.buf)
	if len(b) > s.max {
		n := s.max
		for n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
		b = bytes.TrimRight(b[:n], " \n")
	}
	return string(b)
}
