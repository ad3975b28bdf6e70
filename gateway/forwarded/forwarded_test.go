package forwarded

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProxyHandler(t *testing.T) {
	const proxy = "10.0.0.1:41000"
	trusted := []string{"10.0.0.0/24", "192.0.2.10", "2001:db8:1::/48"}
	tests := []struct {
		name    string
		trusted []string
		peer    string              // RemoteAddr
		tls     bool                // the peer's own connection is TLS
		header  map[string][]string // forwarding headers sent
		// What the next handler sees.
		wantRemote string
		wantHost   string // "" : unchanged (example.test)
		wantTLS    bool
	}{
		{name: "no proxies configured: headers ignored", peer: proxy,
			header:     map[string][]string{"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Host": {"archivio.example"}, "X-Forwarded-Proto": {"https"}},
			wantRemote: proxy},
		{name: "untrusted peer: headers ignored", trusted: trusted, peer: "10.0.1.1:5000",
			header:     map[string][]string{"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Host": {"archivio.example"}, "X-Forwarded-Proto": {"https"}},
			wantRemote: "10.0.1.1:5000"},
		{name: "untrusted peer: proto http does not downgrade TLS", trusted: trusted, peer: "10.0.1.1:5000", tls: true,
			header: map[string][]string{"X-Forwarded-Proto": {"http"}}, wantRemote: "10.0.1.1:5000", wantTLS: true},
		{name: "unparsable peer is untrusted", trusted: []string{"0.0.0.0/0"}, peer: "@pipe",
			header: map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, wantRemote: "@pipe"},
		{name: "trusted peer: client address", trusted: trusted, peer: proxy,
			header:     map[string][]string{"X-Forwarded-For": {"203.0.113.9"}},
			wantRemote: "203.0.113.9:0"},
		{name: "trusted by a single address", trusted: trusted, peer: "192.0.2.10:443",
			header:     map[string][]string{"X-Forwarded-For": {"203.0.113.9"}},
			wantRemote: "203.0.113.9:0"},
		{name: "no X-Forwarded-For: the proxy is the client", trusted: trusted, peer: proxy,
			header:     map[string][]string{"X-Forwarded-Proto": {"https"}},
			wantRemote: proxy, wantTLS: true},
		{name: "spoofed chain: the right-most untrusted wins", trusted: trusted, peer: proxy,
			header:     map[string][]string{"X-Forwarded-For": {"198.51.100.66, 203.0.113.9"}},
			wantRemote: "203.0.113.9:0"},
		{name: "spoofed chain naming a trusted proxy", trusted: trusted, peer: proxy,
			header:     map[string][]string{"X-Forwarded-For": {"203.0.113.1, 10.0.0.7, 198.51.100.5"}},
			wantRemote: "198.51.100.5:0"},
		{name: "spoofed garbage left of the client", trusted: trusted, peer: proxy,
			header:     map[string][]string{"X-Forwarded-For": {"<script>, unknown, 203.0.113.9"}},
			wantRemote: "203.0.113.9:0"},
		{name: "chain of trusted proxies", trusted: trusted, peer: proxy,
			header:     map[string][]string{"X-Forwarded-For": {"198.51.100.66, 203.0.113.9, 10.0.0.3, 10.0.0.2"}},
			wantRemote: "203.0.113.9:0"},
		{name: "chain over several header lines", trusted: trusted, peer: proxy,
			header:     map[string][]string{"X-Forwarded-For": {"198.51.100.66", "203.0.113.9, 10.0.0.2"}},
			wantRemote: "203.0.113.9:0"},
		{name: "every hop trusted: the left-most", trusted: trusted, peer: proxy,
			header:     map[string][]string{"X-Forwarded-For": {"10.0.0.9, 10.0.0.2"}},
			wantRemote: "10.0.0.9:0"},
		{name: "garbage next to the proxy: the proxy is the client", trusted: trusted, peer: proxy,
			header:     map[string][]string{"X-Forwarded-For": {"203.0.113.9, unknown"}},
			wantRemote: proxy},
		{name: "hop with a port", trusted: trusted, peer: proxy,
			header:     map[string][]string{"X-Forwarded-For": {"203.0.113.9:51234"}},
			wantRemote: "203.0.113.9:0"},
		{name: "IPv6 hops", trusted: trusted, peer: "[2001:db8:1::2]:443",
			header:     map[string][]string{"X-Forwarded-For": {"2001:db8:2::1, [2001:db8:1::5]:8080"}},
			wantRemote: "[2001:db8:2::1]:0"},
		{name: "IPv4 peer on a dual-stack listener", trusted: trusted, peer: "[::ffff:10.0.0.1]:41000",
			header:     map[string][]string{"X-Forwarded-For": {"::ffff:203.0.113.9"}},
			wantRemote: "203.0.113.9:0"},
		{name: "public host", trusted: trusted, peer: proxy,
			header:     map[string][]string{"X-Forwarded-Host": {"archivio.bassareggiana.it"}},
			wantRemote: proxy, wantHost: "archivio.bassareggiana.it"},
		{name: "public host with port, first of a list", trusted: trusted, peer: proxy,
			header:     map[string][]string{"X-Forwarded-Host": {"archivio.bassareggiana.it:8443, interno:8080"}},
			wantRemote: proxy, wantHost: "archivio.bassareggiana.it:8443"},
		{name: "invalid host ignored", trusted: trusted, peer: proxy,
			header:     map[string][]string{"X-Forwarded-Host": {"evil host/"}},
			wantRemote: proxy},
		{name: "https marks the request secure", trusted: trusted, peer: proxy,
			header:     map[string][]string{"X-Forwarded-Proto": {"HTTPS"}},
			wantRemote: proxy, wantTLS: true},
		{name: "http from a TLS proxy: the client's hop was plain", trusted: trusted, peer: proxy, tls: true,
			header:     map[string][]string{"X-Forwarded-Proto": {"http"}},
			wantRemote: proxy},
		{name: "unknown proto ignored", trusted: trusted, peer: proxy, tls: true,
			header:     map[string][]string{"X-Forwarded-Proto": {"gopher"}},
			wantRemote: proxy, wantTLS: true},
		{name: "all three", trusted: trusted, peer: proxy,
			header: map[string][]string{"X-Forwarded-For": {"203.0.113.9"}, "X-Forwarded-Host": {"archivio.bassareggiana.it"},
				"X-Forwarded-Proto": {"https"}},
			wantRemote: "203.0.113.9:0", wantHost: "archivio.bassareggiana.it", wantTLS: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.trusted)
			if err != nil {
				t.Fatal(err)
			}
			var seen *http.Request
			h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r }))
			r := httptest.NewRequest("PROPFIND", "http://example.test/guastalla/", nil)
			r.RemoteAddr = tt.peer
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, vs := range tt.header {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			h.ServeHTTP(httptest.NewRecorder(), r)

			if seen.RemoteAddr != tt.wantRemote {
				t.Errorf("RemoteAddr %q, want %q", seen.RemoteAddr, tt.wantRemote)
			}
			wantHost := tt.wantHost
			if wantHost == "" {
				wantHost = "example.test"
			}
			if seen.Host != wantHost {
				t.Errorf("Host %q, want %q", seen.Host, wantHost)
			}
			if (seen.TLS != nil) != tt.wantTLS {
				t.Errorf("secure %v, want %v", seen.TLS != nil, tt.wantTLS)
			}
			for k := range seen.Header {
				if strings.HasPrefix(k, "X-Forwarded-") {
					t.Errorf("%s reached the handler", k)
				}
			}
			// The request the server handed over is left as it was.
			for k := range tt.header {
				if r.Header.Get(k) == "" {
					t.Errorf("%s removed from the caller's request", k)
				}
			}
			if r.RemoteAddr != tt.peer || r.Host != "example.test" || (r.TLS != nil) != tt.tls {
				t.Error("the caller's request was changed")
			}
		})
	}
}

func TestProxyParse(t *testing.T) {
	tests := []struct {
		list    []string
		addr    string
		trusts  bool
		wantErr bool
	}{
		{list: nil, addr: "127.0.0.1", trusts: false},
		{list: []string{"127.0.0.1"}, addr: "127.0.0.1", trusts: true},
		{list: []string{"127.0.0.1"}, addr: "127.0.0.2", trusts: false},
		{list: []string{"10.1.2.3/8"}, addr: "10.200.0.1", trusts: true},
		{list: []string{"::1"}, addr: "::1", trusts: true},
		{list: []string{"fd00::/8"}, addr: "fd12::1", trusts: true},
		{list: []string{"::ffff:10.0.0.0/104"}, addr: "10.9.9.9", trusts: true},
		{list: []string{"::ffff:10.0.0.1"}, addr: "10.0.0.1", trusts: true},
		{list: []string{"10.0.0.0/33"}, wantErr: true},
		{list: []string{"proxy.example"}, wantErr: true},
		{list: []string{""}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.list, ",")+" "+tt.addr, func(t *testing.T) {
			p, err := Parse(tt.list)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			a, ok := parseHop(tt.addr)
			if !ok {
				t.Fatalf("bad test address %q", tt.addr)
			}
			if got := p.trusts(a); got != tt.trusts {
				t.Errorf("trusts(%s) = %v, want %v", tt.addr, got, tt.trusts)
			}
		})
	}
}
