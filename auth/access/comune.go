package access

import "strings"

// SplitComune splits a namespace path into its Comune, the first name in
// it, and the path inside the Comune: "/guastalla/2019/PC-1" gives
// "guastalla" and "2019/PC-1", "/guastalla" gives "guastalla" and "", the
// root gives "" and "". Every Comune-wide thing — roles, scopes, quotas,
// the access log's Comune column, where a grant may be made — keys on this
// one reading of a path. It does not say whether the Comune exists: the
// callers that need to know check the name against the configured ones.
func SplitComune(np string) (comune, rest string) {
	comune, rest, _ = strings.Cut(strings.TrimPrefix(np, "/"), "/")
	return comune, rest
}
