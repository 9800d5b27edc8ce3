package account

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/db"
)

// A throttle slows down failed sign-ins counted against one kind of key.
// Free failures within FailureWindow cost nothing; each one after them
// makes the next attempt wait twice as long as the last (First, then
// doubling up to Max). Lockouts are soft: the wait is never a wall of the
// whole window, so five wrong passwords typed by someone else cannot keep
// a fan out of their account at an on-sale.
type throttle struct {
	prefix     string
	free       int
	first, max time.Duration
}

// The three throttles every attempt counts against.
var (
	// One address guessing one account's password: the guesser's own
	// pair, so it may slow down hard.
	perPair = throttle{prefix: "pair:", free: FailuresPerPair, first: 30 * time.Second, max: FailureWindow}
	// One account guessed from many addresses: a fan who signs in from
	// elsewhere waits at most a minute, whoever is guessing.
	perAccount = throttle{prefix: "email:", free: FailuresPerAccount, first: time.Second, max: time.Minute}
	// One address trying many accounts (spraying): wide enough for an
	// office or a carrier's NAT full of fans, and soft beyond it too.
	perAddress = throttle{prefix: "ip:", free: FailuresPerAddress, first: time.Second, max: time.Minute}
)

// wait is how long after the latest of n failures the next attempt must
// wait; 0 while failures are free.
func (t throttle) wait(n int) time.Duration {
	if n < t.free {
		return 0
	}
	d := t.first
	for i := t.free; i < n && d < t.max; i++ {
		d *= 2
	}
	return min(d, t.max)
}

// counted is a key an attempt counts against, with the throttle that
// applies to it. An attempt is reserved against the keys of its account
// before its password is checked (held); the address is only checked then,
// and charged after a wrong password, so that a NAT full of fans signing
// in at once does not count them all as failures while they wait.
type counted struct {
	key  string
	t    throttle
	held bool
}

func byPair(email, addr string) counted {
	return counted{perPair.prefix + network(addr) + "|" + strings.ToLower(email), perPair, true}
}
func byAccount(email string) counted {
	return counted{perAccount.prefix + strings.ToLower(email), perAccount, true}
}
func byAddress(addr string) counted {
	return counted{perAddress.prefix + network(addr), perAddress, false}
}

// network is what one client's addresses have in common: an IPv4 address,
// or an IPv6 address's /64, which one host or home is given whole (so
// counting per IPv6 address would let one machine pose as millions).
func network(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Is4() || ip.Is4In6() {
		return addr
	}
	p, err := ip.Prefix(64)
	if err != nil {
		return addr
	}
	return p.String()
}

func keysOf(counts []counted, held bool) []string {
	var keys []string
	for _, c := range counts {
		if c.held || !held {
			keys = append(keys, c.key)
		}
	}
	return keys
}

// attempt is a sign-in attempt reserved against its keys: it counts as a
// failure from the moment it is reserved, so concurrent attempts see each
// other, until a right password takes it back.
type attempt struct{ id int64 }

// reserve checks the throttles of counts and, if none makes the attempt
// wait, records it against the held ones, in one transaction that holds
// their locks: of a hundred attempts at once on one account, only those
// the limits allow get through to the password check. A throttle that
// says wait is an app.ELIMITED carrying retry_after in seconds.
func (s *Service) reserve(ctx context.Context, now time.Time, counts ...counted) (*attempt, error) {
	keys, held := keysOf(counts, false), keysOf(counts, true)
	a := &attempt{id: rand.Int64()}
	err := db.Transact(ctx, s.pool, func(tx pgx.Tx) error {
		// A flood on one account must not keep connections queued on its
		// lock: past a second the attempt is refused as busy.
		if _, err := tx.Exec(ctx, `SELECT set_config('lock_timeout', '1000', true)`); err != nil {
			return err
		}
		locks := slices.Sorted(slices.Values(held)) // one order for every attempt: no deadlocks
		for _, k := range locks {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, k); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT key, count(*), max(at) FROM login_failures
			WHERE key = ANY ($1) AND at > $2 GROUP BY key`, keys, now.Add(-FailureWindow))
		if err != nil {
			return err
		}
		var key string
		var n int
		var latest time.Time
		var wait time.Duration
		_, err = pgx.ForEachRow(rows, []any{&key, &n, &latest}, func() error {
			t := counts[slices.Index(keys, key)].t
			if d := latest.Add(t.wait(n)).Sub(now); d > wait {
				wait = d
			}
			return nil
		})
		if err != nil {
			return err
		}
		if wait > 0 {
			return tooManyAttempts(wait)
		}
		_, err = tx.Exec(ctx, `INSERT INTO login_failures (key, at, attempt) SELECT unnest($1::text[]), $2, $3`, held, now, a.id)
		return err
	})
	if err != nil {
		if app.ErrorCode(err) == app.ELIMITED {
			return nil, err
		}
		return nil, fmt.Errorf("reserve sign-in attempt: %w", err)
	}
	return a, nil
}

// fail charges a failed attempt to the keys it was not reserved against.
func (s *Service) fail(ctx context.Context, a *attempt, now time.Time, counts ...counted) error {
	_, err := s.pool.Exec(context.WithoutCancel(ctx), `INSERT INTO login_failures (key, at, attempt) SELECT unnest($1::text[]), $2, $3`,
		keysOf(counts, false), now, a.id)
	if err != nil {
		return fmt.Errorf("record failed attempt: %w", err)
	}
	return nil
}

func tooManyAttempts(wait time.Duration) error {
	secs := int((wait + time.Second - 1) / time.Second)
	when := fmt.Sprintf("%d seconds", secs)
	if secs >= 120 {
		when = fmt.Sprintf("%d minutes", (secs+59)/60)
	}
	return &app.Error{Code: app.ELIMITED, Reason: "too_many_attempts",
		Message: fmt.Sprintf("Too many failed attempts. Wait %s and try again, or choose a new password (Forgot your password?).", when),
		Detail:  map[string]any{"retry_after": secs}}
}

// takeBack removes an attempt that did not fail (a right password, or one
// that could not be checked at all), plus, with clear, the older failures
// of those keys: a fan who proved the password starts afresh on their own
// account and pair, but not on a shared address.
func (s *Service) takeBack(ctx context.Context, a *attempt, now time.Time, clear ...counted) error {
	keys := make([]string, len(clear))
	for i, c := range clear {
		keys[i] = c.key
	}
	// Not the request's context: a client that leaves must not turn a
	// right password into a recorded failure.
	ctx = context.WithoutCancel(ctx)
	_, err := s.pool.Exec(ctx, `DELETE FROM login_failures WHERE attempt = $1 OR key = ANY ($2) OR at < $3`,
		a.id, keys, now.Add(-FailureWindow))
	if err != nil {
		return fmt.Errorf("take back sign-in attempt: %w", err)
	}
	return nil
}
