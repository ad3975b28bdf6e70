package state

import (
	"context"
	"errors"
	"time"
)

// KeptKind tells what a kept resource is to the people who look for it.
type KeptKind string

const (
	// KindDeleted: a file or folder that a delete, or a copy or move over
	// it, removed: an entry of the recycle bin (cestino).
	KindDeleted KeptKind = "deleted"
	// KindVersion: an earlier content of the file at Path, which a write
	// replaced: a previous version (versione).
	KindVersion KeptKind = "version"
)

// Kept is what the recycle bin or the versions hold: a file or a folder
// that a change removed from sight, set aside in the storage for a while
// (the retention), restorable as a whole.
type Kept struct {
	ID    string   // chosen by the caller: unique, 1–64 of [A-Za-z0-9_-]
	Kind  KeptKind // KindDeleted or KindVersion
	Path  string   // namespace path it was at (a version: the file it was a content of)
	IsDir bool
	Size  int64  // bytes of its files
	Files int    // how many files
	By    string // who removed or replaced it, as the audit names them
	From  string // the way in and the address ("WebDAV 10.1.2.3", "pagine 10.1.2.3", "riga di comando")
	At    time.Time
	// Storage is the backend's own word for where the whole is kept, as
	// opaque to the store as the items' locators ("" when it has none).
	Storage string
}

// KeptItem is one file or folder of a Kept: the file itself for a kept
// file, every file and folder below the kept folder for a folder.
type KeptItem struct {
	Rel       string // path below Kept.Path, without a leading slash; "" for the kept file itself
	IsDir     bool
	Size      int64
	ModTime   time.Time
	Locator   string // the backend's locator of the kept content; "" for folders
	SHA256    [32]byte
	HasSHA256 bool
	Props     []Prop // its dead properties
}

// KeptQuery selects kept resources.
type KeptQuery struct {
	Kind KeptKind // "" for both kinds
	// Path: "" selects all; otherwise those at Path and, with Tree, below it.
	Path string
	Tree bool
	// Search, when set, keeps those whose Path contains it, compared
	// case-insensitively (ASCII and Unicode lower-casing as Go's strings.ToLower).
	Search string
	// Before, when set, keeps those removed before it (retention).
	Before time.Time
	// Limit bounds how many come back (0: no bound); Offset skips the first ones.
	Limit, Offset int
}

// Departure is a file moved away from a path, which a save sequence may
// fill again in a moment (AutoCAD: name.dwg → name.bak, then name.tmp →
// name.dwg): the content now at To is then the earlier content of From.
type Departure struct {
	From, To string // namespace paths
	ETag     string // of the file moved, at To (archive.Version)
	Size     int64
	At       time.Time
}

// DepartureRetention is how long a departure is worth keeping: a save
// sequence fills the path again within seconds, and Store.DeleteExpired
// removes the departures older than this.
const DepartureRetention = time.Hour

// TrashStore keeps the recycle bin and the previous versions: the records
// of kept resources (their content stays in the storage, where the
// locators say), and the recent departures of files.
type TrashStore interface {
	// PutKept records k with its items (a folder's may be thousands), in
	// one transaction; ErrExists when k.ID is recorded already.
	PutKept(ctx context.Context, k Kept, items []KeptItem) error
	// KeptByID returns the record id; ErrNotFound when there is none.
	KeptByID(ctx context.Context, id string) (Kept, error)
	// KeptItems calls fn with each item of id in byte order of Rel
	// (a folder before what it holds), streaming, and returns fn's first
	// error as it is; ErrNotFound when id is not recorded.
	KeptItems(ctx context.Context, id string, fn func(KeptItem) error) error
	// ListKept returns the records q selects, newest first (At
	// descending, then ID), and how many q selects without Limit and Offset.
	ListKept(ctx context.Context, q KeptQuery) ([]Kept, int, error)
	// ReclassifyKept gives the record id another kind and path (a file
	// deleted and written again at once becomes a version of the new
	// one); ErrNotFound.
	ReclassifyKept(ctx context.Context, id string, kind KeptKind, path string) error
	// MoveVersions moves the versions (KindVersion) recorded for the tree
	// at src to the same places below dst, as a rename moves the files.
	MoveVersions(ctx context.Context, src, dst string) error
	// DeleteKept removes the record id and its items; ErrNotFound.
	DeleteKept(ctx context.Context, id string) error

	// PutDeparture records d, replacing one recorded for d.From; a
	// departure older than DepartureRetention goes at DeleteExpired.
	PutDeparture(ctx context.Context, d Departure) error
	// TakeDeparture removes and returns the departure recorded for from,
	// if it happened at or after since; ok is false when there is none
	// (one older than since is removed all the same). Of callers racing
	// for it, exactly one gets it.
	TakeDeparture(ctx context.Context, from string, since time.Time) (d Departure, ok bool, err error)
}

// Check refuses a record no store may hold, so that the stores agree.
func (k Kept) Check() error {
	if !validKeptID(k.ID) {
		return errors.New("the ID must be 1–64 of A-Z a-z 0-9 _ -")
	}
	if err := CheckKeptPlace(k.Kind, k.Path); err != nil {
		return err
	}
	switch {
	case !IsValidText(k.By) || !IsValidText(k.From) || !IsValidText(k.Storage):
		return errors.New("By, From and Storage must be valid UTF-8 without NUL")
	case k.Size < 0 || k.Files < 0:
		return errors.New("size and files must not be negative")
	case k.At.IsZero():
		return errors.New("At must be set")
	}
	return nil
}

// Check refuses an item no store may hold.
func (it KeptItem) Check() error {
	switch {
	case !IsValidText(it.Rel) || !IsValidText(it.Locator):
		return errors.New("Rel and Locator must be valid UTF-8 without NUL")
	case len(it.Rel) > 0 && (it.Rel[0] == '/' || it.Rel[len(it.Rel)-1] == '/'):
		return errors.New("Rel has no leading or trailing slash")
	case it.Size < 0:
		return errors.New("the size must not be negative")
	case !it.IsDir && it.Locator == "":
		return errors.New("a file needs its locator")
	}
	return nil
}

// Check refuses a departure no store may hold.
func (d Departure) Check() error {
	switch {
	case d.From == "" || d.From[0] != '/' || !IsValidText(d.From):
		return errors.New("From must be a namespace path of valid text")
	case d.To == "" || d.To[0] != '/' || !IsValidText(d.To):
		return errors.New("To must be a namespace path of valid text")
	case !IsValidText(d.ETag):
		return errors.New("the ETag must be valid UTF-8 without NUL")
	case d.Size < 0:
		return errors.New("the size must not be negative")
	case d.At.IsZero():
		return errors.New("At must be set")
	}
	return nil
}

// CheckKeptPlace refuses a kind and a path that no record may have, as
// Kept.Check does: for ReclassifyKept and MoveVersions, which change them.
func CheckKeptPlace(kind KeptKind, path string) error {
	switch {
	case kind != KindDeleted && kind != KindVersion:
		return errors.New("the kind must be deleted or version")
	case path == "" || path[0] != '/' || !IsValidText(path):
		return errors.New("the path must be a namespace path of valid text")
	}
	return nil
}

func validKeptID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
