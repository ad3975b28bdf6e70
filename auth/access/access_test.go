package access

import (
	"slices"
	"testing"
)

func TestDecide(t *testing.T) {
	const dossier = "/guastalla/2019/PC-2019-0042"
	subjects := map[string]Subject{
		"admin":       {Admin: true, CanWrite: true},
		"reader":      {Roles: map[string]Role{"guastalla": Reader}, CanWrite: true},
		"editor":      {Roles: map[string]Role{"guastalla": Editor}, CanWrite: true},
		"manager":     {Roles: map[string]Role{"guastalla": Manager}, CanWrite: true},
		"grantee-ro":  {Grants: []Grant{{Path: dossier}}, CanWrite: true},
		"grantee-rw":  {Grants: []Grant{{Path: dossier, Write: true}}, CanWrite: true},
		"editor-ro":   {Roles: map[string]Role{"guastalla": Editor}, ReadOnly: true, CanWrite: true},
		"editor-lowL": {Roles: map[string]Role{"guastalla": Editor}, CanWrite: false},
		"scoped":      {Admin: true, Comuni: []string{"luzzara"}, CanWrite: true},
		"nobody":      {CanWrite: true},
	}
	tests := []struct {
		who    string
		action Action
		path   string
		want   Verdict
	}{
		{"admin", DeleteTree, "/luzzara/2020", Allow},
		{"admin", Write, "/", Deny},
		{"nobody", Read, "/", Allow},
		{"nobody", Read, "/guastalla", Hide},
		{"reader", Read, "/guastalla/2019", Allow},
		{"reader", Write, "/guastalla/2019/x.pdf", Deny},
		{"reader", Lock, "/guastalla/2019/x.pdf", Deny},
		{"reader", Read, "/luzzara", Hide},
		{"editor", Write, "/guastalla/2019/x.pdf", Allow},
		{"editor", Delete, "/guastalla/2019/x.pdf", Allow},
		{"editor", DeleteTree, "/guastalla/2019", Deny},
		{"editor", Write, "/luzzara/x.pdf", Hide},
		{"manager", DeleteTree, "/guastalla/2019", Allow},
		{"grantee-ro", Read, dossier + "/tavola.dwg", Allow},
		{"grantee-ro", Read, dossier, Allow},
		{"grantee-ro", Write, dossier + "/tavola.dwg", Deny},
		{"grantee-ro", Copy, dossier + "/tavola.dwg", Deny},
		{"grantee-rw", Copy, dossier + "/tavola.dwg", Allow},
		{"reader", Copy, "/guastalla/2019/x.pdf", Allow},
		{"grantee-ro", Copy, "/guastalla/2019", Deny},
		{"grantee-ro", Read, "/guastalla", Allow},
		{"grantee-ro", Read, "/guastalla/2019", Allow},
		{"grantee-ro", Write, "/guastalla/2019/nuovo.pdf", Hide},
		{"grantee-ro", Write, "/guastalla/2019", Deny},
		{"grantee-ro", Read, "/guastalla/2019/PC-2019-0043", Hide},
		{"grantee-ro", Read, "/guastalla/2019/PC-2019-00421", Hide},
		{"grantee-ro", Read, "/guastalla/2020", Hide},
		{"grantee-ro", Read, "/luzzara", Hide},
		{"grantee-rw", Write, dossier + "/tavola.dwg", Allow},
		{"grantee-rw", Delete, dossier + "/tavola.dwg", Allow},
		{"grantee-rw", DeleteTree, dossier, Deny},
		{"grantee-rw", Write, "/guastalla/2019", Deny},
		{"editor-ro", Read, "/guastalla/x.pdf", Allow},
		{"editor-ro", Write, "/guastalla/x.pdf", Deny},
		{"editor-lowL", Write, "/guastalla/x.pdf", Deny},
		{"editor-lowL", Read, "/guastalla/x.pdf", Allow},
		{"scoped", Read, "/guastalla", Hide},
		{"scoped", Write, "/luzzara/x.pdf", Allow},
	}
	for _, tt := range tests {
		p := NewPolicy(subjects[tt.who])
		if got := p.Decide(tt.action, tt.path); got != tt.want {
			t.Errorf("%s %s %s = %v, want %v", tt.who, tt.action, tt.path, got, tt.want)
		}
	}
}

func TestReadable(t *testing.T) {
	comuni := []string{"guastalla", "luzzara", "reggiolo"}
	for _, tt := range []struct {
		name          string
		s             Subject
		whole, grants []string
	}{
		{"admin", Subject{Admin: true}, comuni, nil},
		{"a role", Subject{Roles: map[string]Role{"luzzara": Reader}}, []string{"luzzara"}, nil},
		{"a grant", Subject{Grants: []Grant{{Path: "/guastalla/2019/PC-2019-0042"}}}, nil, []string{"/guastalla/2019/PC-2019-0042"}},
		{"a grant where a role reads all", Subject{Roles: map[string]Role{"guastalla": Editor}, Grants: []Grant{{Path: "/guastalla/2019"}}}, []string{"guastalla"}, nil},
		{"a credential's scope", Subject{Admin: true, Comuni: []string{"reggiolo"}, Grants: []Grant{{Path: "/guastalla/x"}}}, []string{"reggiolo"}, nil},
		{"nothing", Subject{}, nil, nil},
	} {
		whole, grants := NewPolicy(tt.s).Readable(comuni)
		if !slices.Equal(whole, tt.whole) || !slices.Equal(grants, tt.grants) {
			t.Errorf("%s: Readable = %v, %v; want %v, %v", tt.name, whole, grants, tt.whole, tt.grants)
		}
	}
}
