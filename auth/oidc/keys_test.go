package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// jwksServer serves a key set that a test may change, and counts fetches.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []jose.JSONWebKey
	fetches atomic.Int64
}

func newJWKSServer(t *testing.T) *jwksServer {
	s := &jwksServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: s.keys})
	}))
	t.Cleanup(s.Close)
	return s
}

// publish makes the key with kid the server's only public key.
func (s *jwksServer) publish(kid string, k *ecdsa.PrivateKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = []jose.JSONWebKey{{Key: k.Public(), KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"}}
}

func signES256(t *testing.T, kid string, k *ecdsa.PrivateKey, payload string) string {
	t.Helper()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{}).WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := sig.Sign([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// keySetOf returns a key set of a provider that publishes the key kid, and
// the clock the key set reads.
func keySetOf(t *testing.T, kid string, k *ecdsa.PrivateKey) (*jwksServer, *keySet, *time.Time) {
	srv := newJWKSServer(t)
	srv.publish(kid, k)
	ks := newKeySet(srv.URL, srv.Client(), []string{"ES256"})
	clock := time.Unix(1_700_000_000, 0)
	ks.now = func() time.Time { return clock }
	return srv, ks, &clock
}

// TestKeySetForgedTokens: tokens that no key of the provider verifies make
// the gateway fetch the provider's keys at most once per keyRefresh.
func TestKeySetForgedTokens(t *testing.T) {
	good, forger := ecKey(t), ecKey(t)
	srv, ks, clock := keySetOf(t, "k1", good)
	if p, err := ks.VerifySignature(t.Context(), signES256(t, "k1", good, "vero")); err != nil || string(p) != "vero" {
		t.Fatalf("a genuine token: %q, %v", p, err)
	}
	for i := range 100 {
		kid := "k1" // a known key id with a forged signature, then unknown ones
		if i%2 == 1 {
			kid = "sconosciuta"
		}
		if _, err := ks.VerifySignature(t.Context(), signES256(t, kid, forger, "falso")); err == nil {
			t.Fatal("a forged token verified")
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Errorf("%d fetches of the keys for 100 forged tokens within %v, want 1", n, keyRefresh)
	}
	// After the interval, one forged token may make one fetch again.
	*clock = clock.Add(keyRefresh)
	for range 10 {
		ks.VerifySignature(t.Context(), signES256(t, "sconosciuta", forger, "falso"))
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Errorf("%d fetches after the interval, want 2", n)
	}
}

// TestKeySetRotation: a token signed with a key the provider has rotated
// to is verified once the keys may be fetched again.
func TestKeySetRotation(t *testing.T) {
	old, next := ecKey(t), ecKey(t)
	srv, ks, clock := keySetOf(t, "k1", old)
	if _, err := ks.VerifySignature(t.Context(), signES256(t, "k1", old, "primo")); err != nil {
		t.Fatal(err)
	}
	srv.publish("k2", next)
	*clock = clock.Add(keyRefresh + time.Second)
	if p, err := ks.VerifySignature(t.Context(), signES256(t, "k2", next, "dopo")); err != nil || string(p) != "dopo" {
		t.Fatalf("a token of the new key: %q, %v", p, err)
	}
	// A token of the retired key is refused now.
	if _, err := ks.VerifySignature(t.Context(), signES256(t, "k1", old, "vecchio")); err == nil {
		t.Error("a token of the retired key verified")
	}
}

// TestKeySetAlgorithms: a token signed with an algorithm the provider does
// not use, "none" among them, is refused before any key is tried.
func TestKeySetAlgorithms(t *testing.T) {
	srv := newJWKSServer(t)
	k := ecKey(t)
	srv.publish("k1", k)
	ks := newKeySet(srv.URL, srv.Client(), []string{"RS256"})
	if _, err := ks.VerifySignature(t.Context(), signES256(t, "k1", k, "x")); err == nil {
		t.Error("an ES256 token verified where only RS256 is used")
	}
	none := "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."
	if _, err := ks.VerifySignature(t.Context(), none); err == nil {
		t.Error(`an "alg": "none" token verified`)
	}
	if n := srv.fetches.Load(); n != 0 {
		t.Errorf("%d fetches for tokens refused by their algorithm", n)
	}
}
