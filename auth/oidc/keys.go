package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// keyRefresh is the least time between two fetches of the provider's keys.
// A token signed by a key the gateway does not know makes it fetch them
// again (the provider may have rotated its keys), but a stream of forged
// tokens must not make it ask the provider at every request: within this
// time, a token that the keys at hand do not verify is refused.
const keyRefresh = 10 * time.Second

// maxJWKS bounds the provider's key set document.
const maxJWKS = 1 << 20

// keySet is the provider's signing keys, fetched from its jwks_uri when
// first needed and again, at most once per keyRefresh, when a token's
// signature matches none of them. It is go-oidc's KeySet.
type keySet struct {
	url    string
	client *http.Client
	algs   []jose.SignatureAlgorithm
	every  time.Duration
	now    func() time.Time

	fetchMu sync.Mutex // one fetch at a time; those waiting then use its keys

	mu      sync.RWMutex
	keys    []jose.JSONWebKey
	fetched time.Time
}

func newKeySet(url string, client *http.Client, algs []string) *keySet {
	k := &keySet{url: url, client: client, every: keyRefresh, now: time.Now}
	for _, a := range algs {
		k.algs = append(k.algs, jose.SignatureAlgorithm(a))
	}
	if k.client == nil {
		k.client = http.DefaultClient
	}
	return k
}

// VerifySignature returns the payload of the compact JWS raw when one of the
// provider's keys verifies it.
func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, k.algs)
	if err != nil {
		return nil, fmt.Errorf("oidc: malformed jwt: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("oidc: a jwt must have exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	k.mu.RLock()
	keys, fetched := k.keys, k.fetched
	k.mu.RUnlock()
	if payload, ok := verifyWith(jws, kid, keys); ok {
		return payload, nil
	}
	keys, err = k.refresh(ctx, fetched)
	if err != nil {
		return nil, err
	}
	if payload, ok := verifyWith(jws, kid, keys); ok {
		return payload, nil
	}
	return nil, errors.New("oidc: no key of the provider verifies the signature")
}

// verifyWith tries the keys that may have made the signature: the one named
// by kid, or all of them when the token names none.
func verifyWith(jws *jose.JSONWebSignature, kid string, keys []jose.JSONWebKey) ([]byte, bool) {
	for _, key := range keys {
		if kid != "" && key.KeyID != kid {
			continue
		}
		if payload, err := jws.Verify(&key); err == nil {
			return payload, true
		}
	}
	return nil, false
}

// refresh fetches the keys again unless another caller did since seen (the
// time of the keys the caller tried), or the last fetch is too recent; it
// returns the keys to try.
func (k *keySet) refresh(ctx context.Context, seen time.Time) ([]jose.JSONWebKey, error) {
	k.fetchMu.Lock()
	defer k.fetchMu.Unlock()
	k.mu.RLock()
	keys, fetched := k.keys, k.fetched
	k.mu.RUnlock()
	if fetched != seen || (!fetched.IsZero() && k.now().Sub(fetched) < k.every) {
		return keys, nil
	}
	keys, err := k.fetch(ctx)
	k.mu.Lock()
	defer k.mu.Unlock()
	// A failed fetch counts too: a provider that is down is not asked at
	// every request either.
	k.fetched = k.now()
	if err != nil {
		return k.keys, err
	}
	k.keys = keys
	return keys, nil
}

func (k *keySet) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, fmt.Errorf("oidc: keys: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidc: fetching the provider's keys: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("oidc: fetching the provider's keys: %s", resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJWKS)).Decode(&set); err != nil {
		return nil, fmt.Errorf("oidc: the provider's keys: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, key := range set.Keys {
		// Only signing keys; a key for encryption verifies nothing.
		if key.Use == "" || key.Use == "sig" {
			keys = append(keys, key)
		}
	}
	return keys, nil
}
