package backends_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/bassareggiana/faldone/backends"
)

// pager is a listing of pages of entries named "p<page>e<entry>": page i
// has the token strconv.Itoa(i), page 0 the empty one. It records the
// tokens it is asked for, and fails the request for the page failAt.
type pager struct {
	sizes  []int
	failAt int // -1: never
	// block, when set, makes every request but the first wait for its
	// context to end; started is told of each request.
	block   bool
	started chan string

	mu       sync.Mutex
	asked    []string
	returned int
}

var errStorage = errors.New("storage failed")

func (p *pager) List(ctx context.Context, dir string, opts backends.ListOptions) (backends.Page, error) {
	p.mu.Lock()
	p.asked = append(p.asked, opts.Token)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.returned++
		p.mu.Unlock()
	}()
	if p.started != nil {
		p.started <- opts.Token
	}
	if dir != "d" || !opts.Recursive {
		return backends.Page{}, fmt.Errorf("listed %q, %+v: want d, recursive", dir, opts)
	}
	i := 0
	if opts.Token != "" {
		var err error
		if i, err = strconv.Atoi(opts.Token); err != nil || i <= 0 || i >= len(p.sizes) {
			return backends.Page{}, fmt.Errorf("bad token %q", opts.Token)
		}
	}
	if p.block && i > 0 {
		<-ctx.Done()
		return backends.Page{}, ctx.Err()
	}
	if i == p.failAt {
		return backends.Page{}, errStorage
	}
	var page backends.Page
	for j := range p.sizes[i] {
		page.Entries = append(page.Entries, backends.Entry{Path: fmt.Sprintf("p%de%d", i, j)})
	}
	if i+1 < len(p.sizes) {
		page.Next = strconv.Itoa(i + 1)
	}
	return page, nil
}

func (p *pager) tokens() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.asked)
}

// names lists the entries of pages from..to-1 of sizes.
func names(sizes []int, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		for j := range sizes[i] {
			out = append(out, fmt.Sprintf("p%de%d", i, j))
		}
	}
	return out
}

// collect runs a loop over seq that stops after limit entries (no limit
// when negative), and returns the entries and the error it saw.
func collect(seq iter.Seq2[backends.Entry, error], limit int) ([]string, error) {
	var got []string
	for e, err := range seq {
		if err != nil {
			if e != (backends.Entry{}) {
				return got, fmt.Errorf("error %v came with entry %+v", err, e)
			}
			return got, err
		}
		if len(got) == limit {
			break
		}
		got = append(got, e.Path)
	}
	return got, nil
}

// entries flattens a sequence of pages, as All does, for Pages and Ahead.
func entries(seq iter.Seq2[backends.Page, error]) iter.Seq2[backends.Entry, error] {
	return func(yield func(backends.Entry, error) bool) {
		for page, err := range seq {
			if err != nil {
				if page.Entries != nil || page.Next != "" {
					err = fmt.Errorf("error %v came with a page %+v", err, page)
				}
				yield(backends.Entry{}, err)
				return
			}
			for _, e := range page.Entries {
				if !yield(e, nil) {
					return
				}
			}
		}
	}
}

func TestListingLoops(t *testing.T) {
	opts := backends.ListOptions{Recursive: true}
	tests := []struct {
		name   string
		sizes  []int
		failAt int
		token  string // where the loop starts
		limit  int    // entries the loop takes before it breaks; -1: all
		want   []string
		err    error
		asked  []string // what Pages and All request
	}{
		{name: "one page", sizes: []int{3}, failAt: -1, limit: -1,
			want: names([]int{3}, 0, 1), asked: []string{""}},
		{name: "empty", sizes: []int{0}, failAt: -1, limit: -1, asked: []string{""}},
		{name: "several pages", sizes: []int{2, 3, 1}, failAt: -1, limit: -1,
			want: names([]int{2, 3, 1}, 0, 3), asked: []string{"", "1", "2"}},
		{name: "an empty page in the middle", sizes: []int{2, 0, 1}, failAt: -1, limit: -1,
			want: names([]int{2, 0, 1}, 0, 3), asked: []string{"", "1", "2"}},
		{name: "from a token", sizes: []int{2, 3, 1}, failAt: -1, token: "1", limit: -1,
			want: names([]int{2, 3, 1}, 1, 3), asked: []string{"1", "2"}},
		{name: "error on the first page", sizes: []int{2, 3}, failAt: 0, limit: -1,
			err: errStorage, asked: []string{""}},
		{name: "error mid-way", sizes: []int{2, 3, 1}, failAt: 1, limit: -1,
			want: names([]int{2, 3, 1}, 0, 1), err: errStorage, asked: []string{"", "1"}},
		{name: "break in the first page", sizes: []int{2, 3, 1}, failAt: -1, limit: 1,
			want: []string{"p0e0"}, asked: []string{""}},
		{name: "break at the end of a page", sizes: []int{2, 3, 1}, failAt: -1, limit: 5,
			want: names([]int{2, 3, 1}, 0, 2), asked: []string{"", "1", "2"}},
		{name: "break before an error", sizes: []int{2, 3, 1}, failAt: 2, limit: 4,
			want: names([]int{2, 3, 1}, 0, 2)[:4], asked: []string{"", "1"}},
	}
	for _, tt := range tests {
		loops := []struct {
			name string
			run  func(*pager) iter.Seq2[backends.Entry, error]
			// asked is what the loop requests besides the first page,
			// which Ahead is given.
			asked []string
		}{
			{"All", func(p *pager) iter.Seq2[backends.Entry, error] {
				return backends.All(t.Context(), p, "d", backends.ListOptions{Recursive: true, Token: tt.token})
			}, tt.asked},
			{"Pages", func(p *pager) iter.Seq2[backends.Entry, error] {
				return entries(backends.Pages(t.Context(), p, "d", backends.ListOptions{Recursive: true, Token: tt.token}))
			}, tt.asked},
			{"Ahead", func(p *pager) iter.Seq2[backends.Entry, error] {
				o := opts
				o.Token = tt.token
				first, err := p.List(t.Context(), "d", o)
				if err != nil {
					return func(yield func(backends.Entry, error) bool) { yield(backends.Entry{}, err) }
				}
				return entries(backends.Ahead(t.Context(), p, "d", opts, first))
			}, aheadAsked(tt.sizes, tt.asked, len(tt.want) == tt.limit)},
		}
		for _, l := range loops {
			t.Run(tt.name+"/"+l.name, func(t *testing.T) {
				p := &pager{sizes: tt.sizes, failAt: tt.failAt}
				got, err := collect(l.run(p), tt.limit)
				if !slices.Equal(got, tt.want) {
					t.Errorf("entries %q, want %q", got, tt.want)
				}
				if !errors.Is(err, tt.err) || (err == nil) != (tt.err == nil) {
					t.Errorf("error %v, want %v", err, tt.err)
				}
				if asked := p.tokens(); !slices.Equal(asked, l.asked) {
					t.Errorf("requested pages %q, want %q", asked, l.asked)
				}
				if p.returned != len(p.asked) {
					t.Errorf("%d requests of %d returned when the loop ended", p.returned, len(p.asked))
				}
			})
		}
	}
}

// aheadAsked is what Ahead requests where Pages requests asked: the page
// after the last one too when the loop broke, since it asks for it as soon
// as the one before is yielded.
func aheadAsked(sizes []int, asked []string, broke bool) []string {
	if !broke {
		return asked
	}
	last := asked[len(asked)-1]
	i := 0
	if last != "" {
		i, _ = strconv.Atoi(last)
	}
	if i+1 < len(sizes) {
		return append(slices.Clone(asked), strconv.Itoa(i+1))
	}
	return asked
}

// TestAheadOverlaps: the request for the next page starts while the loop
// works on the page before, and a loop that breaks cancels it and waits
// for it to return.
func TestAheadOverlaps(t *testing.T) {
	p := &pager{sizes: []int{2, 2, 2}, failAt: -1, block: true, started: make(chan string, 4)}
	opts := backends.ListOptions{Recursive: true}
	first, err := p.List(t.Context(), "d", opts)
	if err != nil {
		t.Fatal(err)
	}
	<-p.started
	n := 0
	for page, err := range backends.Ahead(t.Context(), p, "d", opts, first) {
		if err != nil {
			t.Fatalf("Ahead: %v", err)
		}
		n++
		select {
		case tok := <-p.started:
			if tok != page.Next {
				t.Errorf("requested page %q while on the page before %q", tok, page.Next)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the next page was not requested while the loop worked on the first")
		}
		break
	}
	if n != 1 {
		t.Errorf("the loop ran %d times, want once", n)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.returned != 2 {
		t.Errorf("%d of 2 requests returned when Ahead did: the one in flight was left behind", p.returned)
	}
}
