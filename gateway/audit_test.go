package gateway

import "testing"

func TestComuneOf(t *testing.T) {
	a := newComunes([]string{"guastalla", "luzzara"})
	for _, tt := range []struct{ path, want string }{
		{"/guastalla/2019/PC-2019-0042/domanda.pdf", "guastalla"},
		{"/luzzara", "luzzara"},
		{"/luzzara/", "luzzara"},
		{"/", ""},
		{"/favicon.ico", ""},
		{"/desktop.ini", ""},
		{"/guastallax/a", ""},
	} {
		if got := a.comuneOf(tt.path); got != tt.want {
			t.Errorf("comuneOf(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
