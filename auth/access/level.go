package access

import (
	"fmt"
	"slices"

	"github.com/bassareggiana/faldone/auth"
	"github.com/bassareggiana/faldone/auth/oidc"
)

// WriteLevel is access.min_write_acr: writing needs a sign-in at a minimum
// SPID level of assurance. It is the one statement of that rule: Rules
// sets Subject.CanWrite from it for WebDAV and the pages alike, and the
// pages make a read-write app password only for a session it lets write.
//
// The rule binds the credentials that carry the level their sign-in
// reached, sessions and Bearer tokens: they write at the minimum or above.
// A level that is missing or not a SPID level ranks below all, so a local
// account's session, which has none, reads only. App passwords and local
// accounts' passwords (HTTP Basic) carry no level and are not bound: a
// read-write app password is made only from a session this rule lets
// write, and local accounts are the administrator's. A credential that
// does report a level is judged by it, and any other way of signing in is
// bound, so that a new one cannot write by being forgotten here. The zero
// WriteLevel sets no minimum.
type WriteLevel struct{ min string }

// NewWriteLevel reads access.min_write_acr: empty for no minimum, or one
// of the SPID levels. Another value is refused rather than ranked: a
// minimum that ranks below all would let every level write.
func NewWriteLevel(min string) (WriteLevel, error) {
	if min != "" && levelRank(min) < 0 {
		return WriteLevel{}, fmt.Errorf("access.min_write_acr %q is not a SPID level (%v)", min, oidc.SpidLevels())
	}
	return WriteLevel{min: min}, nil
}

// Allows reports whether the credential id signed in with may write.
func (l WriteLevel) Allows(id auth.Identity) bool {
	if l.min == "" {
		return true
	}
	if id.ACR == "" && (id.Method == "app-password" || id.Method == "local") {
		return true
	}
	return levelRank(id.ACR) >= levelRank(l.min)
}

// levelRank orders SPID levels from 0; unknown values rank -1, below all.
func levelRank(acr string) int { return slices.Index(oidc.SpidLevels(), acr) }
