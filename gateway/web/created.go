package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bassareggiana/faldone/state"
)

// A new app password is shown once, by Post/Redirect/Get: the form's post
// creates it and keeps its secret for a few minutes in the state store (any
// replica may show it), sealed under a key that only the redirect's URL
// carries and bound to the session; the page it redirects to takes it from
// the store as it shows it. A reload, or the back button, finds nothing
// left: no second password, and no secret shown again. Neither the store
// alone nor the URL alone (in the browser's history) holds the secret.

// createdTTL bounds the wait between the post and the page that shows the
// secret.
const createdTTL = 5 * time.Minute

// createdPrefix names the one-time records of the app passwords' secrets
// among what the store keeps with them (sign-in flows).
const createdPrefix = "app-password-shown:"

// createdPage is the page that shows a new app password once.
const createdPage = "/_/password/creata"

// created is what the page shows of a new app password.
type created struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// errShown: the secret was shown already, has expired, or belongs to
// another session; the page says the first, which the others look like.
var errShown = errors.New("app password shown already")

// sealCreated seals c for the session sessionID: the record to keep under
// id, and the token that opens it (id and key), for the redirect's URL.
func sealCreated(c created, sessionID string) (id string, record []byte, token string, err error) {
	var key [32]byte
	rand.Read(key[:])
	gcm, err := newGCM(key[:])
	if err != nil {
		return "", nil, "", err
	}
	plain, err := json.Marshal(c)
	if err != nil {
		return "", nil, "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	rand.Read(nonce)
	id = rand.Text()
	record = gcm.Seal(nonce, nonce, plain, []byte(sessionID))
	return id, record, id + "." + base64.RawURLEncoding.EncodeToString(key[:]), nil
}

// splitCreated reads a token of sealCreated: the record's id and its key.
func splitCreated(token string) (id string, key []byte, ok bool) {
	id, enc, found := strings.Cut(token, ".")
	if !found || id == "" || len(id) > 64 {
		return "", nil, false
	}
	key, err := base64.RawURLEncoding.DecodeString(enc)
	return id, key, err == nil && len(key) == 32
}

// openCreated opens a record of sealCreated with its key, for the session
// sessionID only.
func openCreated(record, key []byte, sessionID string) (created, error) {
	var c created
	gcm, err := newGCM(key)
	if err != nil {
		return c, err
	}
	if len(record) < gcm.NonceSize() {
		return c, errShown
	}
	plain, err := gcm.Open(nil, record[:gcm.NonceSize()], record[gcm.NonceSize():], []byte(sessionID))
	if err != nil {
		return c, errShown
	}
	if err := json.Unmarshal(plain, &c); err != nil {
		return c, fmt.Errorf("app password shown once: %w", err)
	}
	return c, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// showCreated keeps a new app password's secret for the page that shows
// it, and sends the browser there.
func (h *Handler) showCreated(w http.ResponseWriter, r *http.Request, sess state.Session, c created) {
	id, record, token, err := sealCreated(c, sess.ID)
	if err == nil {
		err = h.cfg.Once.SaveFlow(r.Context(), createdPrefix+id, record, time.Now().Add(createdTTL))
	}
	if err != nil {
		// The password exists, but its secret cannot be shown: the person
		// revokes it from the personal page and makes another.
		h.unavailable(w, r, "keep a new app password for its page", err)
		return
	}
	http.Redirect(w, r, createdPage+"?c="+token, http.StatusSeeOther)
}

// createdPassword shows a new app password once, with the instructions to
// mount the drive with it.
func (h *Handler) createdPassword(w http.ResponseWriter, r *http.Request) {
	sess, ok := h.session(w, r)
	if !ok {
		return
	}
	if h.cfg.Once == nil {
		h.notFound(w, r)
		return
	}
	id, key, ok := splitCreated(r.URL.Query().Get("c"))
	var c created
	err := errShown
	if ok {
		var record []byte
		record, err = h.cfg.Once.TakeFlow(r.Context(), createdPrefix+id, time.Now())
		switch {
		case errors.Is(err, state.ErrNotFound):
			err = errShown
		case err == nil:
			c, err = openCreated(record, key, sess.ID)
		}
	}
	switch {
	case errors.Is(err, errShown):
		h.message(w, r, http.StatusGone, "Password già mostrata",
			"Questa password è già stata mostrata e, per sicurezza, non viene mostrata di nuovo. Se non l'hai copiata, revocala dall'area personale e creane un'altra.")
		return
	case err != nil:
		h.unavailable(w, r, "show a new app password", err)
		return
	}
	admin, err := h.admin(r.Context(), sess.Person)
	if err != nil {
		h.unavailable(w, r, "roles", err)
		return
	}
	h.render(w, http.StatusOK, "creata.html", struct {
		page
		Name, Secret, User, URL string
		Admin                   bool // the Windows registry's advice is for those who run the PCs
	}{page{Title: "Password creata", Session: &sess, CSRF: sess.CSRF}, c.Name, c.Secret, sess.Person, absoluteURL(r, "/"), admin})
}
