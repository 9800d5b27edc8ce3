// Package mail is Boxoffice's e-mail: an outbox written in the same
// transaction as the change a message tells of, so that a crash never
// loses one, and a sender that delivers each at least once over SMTP,
// retrying with backoff, with the same Message-ID on every try. Without
// SMTP configured the sender writes messages to the log instead.
package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/boxoffice/boxoffice/app/locale"
)

// Message is one e-mail. A message written with a Payload and no Text is
// drawn when it is sent (Sender.Render), from its kind and payload.
type Message struct {
	Kind        string // confirmation, refund, cancelled, password_reset
	To          string
	Subject     string
	Text        string // the plain text part
	HTML        string // the HTML part: optional
	Attachments []Attachment
	Payload     map[string]any // what the message is about, for Render
	// Secret marks a message whose text must not stay (a password reset
	// link): it is wiped once the message has gone.
	Secret bool
	// Language is the BCP 47 tag of the language the message is written
	// in, the fan's ("" is English): Render draws it in that language
	// (locale.From of its context), and it goes out as Content-Language.
	Language string
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data []byte `json:"data"`
}

// language is the language of code, English for one Boxoffice does not
// speak (or none).
func language(code string) *locale.Lang {
	if l, ok := locale.Default().Get(code); ok {
		return l
	}
	return locale.Default().English()
}

// ErrBadAddress is Enqueue's answer for an address mail cannot go to:
// callers writing a message beside a change that must happen anyway (a
// payment) go on without it.
var ErrBadAddress = errors.New("not an e-mail address")

// Execer is the transaction a message is written in.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Enqueue writes m to the outbox in tx, the transaction of the change it
// tells of: it goes out if and only if that change commits.
func Enqueue(ctx context.Context, tx Execer, m Message, domain string) error {
	if _, err := mail.ParseAddress(m.To); err != nil {
		return fmt.Errorf("mail to %q: %w", m.To, ErrBadAddress)
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	if m.Attachments == nil {
		m.Attachments = []Attachment{}
	}
	attachments, err := json.Marshal(m.Attachments)
	if err != nil {
		return err
	}
	if m.Payload == nil {
		m.Payload = map[string]any{}
	}
	payload, err := json.Marshal(m.Payload)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO outbox (message_id, kind, to_addr, subject, text_body, html_body, attachments, payload, secret, language)
		VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10)`, "<"+hex.EncodeToString(id[:])+"@"+domain+">", m.Kind, m.To, m.Subject, m.Text, m.HTML,
		string(attachments), string(payload), m.Secret, language(m.Language).Code) // JSON as text: see audit.encode
	if err != nil {
		return fmt.Errorf("write a %s message to the outbox: %w", m.Kind, err)
	}
	return nil
}
