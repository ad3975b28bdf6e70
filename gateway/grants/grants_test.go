package grants

import (
	"errors"
	"testing"
)

func TestPath(t *testing.T) {
	may := func(c string) bool { return c == "guastalla" }
	for _, tt := range []struct {
		in, want string
		bad      bool
	}{
		{in: "/guastalla/2019/PC-2019-0042", want: "/guastalla/2019/PC-2019-0042"},
		{in: " guastalla/2019/PC-2019-0042/ ", want: "/guastalla/2019/PC-2019-0042"},
		{in: "/guastalla/Universita\u0300", want: "/guastalla/Universit\u00e0"},
		{in: "/guastalla", bad: true},
		{in: "/guastalla/", bad: true},
		{in: "/luzzara/2019", bad: true},
		{in: "/", bad: true},
		{in: "", bad: true},
		{in: "/guastalla/../luzzara/2019", bad: true},
		{in: "/guastalla//2019", bad: true},
		{in: `/guastalla/2019\PC`, bad: true},
	} {
		p, c, err := Path(tt.in, may)
		if tt.bad {
			if !errors.Is(err, ErrBadPath) {
				t.Errorf("Path(%q) = %q, %v; want ErrBadPath", tt.in, p, err)
			}
			continue
		}
		if err != nil || p != tt.want || c != "guastalla" {
			t.Errorf("Path(%q) = %q, %q, %v; want %q", tt.in, p, c, err, tt.want)
		}
	}
}
