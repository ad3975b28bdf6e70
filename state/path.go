package state

import "path"

// Rebase returns where p, which is src or one of its descendants, lands when
// the tree at src is copied or moved to dst. Stores use it to rewrite the
// paths of a subtree in CopyProps and MoveProps.
func Rebase(p, src, dst string) string {
	if p == src {
		return dst
	}
	// p[len(src):] is "/rest", or "rest" when src is the root; Join handles
	// both, and a dst of "/".
	return path.Join(dst, p[len(src):])
}
