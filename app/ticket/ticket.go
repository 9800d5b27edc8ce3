// Package ticket makes the codes that get fans in: signed with Ed25519,
// so that a gate checks one with the public key alone and nobody can
// forge one, and rotating every Window on a fan's phone, so that a
// screenshot sold on the street stops working a minute later.
//
// A code is "BX1." and the base64url of: the ticket's id (8 bytes), the
// booking's that bought it (8: a ticket refunded and sold again gets
// codes the old ones are not), its event's (8), the window it was made
// for (4: Unix seconds / 30, or 0 for a printed ticket, which does not
// rotate), then the 64-byte signature of those 28 bytes. A gate accepts a phone's code in the
// window it was made for and the next (the current and the previous
// window, as the gate sees them), a printed one at any time; check-in
// lets each ticket in once, whichever code it shows.
package ticket

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
)

// Window is how long one rotating code lasts.
const Window = 30 * time.Second

const prefix = "BX1."

// Printed is the window of a printed ticket's code.
const Printed = 0

// Keys signs and checks codes.
type Keys struct {
	private ed25519.PrivateKey
	public  ed25519.PublicKey
}

// Load returns the signing key: seed (base64 of 32 bytes, from
// BOXOFFICE_SIGNING_KEY) if given, else the one kept in the database,
// made on first use. Every process on the database gets the same key.
func Load(ctx context.Context, pool *pgxpool.Pool, seed string) (*Keys, error) {
	if seed != "" {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(seed))
		if err != nil || len(raw) != ed25519.SeedSize {
			return nil, errors.New("BOXOFFICE_SIGNING_KEY must be the base64 of 32 random bytes (openssl rand -base64 32)")
		}
		return fromSeed(raw), nil
	}
	fresh := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	var raw []byte
	err := pool.QueryRow(ctx, `
		WITH made AS (INSERT INTO signing_keys (seed) VALUES ($1) ON CONFLICT (id) DO NOTHING RETURNING seed)
		SELECT seed FROM made UNION ALL SELECT seed FROM signing_keys LIMIT 1`, fresh).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		// Another process made the key at the same moment: its row was
		// not in this statement's snapshot, and is now.
		err = pool.QueryRow(ctx, `SELECT seed FROM signing_keys`).Scan(&raw)
	}
	if err != nil {
		return nil, fmt.Errorf("load the ticket signing key: %w", err)
	}
	return fromSeed(raw), nil
}

func fromSeed(seed []byte) *Keys {
	k := ed25519.NewKeyFromSeed(seed)
	return &Keys{private: k, public: k.Public().(ed25519.PublicKey)}
}

// Public is the key gates check codes with.
func (k *Keys) Public() ed25519.PublicKey { return k.public }

// WindowAt is the rotation window of t.
func WindowAt(t time.Time) uint32 { return uint32(t.Unix() / int64(Window/time.Second)) }

const signed = 28 // bytes of a code before its signature

// Code signs ticketID, bought by bookingID, of eventID for window
// (Printed for paper).
func (k *Keys) Code(ticketID, bookingID, eventID int64, window uint32) string {
	var msg [signed]byte
	binary.BigEndian.PutUint64(msg[0:], uint64(ticketID))
	binary.BigEndian.PutUint64(msg[8:], uint64(bookingID))
	binary.BigEndian.PutUint64(msg[16:], uint64(eventID))
	binary.BigEndian.PutUint32(msg[24:], window)
	return prefix + base64.RawURLEncoding.EncodeToString(append(msg[:], ed25519.Sign(k.private, msg[:])...))
}

// Scanned is what a valid code says.
type Scanned struct {
	TicketID, BookingID, EventID int64
	Window                       uint32
}

// Check reads code as a gate does at now: with the public key alone. A
// code that is malformed, forged, or of a window that has passed is an
// app.EUNREADABLE (422) with reason invalid_code and a message for the
// door.
func Check(public ed25519.PublicKey, code string, now time.Time) (Scanned, error) {
	var s Scanned
	raw, ok := strings.CutPrefix(strings.TrimSpace(code), prefix)
	if !ok {
		return s, invalidCode("not_a_code", "This is not a Boxoffice ticket code.")
	}
	data, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(data) != signed+ed25519.SignatureSize {
		return s, invalidCode("damaged", "The code is damaged: scan it again, or ask the fan to open their ticket.")
	}
	if !ed25519.Verify(public, data[:signed], data[signed:]) {
		return s, invalidCode("forged", "The code is forged: it was not signed by this box office.")
	}
	s = Scanned{TicketID: int64(binary.BigEndian.Uint64(data[0:])), BookingID: int64(binary.BigEndian.Uint64(data[8:])),
		EventID: int64(binary.BigEndian.Uint64(data[16:])), Window: binary.BigEndian.Uint32(data[24:])}
	if w := WindowAt(now); s.Window != Printed && s.Window != w && s.Window+1 != w {
		return s, invalidCode("expired", "The code has expired: it changes every 30 seconds. Ask the fan to open their ticket on their phone (a screenshot will not do).")
	}
	return s, nil
}

// invalidCode refuses a code; why says which way, for pages that say it
// in the reader's language (not_a_code, damaged, forged, expired).
func invalidCode(why, msg string) error {
	return &app.Error{Code: app.EUNREADABLE, Reason: "invalid_code", Message: msg, Detail: map[string]any{"why": why}}
}
