//go:build unix

package local

import (
	"io/fs"
	"syscall"
)

// fileID returns the inode number of the file.
func fileID(info fs.FileInfo) uint64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

// syncDir makes the entries of the folder dir durable: a rename or a new
// name survives a crash only once its folder is synced.
func (b *Backend) syncDir(dir string) error {
	f, err := b.root.Open(dir)
	if err != nil {
		return b.mapErr(err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return b.mapErr(err)
	}
	return nil
}
