package account_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/account"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestAccounts(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s := account.NewService(pool, func() time.Time { return now })
	ctx := context.Background()

	u, err := s.SignUp(ctx, " Ada@Example.com ", "correct horse battery", "Ada", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignUp(ctx, "ada@example.com", "another password", "", "192.0.2.1"); app.ErrorCode(err) != app.ECONFLICT {
		t.Errorf("the same email in other case: %v", err)
	}
	for _, c := range []struct{ email, password string }{
		{"not-an-email", "correct horse battery"}, {"a@b", "correct horse battery"}, {"ok@example.com", "short"},
	} {
		if _, err := s.SignUp(ctx, c.email, c.password, "", "192.0.2.1"); app.ErrorCode(err) != app.EINVALID {
			t.Errorf("sign up %q/%q: %v", c.email, c.password, err)
		}
	}

	sess, err := s.LogIn(ctx, "ADA@example.com", "correct horse battery", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Authenticate(ctx, sess.Token); err != nil || got.ID != u.ID {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM sessions WHERE user_id = $1`, u.ID); n != 1 {
		t.Errorf("%d sessions stored after one log-in", n) // else the next check looks at nothing
	}
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM sessions WHERE token_hash = convert_to($1, 'UTF8')`, sess.Token); n != 0 {
		t.Error("the session token is stored as it is")
	}
	var hash string
	dbtest.QueryRow(t, pool, `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&hash)
	if len(hash) < 30 || hash[:10] != "$argon2id$" {
		t.Errorf("password stored as %q", hash)
	}

	// Wrong password and unknown account say the same thing.
	_, e1 := s.LogIn(ctx, "ada@example.com", "wrong one!", "192.0.2.1")
	_, e2 := s.LogIn(ctx, "nobody@example.com", "wrong one!", "192.0.2.1")
	if app.ErrorMessage(e1) != app.ErrorMessage(e2) || app.ErrorCode(e1) != app.EUNAUTHORIZED {
		t.Errorf("wrong password %q, unknown account %q", app.ErrorMessage(e1), app.ErrorMessage(e2))
	}

	if err := s.LogOut(ctx, sess.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, sess.Token); app.ErrorCode(err) != app.EUNAUTHORIZED {
		t.Errorf("a logged-out token still works: %v", err)
	}
	sess, _ = s.LogIn(ctx, "ada@example.com", "correct horse battery", "192.0.2.9")
	now = now.Add(account.SessionTTL + time.Minute)
	if _, err := s.Authenticate(ctx, sess.Token); app.ErrorCode(err) != app.EUNAUTHORIZED {
		t.Errorf("an expired session still works: %v", err)
	}
}

func TestLoginLimitPerAddress(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s := account.NewService(pool, func() time.Time { return now })
	ctx := context.Background()
	if _, err := s.SignUp(ctx, "victim@example.com", "correct horse battery", "", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	// One address trying many accounts.
	for i := range account.FailuresPerAddress {
		s.LogIn(ctx, "guess"+string(rune('a'+i))+"@example.com", "password1", "198.51.100.7")
	}
	if _, err := s.LogIn(ctx, "victim@example.com", "correct horse battery", "198.51.100.7"); app.ErrorCode(err) != app.ELIMITED {
		t.Errorf("the guessing address is not limited: %v", err)
	}
	if _, err := s.LogIn(ctx, "victim@example.com", "correct horse battery", "203.0.113.5"); err != nil {
		t.Errorf("the account is locked for everyone: %v", err)
	}
	now = now.Add(account.FailureWindow + time.Second)
	if _, err := s.LogIn(ctx, "victim@example.com", "correct horse battery", "198.51.100.7"); err != nil {
		t.Errorf("the limit does not lift after the window: %v", err)
	}
}

// Signing up with an address that has an account does not say so, and
// trying many addresses from one place is slowed down like password guessing.
func TestSignUpDoesNotListAccounts(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	s := account.NewService(pool, func() time.Time { return now })
	ctx := context.Background()
	if _, err := s.SignUp(ctx, "fan@example.com", "correct horse battery", "", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	_, err := s.SignUp(ctx, "fan@example.com", "another password", "", "198.51.100.7")
	if app.ErrorCode(err) != app.ECONFLICT {
		t.Fatalf("taken address: %v", err)
	}
	msg := strings.ToLower(app.ErrorMessage(err))
	for _, word := range []string{"exist", "taken", "registered", "already", "in use"} {
		if strings.Contains(msg, word) {
			t.Errorf("the message tells that the account exists (%q): %q", word, msg)
		}
	}
	for range account.FailuresPerAddress - 1 {
		s.SignUp(ctx, "fan@example.com", "another password", "", "198.51.100.7")
	}
	if _, err := s.SignUp(ctx, "someone.new@example.com", "correct horse battery", "", "198.51.100.7"); app.ErrorCode(err) != app.ELIMITED {
		t.Errorf("an address probing for accounts is not slowed down: %v", err)
	}
	if _, err := s.SignUp(ctx, "someone.new@example.com", "correct horse battery", "", "203.0.113.5"); err != nil {
		t.Errorf("other addresses are limited too: %v", err)
	}
}
