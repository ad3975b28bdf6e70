package dav

import (
	"reflect"
	"testing"

	"golang.org/x/net/webdav"
)

func TestParseIf(t *testing.T) {
	tok := "urn:uuid:181d4fae-7d8c-11d0-a765-00a0c91e6bf2"
	tests := []struct {
		in   string
		want []ifList
		bad  bool
	}{
		{in: "(<" + tok + ">)", want: []ifList{{Conditions: []webdav.Condition{{Token: tok}}}}},
		{in: `(<` + tok + `> ["I am an ETag"]) (["I am another ETag"])`, want: []ifList{
			{Conditions: []webdav.Condition{{Token: tok}, {ETag: `"I am an ETag"`}}},
			{Conditions: []webdav.Condition{{ETag: `"I am another ETag"`}}},
		}},
		{in: `(Not <DAV:no-lock> ["x"])`, want: []ifList{{Conditions: []webdav.Condition{{Not: true, Token: "DAV:no-lock"}, {ETag: `"x"`}}}}},
		{in: `<http://h/a> (<` + tok + `>) <http://h/b> ([W/"e"]) (Not<DAV:no-lock>)`, want: []ifList{
			{Resource: "http://h/a", Conditions: []webdav.Condition{{Token: tok}}},
			{Resource: "http://h/b", Conditions: []webdav.Condition{{ETag: `W/"e"`}}},
			{Resource: "http://h/b", Conditions: []webdav.Condition{{Not: true, Token: "DAV:no-lock"}}},
		}},
		{in: "", bad: true},
		{in: "()", bad: true},
		{in: "(<a>", bad: true},
		{in: "<http://h/a>", bad: true},
		{in: "(<a>) <http://h/a> (<b>)", bad: true},
		{in: "(Not)", bad: true},
		{in: "(<>)", bad: true},
		{in: "([])", bad: true},
		{in: "x", bad: true},
	}
	for _, tt := range tests {
		got, err := parseIf(tt.in)
		if tt.bad {
			if err == nil {
				t.Errorf("parseIf(%q) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseIf(%q) = %#v, %v; want %#v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseIf(f *testing.F) {
	for _, s := range []string{"(<urn:uuid:1>)", `<http://h/a> (Not <DAV:no-lock> ["e"])`, "(", "<a> (<b>) (<c>)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lists, err := parseIf(s)
		if err != nil {
			return
		}
		if len(lists) == 0 {
			t.Fatalf("parseIf(%q) returned no lists and no error", s)
		}
		for _, l := range lists {
			if len(l.Conditions) == 0 {
				t.Fatalf("parseIf(%q) returned an empty list", s)
			}
			for _, c := range l.Conditions {
				if (c.Token == "") == (c.ETag == "") {
					t.Fatalf("parseIf(%q): condition %+v has not exactly one of token and etag", s, c)
				}
			}
		}
	})
}
