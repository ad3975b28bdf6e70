package archive

import (
	"context"
	"errors"
	"io"

	"github.com/bassareggiana/faldone/auth/access"
	"github.com/bassareggiana/faldone/backends"
)

// SystemName is the principal of the archive's own work (the text index):
// every right, no person's.
const SystemName = "faldone"

// system is an operation of the archive's own.
func (s *Service) system(ctx context.Context) *Op {
	return s.Begin(ctx, Caller{Principal: SystemName, From: "faldone", Policy: access.NewPolicy(access.Subject{Admin: true})})
}

// Reader reads the archive for its own work, past every person's rights:
// what the text index reads (catalogue.Files).
type Reader struct{ s *Service }

// Reader returns the service's reader of its own.
func (s *Service) Reader() Reader { return Reader{s} }

// Stat describes p: a folder, or a file in its version.
func (r Reader) Stat(ctx context.Context, p string) (bool, string, error) {
	e, err := r.s.system(ctx).Info(p)
	if err != nil {
		return false, "", err
	}
	return e.IsDir, Version(e), nil
}

// Open reads the file p.
func (r Reader) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	obj, err := r.s.system(ctx).Open(p, nil)
	if err != nil {
		return nil, err
	}
	return obj.Body, nil
}

// Files calls fn with every file below the folder p.
func (r Reader) Files(ctx context.Context, p string, fn func(string) error) error {
	for e, err := range r.s.system(ctx).List(p, true) {
		if err != nil {
			return err
		}
		if !e.IsDir {
			if err := fn(namespacePath(e.Path)); err != nil {
				return err
			}
		}
	}
	return nil
}

// NotFound reports whether err says that nothing is there.
func (Reader) NotFound(err error) bool {
	return errors.Is(err, backends.ErrNotFound) || errors.Is(err, ErrNotFound)
}

// Folders lists the folders directly in the folder p; none when p is not
// there (a Comune without its folder yet).
func (r Reader) Folders(ctx context.Context, p string) ([]string, error) {
	var out []string
	for e, err := range r.s.system(ctx).List(p, false) {
		if r.NotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if e.IsDir {
			out = append(out, namespacePath(e.Path))
		}
	}
	return out, nil
}
