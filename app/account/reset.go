package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/app/mail"
)

// Password resets by e-mail.
const (
	ResetTTL      = time.Hour // how long a reset link works
	ResetsPerHour = 3         // links one account may be sent in an hour
)

// MailReset is the kind of the message that carries a reset link.
const MailReset = "password_reset"

// RequestReset sends the account of email, if there is one, a link to
// set a new password: link(token) is the link's address. Whether or not
// there is an account, the answer is the same, so that the form tells
// nobody who has one; an account is sent at most ResetsPerHour links.
func (s *Service) RequestReset(ctx context.Context, email string, link func(token string) string) error {
	email = strings.TrimSpace(email)
	if err := checkEmail(email); err != nil {
		return err
	}
	now := s.now()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var u User
		err := tx.QueryRow(ctx, `SELECT id, email, name, language FROM users WHERE lower(email) = lower($1) FOR UPDATE`, email).Scan(&u.ID, &u.Email, &u.Name, &u.Language)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // said the same as for an account
		}
		if err != nil {
			return err
		}
		var recent int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM password_resets WHERE user_id = $1 AND created_at > $2`,
			u.ID, now.Add(-time.Hour)).Scan(&recent); err != nil {
			return err
		}
		if recent >= ResetsPerHour {
			return nil // enough links are on their way; still the same answer
		}
		token, err := newToken()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			tokenHash(token), u.ID, now, now.Add(ResetTTL)); err != nil {
			return err
		}
		return mail.Enqueue(ctx, tx, resetMail(u, link(token)), "boxoffice.local")
	})
}

// resetMail carries a reset link to u, in u's language: written now, for
// its text is wiped once it has gone (the link is a secret).
func resetMail(u User, link string) mail.Message {
	l, ok := locale.Default().Get(u.Language)
	if !ok {
		l = locale.Default().English()
	}
	hello := l.T("mail.reset_hello_anonymous")
	if u.Name != "" {
		hello = l.T("mail.reset_hello", "Name", u.Name)
	}
	text := fmt.Sprintf("%s\n\n%s\n\n%s\n\n%s\n", hello, l.T("mail.reset_asked"), link, l.T("mail.reset_not_you"))
	return mail.Message{Kind: MailReset, To: u.Email, Subject: l.T("mail.reset_subject"), Text: text, Secret: true, Language: l.Code}
}

// ResetPassword sets a new password with a reset link's token: the link
// works once, within ResetTTL. Every session of the account ends (who
// knew the old password is signed out), and failed sign-ins are
// forgotten, so a fan who was locked out can sign in at once.
func (s *Service) ResetPassword(ctx context.Context, token, password string) (User, error) {
	if err := checkPassword(password); err != nil {
		return User{}, err
	}
	hash, err := hashPassword(ctx, password)
	if err != nil {
		return User{}, err
	}
	var u User
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var expires time.Time
		var used *time.Time
		err := tx.QueryRow(ctx, `SELECT user_id, expires_at, used_at FROM password_resets WHERE token_hash = $1 FOR UPDATE`,
			tokenHash(token)).Scan(&u.ID, &expires, &used)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && (used != nil || !expires.After(s.now())) {
			return &app.Error{Code: app.EINVALID, Reason: "reset_link_invalid",
				Message: "This link has expired or was used already: ask for a new one."}
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE password_resets SET used_at = $2 WHERE token_hash = $1`, tokenHash(token), s.now()); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING email, name, role, created_at, language`,
			u.ID, hash).Scan(&u.Email, &u.Name, &u.Role, &u.CreatedAt, &u.Language); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM login_failures WHERE key = 'email:' || lower($1)`, u.Email)
		return err
	})
	if err != nil && app.ErrorCode(err) == app.EINTERNAL {
		return User{}, fmt.Errorf("reset password: %w", err)
	}
	return u, err
}
