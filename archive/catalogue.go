package archive

import "context"

// Cataloguer is told of the changes that the dossier catalogue follows
// (package catalogue), once each is made: every way in — WebDAV, the
// pages, the commands, the importer — changes the archive here, so the
// catalogue is right whichever made the change. It decides nothing: a
// failure of its own is its own to log.
type Cataloguer interface {
	FolderMade(ctx context.Context, p, by string)
	Moved(ctx context.Context, from, to string, isDir bool, by string)
	Copied(ctx context.Context, from, to string, isDir bool, by string)
	Deleted(ctx context.Context, p string, isDir bool)
	Restored(ctx context.Context, from, to string, isDir bool, by string)
	Purged(ctx context.Context, p string, isDir bool)
	Written(ctx context.Context, p string)
}

// noCatalogue follows nothing: the archive without a catalogue.
type noCatalogue struct{}

func (noCatalogue) FolderMade(context.Context, string, string)             {}
func (noCatalogue) Moved(context.Context, string, string, bool, string)    {}
func (noCatalogue) Copied(context.Context, string, string, bool, string)   {}
func (noCatalogue) Deleted(context.Context, string, bool)                  {}
func (noCatalogue) Restored(context.Context, string, string, bool, string) {}
func (noCatalogue) Purged(context.Context, string, bool)                   {}
func (noCatalogue) Written(context.Context, string)                        {}

// catalogue is the service's Cataloguer, or one that follows nothing.
func (s *Service) catalogue() Cataloguer {
	if s.opts.Catalogue == nil {
		return noCatalogue{}
	}
	return s.opts.Catalogue
}
