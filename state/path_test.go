package state

import "testing"

func TestRebase(t *testing.T) {
	tests := []struct {
		p, src, dst, want string
	}{
		{"/a", "/a", "/b", "/b"},
		{"/a/x", "/a", "/b", "/b/x"},
		{"/a/x/y", "/a", "/b/c", "/b/c/x/y"},
		{"/a/x", "/a", "/", "/x"},
		{"/a", "/a", "/", "/"},
		{"/", "/", "/b", "/b"},
		{"/x/y", "/", "/b", "/b/x/y"},
		{"/a%_\\/é 'q'", "/a%_\\", "/d", "/d/é 'q'"},
	}
	for _, tt := range tests {
		if got := Rebase(tt.p, tt.src, tt.dst); got != tt.want {
			t.Errorf("Rebase(%q, %q, %q) = %q, want %q", tt.p, tt.src, tt.dst, got, tt.want)
		}
	}
}
