//go:build !unix

package local

import "io/fs"

// fileID returns 0: FileInfo carries no file identity here, and the ETag
// relies on the modification time alone.
func fileID(fs.FileInfo) uint64 { return 0 }

// syncDir does nothing: a folder cannot be synced here (on Windows, NTFS
// journals renames itself).
func (b *Backend) syncDir(string) error { return nil }
