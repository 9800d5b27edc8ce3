// Package account is fans' accounts: sign-up, passwords, sign-in sessions
// (for the browser's cookie and for apps' bearer tokens), and the limits
// that slow down password guessing.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/locale"
)

// User is an account: a fan's, an organiser's or an admin's.
type User struct {
	ID        int64
	Email     string
	Name      string
	Role      string
	CreatedAt time.Time
	// Language is the BCP 47 tag of the language the fan's mail is
	// written in ("en", "pt-BR"): the one they last signed in or chose a
	// language with.
	Language string
}

// Roles. Fans buy; organisers manage their own venues and events; admins
// manage everything and make organisers.
const (
	RoleFan       = "fan"
	RoleOrganiser = "organiser"
	RoleAdmin     = "admin"
)

// Roles lists them.
var Roles = []string{RoleFan, RoleOrganiser, RoleAdmin}

// Manages tells whether u may use the management pages at all.
func (u *User) Manages() bool { return u.Role == RoleOrganiser || u.Role == RoleAdmin }

// Admin tells whether u manages everything.
func (u *User) Admin() bool { return u.Role == RoleAdmin }

// Session is a signed-in session; Token is only known when it is created.
type Session struct {
	Token     string
	User      User
	ExpiresAt time.Time
	// Device is the token the browser keeps to be known at its next
	// sign-in (LogInOnDevice); empty from LogIn.
	Device string
}

// Limits on sign-up input and sign-in attempts.
const (
	MinPassword = 8   // OWASP ASVS 2.1.1
	MaxPassword = 128 // long passphrases welcome, but bounded
	MaxName     = 100
	MaxEmail    = 254

	SessionTTL = 30 * 24 * time.Hour

	// Failed sign-ins allowed in FailureWindow before further attempts
	// wait (see throttle): per address and account, per account from
	// anywhere, and per address whatever the account.
	FailuresPerPair    = 5
	FailuresPerAccount = 20
	FailuresPerAddress = 200
	FailureWindow      = 15 * time.Minute
)

// Service manages accounts and sessions.
type Service struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewService returns an account service on pool; now is the clock.
func NewService(pool *pgxpool.Pool, now func() time.Time) *Service {
	return &Service{pool: pool, now: now}
}

// SignUp creates an account for a fan at address. An email already
// registered is an app.ECONFLICT (reason signup_refused) whose message does
// not say so outright, and it counts as a failed attempt from address: the
// sign-up form cannot be used to list who has an account any faster than
// the log-in form can be used to guess passwords.
func (s *Service) SignUp(ctx context.Context, email, password, name, address string) (User, error) {
	email, name = strings.TrimSpace(email), strings.TrimSpace(name)
	if err := checkAccount(email, password, name); err != nil {
		return User{}, err
	}
	now := s.now()
	try, err := s.reserve(ctx, now, byAddress(address))
	if err != nil {
		return User{}, err
	}
	u, err := s.create(ctx, email, password, name, now)
	if app.ErrorCode(err) == app.ECONFLICT {
		// Only a registered email counts against the address.
		return u, errors.Join(err, s.fail(ctx, try, now, byAddress(address)))
	}
	return u, err
}

func (s *Service) create(ctx context.Context, email, password, name string, now time.Time) (User, error) {
	hash, err := hashPassword(ctx, password)
	if err != nil {
		return User{}, err
	}
	u := User{Email: email, Name: name}
	err = s.pool.QueryRow(ctx, `INSERT INTO users (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id, role, created_at, language`,
		email, name, hash, now).Scan(&u.ID, &u.Role, &u.CreatedAt, &u.Language)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return User{}, &app.Error{Code: app.ECONFLICT, Reason: "signup_refused",
			Message: "We could not create an account with these details. If you have signed up before, log in instead; otherwise use another email address."}
	}
	if err != nil {
		return User{}, fmt.Errorf("sign up: %w", err)
	}
	return u, nil
}

// LogIn checks an email and password and opens a session. Wrong details
// are an app.EUNAUTHORIZED that does not say which was wrong; an attempt
// the throttles make wait is an app.ELIMITED. The attempt is counted
// before the password is checked, so attempts at once cannot outrun the
// limits.
func (s *Service) LogIn(ctx context.Context, email, password, address string) (*Session, error) {
	return s.logIn(ctx, email, password, address, "", false)
}

// LogInOnDevice is LogIn from a browser that keeps a device token (""
// for none): a browser that signed in to the account before is not slowed
// down by failures others caused on the account, only by its own address's.
// The session carries the device token to keep.
func (s *Service) LogInOnDevice(ctx context.Context, email, password, address, device string) (*Session, error) {
	return s.logIn(ctx, email, password, address, device, true)
}

func (s *Service) logIn(ctx context.Context, email, password, address, device string, remember bool) (*Session, error) {
	email = strings.TrimSpace(email)
	now := s.now()
	known, err := s.knownDevice(ctx, device, email, now)
	if err != nil {
		return nil, err
	}
	counts := []counted{byPair(email, address), byAddress(address)}
	if !known {
		counts = append(counts, byAccount(email))
	}
	try, err := s.reserve(ctx, now, counts...)
	if err != nil {
		return nil, err
	}
	u, ok, err := s.checkPassword(ctx, email, password)
	if err != nil {
		// Not known either way: the attempt does not count.
		return nil, errors.Join(err, s.takeBack(ctx, try, now))
	}
	if !ok {
		if err := s.fail(ctx, try, now, byAddress(address)); err != nil {
			return nil, err
		}
		return nil, &app.Error{Code: app.EUNAUTHORIZED, Reason: "invalid_credentials", Message: "That email and password do not match an account."}
	}
	// The fan starts afresh from here; failures others caused on the
	// account stay, or proving the password would reset the guessers.
	if err := s.takeBack(ctx, try, now, byPair(email, address)); err != nil {
		return nil, err
	}
	sess, err := s.openSession(ctx, u)
	if err != nil || !remember {
		return sess, err
	}
	sess.Device, err = s.rememberDevice(ctx, u, device, known, now)
	return sess, err
}

// checkPassword reports whether password is the one of email's account,
// taking as long when there is no such account.
func (s *Service) checkPassword(ctx context.Context, email, password string) (User, bool, error) {
	var u User
	var hash *string
	err := s.pool.QueryRow(ctx, `SELECT id, email, name, role, created_at, language, password_hash FROM users WHERE lower(email) = lower($1)`, email).
		Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.CreatedAt, &u.Language, &hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return u, false, fmt.Errorf("log in: %w", err)
	}
	if hash == nil {
		// As slow as a real check: no hint that the account is missing.
		return u, false, burnPasswordTime(ctx, password)
	}
	ok, err := verifyPassword(ctx, password, *hash)
	return u, ok, err
}

// openSession creates a session for u. Only a hash of the token is
// stored, so a copy of the database does not let anyone in.
func (s *Service) openSession(ctx context.Context, u User) (*Session, error) {
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	now := s.now()
	sess := &Session{Token: token, User: u, ExpiresAt: now.Add(SessionTTL)}
	_, err = s.pool.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		tokenHash(token), u.ID, now, sess.ExpiresAt)
	if err != nil {
		return nil, fmt.Errorf("open session: %w", err)
	}
	return sess, nil
}

// Authenticate returns the user of a live session token. An unknown or
// expired token is an app.EUNAUTHORIZED.
func (s *Service) Authenticate(ctx context.Context, token string) (User, error) {
	var u User
	if token == "" || len(token) > 100 {
		return u, errUnauthorized
	}
	err := s.pool.QueryRow(ctx, `
		SELECT u.id, u.email, u.name, u.role, u.created_at, u.language
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > $2`, tokenHash(token), s.now()).Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.CreatedAt, &u.Language)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, errUnauthorized
	}
	if err != nil {
		return u, fmt.Errorf("authenticate: %w", err)
	}
	return u, nil
}

var errUnauthorized = &app.Error{Code: app.EUNAUTHORIZED, Message: "Log in to continue: your session is missing or has expired."}

// SetLanguage makes code (a language Boxoffice speaks: "es", "pt-BR")
// the one user id's mail is written in.
func (s *Service) SetLanguage(ctx context.Context, id int64, code string) error {
	l, ok := locale.Default().Get(code)
	if !ok {
		return app.Errorf(app.EINVALID, "Boxoffice does not speak %q.", code)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE users SET language = $2 WHERE id = $1 AND language <> $2`, id, l.Code); err != nil {
		return fmt.Errorf("set language: %w", err)
	}
	return nil
}

// LogOut ends the session of token.
func (s *Service) LogOut(ctx context.Context, token string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash(token))
	if err != nil {
		return fmt.Errorf("log out: %w", err)
	}
	return nil
}

// newToken is a random token for a session or a device.
func newToken() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func invalid(field, format string, args ...any) error {
	e := app.Errorf(app.EINVALID, format, args...)
	e.Detail = map[string]any{"field": field}
	return e
}

// checkAccount checks what a new account is made of.
func checkAccount(email, password, name string) error {
	if err := checkEmail(email); err != nil {
		return err
	}
	if err := checkPassword(password); err != nil {
		return err
	}
	if utf8.RuneCountInString(name) > MaxName {
		return invalid("name", "Your name can be at most %d characters long.", MaxName)
	}
	return nil
}

func checkEmail(email string) error {
	if len(email) > MaxEmail {
		return invalid("email", "That email address is too long.")
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || !strings.Contains(email[strings.LastIndexByte(email, '@'):], ".") {
		return invalid("email", "Enter an email address like name@example.com.")
	}
	return nil
}

func checkPassword(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return invalid("password", "The password contains characters that are not text.")
	case n < MinPassword:
		return invalid("password", "Choose a password of at least %d characters.", MinPassword)
	case n > MaxPassword:
		return invalid("password", "Choose a password of at most %d characters.", MaxPassword)
	}
	return nil
}
