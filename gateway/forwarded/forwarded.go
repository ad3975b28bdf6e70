// Package forwarded lets the gateway run behind a reverse proxy. From a
// trusted proxy it takes the client's address, the public host and the
// scheme from X-Forwarded-For, X-Forwarded-Host and X-Forwarded-Proto and
// rewrites the request with them, so that logs, throttling, the audit log,
// Destination checks, absolute URLs and Secure cookies are right without any
// other package knowing about proxies. From anybody else the headers are
// dropped: they are the client's word, and a client could claim any address.
package forwarded

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"golang.org/x/net/http/httpguts"
)

const (
	headerFor   = "X-Forwarded-For"
	headerHost  = "X-Forwarded-Host"
	headerProto = "X-Forwarded-Proto"
)

// Proxies are the trusted proxies. The zero value trusts nobody.
type Proxies struct {
	nets []netip.Prefix
}

// Parse reads trusted proxies given as IP addresses or CIDR prefixes.
func Parse(list []string) (Proxies, error) {
	var p Proxies
	for _, s := range list {
		n, err := parsePrefix(s)
		if err != nil {
			return Proxies{}, err
		}
		p.nets = append(p.nets, n)
	}
	return p, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		n, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		// ::ffff:10.0.0.0/104 would never match: addresses are unmapped.
		if n.Addr().Is4In6() && n.Bits() >= 96 {
			n = netip.PrefixFrom(n.Addr().Unmap(), n.Bits()-96)
		}
		return n.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("trusted proxy %q: want an IP address or a CIDR prefix: %w", s, err)
	}
	a = canonical(a)
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// Trusts reports whether a is the address of a trusted proxy.
func (p Proxies) Trusts(a netip.Addr) bool { return p.trusts(canonical(a)) }

func (p Proxies) trusts(a netip.Addr) bool {
	for _, n := range p.nets {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

// Handler rewrites each request as the package comment says, then passes
// it to next. It belongs at the front of the handler chain.
func (p Proxies) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, p.rewrite(r))
	})
}

// rewrite returns r as the client sent it to the first proxy, as far as
// trusted proxies tell, without the forwarding headers.
func (p Proxies) rewrite(r *http.Request) *http.Request {
	h := r.Header
	if len(h[headerFor]) == 0 && len(h[headerHost]) == 0 && len(h[headerProto]) == 0 {
		return r
	}
	// Handlers must not change the request they are given: work on a copy.
	r = r.Clone(r.Context())
	hops, hosts, protos := values(r.Header, headerFor), values(r.Header, headerHost), values(r.Header, headerProto)
	for _, k := range []string{headerFor, headerHost, headerProto} {
		r.Header.Del(k)
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	peer := canonical(ap.Addr())
	if err != nil || !p.trusts(peer) {
		return r
	}
	if client := p.client(peer, hops); client != peer {
		// The client's port is not known behind a proxy: 0 says so, and
		// keeps RemoteAddr in the host:port form everybody parses.
		r.RemoteAddr = netip.AddrPortFrom(client, 0).String()
	}
	// A list comes from proxies that append; the first value is the one
	// the proxy facing the client set.
	if len(hosts) > 0 && httpguts.ValidHostHeader(hosts[0]) {
		r.Host = hosts[0]
	}
	if len(protos) > 0 {
		switch strings.ToLower(protos[0]) {
		case "https":
			if r.TLS == nil {
				// The pages and cookies look only at whether r.TLS is set.
				r.TLS = &tls.ConnectionState{}
			}
		case "http":
			// The client's hop was plain, whatever the proxy's hop to us.
			r.TLS = nil
		}
	}
	return r
}

// client walks X-Forwarded-For from the right, where the trusted proxies
// appended the address each of them saw, past every trusted proxy: the first
// address that is not one is the client. Whatever is further left was
// written by the client, or by proxies nobody vouches for, and may be
// invented. When every hop is a trusted proxy, the left-most is the client;
// an entry that is not an address ends the walk, as nothing beyond it can
// be placed.
func (p Proxies) client(peer netip.Addr, hops []string) netip.Addr {
	client := peer
	for i := len(hops) - 1; i >= 0 && p.trusts(client); i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = a
	}
	return client
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a
// port, IPv6 possibly in brackets.
func parseHop(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return canonical(ap.Addr()), true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if err != nil {
		return netip.Addr{}, false
	}
	return canonical(a), true
}

// canonical drops what would keep an address from matching a prefix: the
// IPv4-in-IPv6 form a dual-stack listener reports, and an IPv6 zone.
func canonical(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

// values splits every line of a comma-separated header into its items.
func values(h http.Header, key string) []string {
	var out []string
	for _, line := range h.Values(key) {
		for _, v := range strings.Split(line, ",") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}
