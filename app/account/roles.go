package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/audit"
)

func checkRole(role string) error {
	if !slices.Contains(Roles, role) {
		return invalid("role", "There is no role %q: give one of %s.", role, strings.Join(Roles, ", "))
	}
	return nil
}

// Create makes an account with a role, as an admin or the command line
// does (byUserID 0): no sign-up throttle, and the log records who.
func (s *Service) Create(ctx context.Context, byUserID int64, email, password, name, role string) (User, error) {
	email, name = strings.TrimSpace(email), strings.TrimSpace(name)
	if err := checkAccount(email, password, name); err != nil {
		return User{}, err
	}
	if err := checkRole(role); err != nil {
		return User{}, err
	}
	u, err := s.create(ctx, email, password, name, s.now())
	if app.ErrorCode(err) == app.ECONFLICT {
		return User{}, &app.Error{Code: app.ECONFLICT, Reason: "email_taken", Message: fmt.Sprintf("There is already an account for %s: change its role instead.", email)}
	}
	if err != nil {
		return User{}, err
	}
	if role == RoleFan {
		return u, nil
	}
	return s.SetRole(ctx, byUserID, email, role)
}

// SetRole gives the account of email a role, and logs it.
func (s *Service) SetRole(ctx context.Context, byUserID int64, email, role string) (User, error) {
	if err := checkRole(role); err != nil {
		return User{}, err
	}
	var u User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var before string
		err := tx.QueryRow(ctx, `SELECT role FROM users WHERE lower(email) = lower($1) FOR UPDATE`, strings.TrimSpace(email)).Scan(&before)
		if errors.Is(err, pgx.ErrNoRows) {
			return app.Errorf(app.ENOTFOUND, "There is no account for %s: they sign up first, or create it with a password.", email)
		}
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE users SET role = $2 WHERE lower(email) = lower($1) RETURNING id, email, name, role, created_at, language`,
			strings.TrimSpace(email), role).Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.CreatedAt, &u.Language); err != nil {
			return err
		}
		if before == role {
			return nil
		}
		return audit.Write(ctx, tx, audit.Entry{UserID: byUserID, Action: "user.role", Subject: u.Email,
			Before: map[string]string{"role": before}, After: map[string]string{"role": role}})
	})
	if err != nil && app.ErrorCode(err) == app.EINTERNAL {
		return User{}, fmt.Errorf("set role: %w", err)
	}
	return u, err
}

// Staff lists the accounts that are not fans, by role and email.
func (s *Service) Staff(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, email, name, role, created_at, language FROM users WHERE role <> 'fan' ORDER BY role, lower(email)`)
	if err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[User])
}
