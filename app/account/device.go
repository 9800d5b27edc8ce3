package account

import (
	"context"
	"fmt"
	"time"
)

// DeviceTTL is how long a browser stays known after its last sign-in.
const DeviceTTL = 180 * 24 * time.Hour

// knownDevice reports whether device is a token this browser got when it
// signed in to email's account before: such a sign-in is not slowed down
// by failures that others cause on the account (whoever guesses a fan's
// password does it from elsewhere), so guessing cannot lock the fan out.
func (s *Service) knownDevice(ctx context.Context, device, email string, now time.Time) (bool, error) {
	if device == "" || len(device) > 100 {
		return false, nil
	}
	var known bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (
		SELECT 1 FROM known_devices d JOIN users u ON u.id = d.user_id
		WHERE d.token_hash = $1 AND lower(u.email) = lower($2) AND d.last_used_at > $3)`,
		tokenHash(device), email, now.Add(-DeviceTTL)).Scan(&known)
	if err != nil {
		return false, fmt.Errorf("known device: %w", err)
	}
	return known, nil
}

// rememberDevice notes that the browser signed in to u's account: a known
// device is kept fresh, an unknown one gets a new token to keep.
func (s *Service) rememberDevice(ctx context.Context, u User, device string, known bool, now time.Time) (string, error) {
	if known {
		_, err := s.pool.Exec(ctx, `UPDATE known_devices SET last_used_at = $2 WHERE token_hash = $1`, tokenHash(device), now)
		if err != nil {
			return "", fmt.Errorf("remember device: %w", err)
		}
		return device, nil
	}
	token, err := newToken()
	if err != nil {
		return "", err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO known_devices (token_hash, user_id, created_at, last_used_at) VALUES ($1, $2, $3, $3)`,
		tokenHash(token), u.ID, now)
	if err != nil {
		return "", fmt.Errorf("remember device: %w", err)
	}
	return token, nil
}
