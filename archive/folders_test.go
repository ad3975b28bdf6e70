package archive

import (
	"testing"
	"time"
)

func TestFolders(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	seen := []string{"/g", "/g/2019", "/g/2019/PC-1", "/g/2019/PC-1/tavole", "/g/2020"}
	tests := []struct {
		name    string
		change  func(f *folders)
		at      time.Duration // after t0, when the memory is asked
		known   []string
		unknown []string
	}{
		{name: "just seen", known: append([]string{"/"}, seen...)},
		{name: "within the memory", at: folderMemory - time.Millisecond, known: seen},
		{name: "past the memory", at: folderMemory, known: []string{"/"}, unknown: seen},
		{name: "never seen", unknown: []string{"/g/2021", "/g/2019/PC-2"}},
		{name: "a file written: its folder may have been replaced", change: func(f *folders) { f.forget("/g/2019/PC-1/a.pdf", false) },
			known: []string{"/g", "/g/2019", "/g/2019/PC-1/tavole"}, unknown: []string{"/g/2019/PC-1"}},
		{name: "a folder removed", change: func(f *folders) { f.forget("/g/2019/PC-1", true) },
			known: []string{"/g", "/g/2020"}, unknown: []string{"/g/2019", "/g/2019/PC-1", "/g/2019/PC-1/tavole"}},
		{name: "a prefix of another name", change: func(f *folders) { f.forget("/g/20", true) },
			known: []string{"/g/2019", "/g/2019/PC-1", "/g/2020"}, unknown: []string{"/g"}},
		{name: "everything", change: func(f *folders) { f.forget("/", true) },
			known: []string{"/"}, unknown: seen},
		{name: "seen again", change: func(f *folders) {
			f.forget("/g/2019", true)
			f.saw("/g/2019", t0.Add(time.Second))
		}, at: folderMemory, known: []string{"/g/2019"}, unknown: []string{"/g/2019/PC-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFolders()
			for _, p := range seen {
				f.saw(p, t0)
			}
			if tt.change != nil {
				tt.change(f)
			}
			now := t0.Add(tt.at)
			for _, p := range tt.known {
				if !f.known(p, now) {
					t.Errorf("%s is not known", p)
				}
			}
			for _, p := range tt.unknown {
				if f.known(p, now) {
					t.Errorf("%s is known", p)
				}
			}
		})
	}
}

// TestFoldersBounded: the memory starts afresh rather than grow.
func TestFoldersBounded(t *testing.T) {
	f := newFolders()
	now := time.Now()
	for i := range maxFolders + 10 {
		f.saw("/g/"+time.Duration(i).String(), now)
	}
	if n := len(f.seen); n > maxFolders {
		t.Errorf("%d folders remembered, at most %d", n, maxFolders)
	}
}
