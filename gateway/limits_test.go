package gateway

import (
	"net/netip"
	"testing"
)

func TestClientKey(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"10.0.0.1", "10.0.0.1", true},
		{"10.0.0.1", "10.0.0.2", false},
		{"::ffff:10.0.0.1", "10.0.0.1", true},
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true},
		{"2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"fe80::1%eth0", "fe80::2", true},
	} {
		ka, kb := clientKey(netip.MustParseAddr(tc.a)), clientKey(netip.MustParseAddr(tc.b))
		if (ka == kb) != tc.same {
			t.Errorf("%s and %s: keys %v and %v, want same=%v", tc.a, tc.b, ka, kb, tc.same)
		}
	}
}
