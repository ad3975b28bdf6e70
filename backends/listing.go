package backends

import (
	"context"
	"iter"
)

// Lister is the part of a Backend that a listing loop needs.
type Lister interface {
	List(ctx context.Context, dir string, opts ListOptions) (Page, error)
}

// Pages yields the pages of the listing of dir that opts selects, from
// opts.Token on, for a range loop. Each page costs one List, made when the
// loop asks for it: a loop that breaks fetches no further page. A List that
// fails is yielded with an empty page, and ends the sequence.
func Pages(ctx context.Context, b Lister, dir string, opts ListOptions) iter.Seq2[Page, error] {
	return func(yield func(Page, error) bool) {
		for {
			page, err := b.List(ctx, dir, opts)
			if err != nil {
				yield(Page{}, err)
				return
			}
			if !yield(page, nil) || page.Next == "" {
				return
			}
			opts.Token = page.Next
		}
	}
}

// All yields the entries of the pages that Pages yields, at the same cost,
// and its error, if any, with a zero Entry, last.
func All(ctx context.Context, b Lister, dir string, opts ListOptions) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		for page, err := range Pages(ctx, b, dir, opts) {
			if err != nil {
				yield(Entry{}, err)
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

// Ahead is Pages for a loop whose work on a page takes long, such as writing
// it to a client, and which has the first page already: it yields first, the
// page that List(ctx, dir, opts) gave, then the pages after it. Each costs
// one List as in Pages, but made as soon as the page before it is yielded,
// so that the storage's latency and the loop's work overlap. A loop that
// breaks cancels the request in flight, and Ahead returns once it has.
func Ahead(ctx context.Context, b Lister, dir string, opts ListOptions, first Page) iter.Seq2[Page, error] {
	return func(yield func(Page, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		type result struct {
			page Page
			err  error
		}
		var pending chan result
		defer func() {
			if pending != nil {
				cancel()
				<-pending
			}
		}()
		for page := first; ; {
			if page.Next != "" {
				pending = make(chan result, 1)
				o := opts
				o.Token = page.Next
				go func(ch chan<- result) {
					p, err := b.List(ctx, dir, o)
					ch <- result{p, err}
				}(pending)
			}
			if !yield(page, nil) || pending == nil {
				return
			}
			r := <-pending
			pending = nil
			if r.err != nil {
				yield(Page{}, r.err)
				return
			}
			page = r.page
		}
	}
}
