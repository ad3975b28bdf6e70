// Package auth authenticates the people and services that use the gateway:
// browser sessions (after SPID sign-in through auth/oidc, or a local
// account's form), app passwords and local accounts over Basic, and Bearer
// access tokens; it throttles password guesses per account and address,
// with a bounded pool of slow hashes. Who may do what is auth/access's.
package auth
