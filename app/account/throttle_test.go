package account_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/account"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newClock() *clock { return &clock{now: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)} }

// withFan is an account service on a fresh database, on a clock the test
// moves, with one fan signed up (password "correct horse battery").
func withFan(t *testing.T, email string) (*account.Service, *clock) {
	t.Helper()
	clk := newClock()
	s := account.NewService(dbtest.New(t), clk.Now)
	if _, err := s.SignUp(context.Background(), email, "correct horse battery", "", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	return s, clk
}

// A hundred wrong passwords at once for one account from one address:
// the attempts are counted before the password is checked, so no more
// than the limit get to be checked (401) and the rest wait (429).
func TestLoginLimitHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	s, _ := withFan(t, "victim@example.com")
	ctx := context.Background()
	var unauthorized, limited, other atomic.Int64
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			_, err := s.LogIn(ctx, "victim@example.com", "wrong password", "198.51.100.7")
			switch app.ErrorCode(err) {
			case app.EUNAUTHORIZED:
				unauthorized.Add(1)
			case app.ELIMITED:
				limited.Add(1)
			default:
				other.Add(1)
				t.Errorf("attempt: %v", err)
			}
		})
	}
	wg.Wait()
	if unauthorized.Load() > account.FailuresPerPair || unauthorized.Load() == 0 {
		t.Errorf("%d of 100 attempts at once had their password checked (401), want 1 to %d", unauthorized.Load(), account.FailuresPerPair)
	}
	if limited.Load()+unauthorized.Load() != 100 {
		t.Errorf("401: %d, 429: %d, other: %d", unauthorized.Load(), limited.Load(), other.Load())
	}

	// The guessing address does not lock out anyone else behind it…
	if _, err := s.SignUp(ctx, "colleague@example.com", "another good password", "", "192.0.2.2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LogIn(ctx, "colleague@example.com", "another good password", "198.51.100.7"); err != nil {
		t.Errorf("another account from the same address: %v", err)
	}
	// …nor the fan it guessed at, from their own address.
	if _, err := s.LogIn(ctx, "victim@example.com", "correct horse battery", "203.0.113.5"); err != nil {
		t.Errorf("the account is locked for everyone: %v", err)
	}
}

// Lockouts are soft: the wait grows with each failure, a fan whose account
// is being guessed from everywhere waits at most a minute, and the limit
// per address is wide enough for a NAT full of fans.
func TestLoginLockoutsAreSoft(t *testing.T) {
	t.Parallel()
	s, clk := withFan(t, "fan@example.com")
	ctx := context.Background()
	retryAfter := func(t *testing.T, err error) time.Duration {
		t.Helper()
		var e *app.Error
		if app.ErrorCode(err) != app.ELIMITED || !errorAs(err, &e) {
			t.Fatalf("want a wait, got %v", err)
		}
		return time.Duration(e.Detail["retry_after"].(int)) * time.Second
	}

	t.Run("one address guessing one account waits longer each time", func(t *testing.T) {
		for range account.FailuresPerPair {
			if _, err := s.LogIn(ctx, "fan@example.com", "wrong password", "198.51.100.7"); app.ErrorCode(err) != app.EUNAUTHORIZED {
				t.Fatalf("free attempt: %v", err)
			}
		}
		// (Four waits: 30 s, 1, 2 and 4 minutes stay within the window
		// that failures are remembered for.)
		var last time.Duration
		for i := range 4 {
			_, err := s.LogIn(ctx, "fan@example.com", "wrong password", "198.51.100.7")
			wait := retryAfter(t, err)
			if wait <= last || wait > account.FailureWindow {
				t.Fatalf("wait %d: %v after %v", i, wait, last)
			}
			clk.Add(wait)
			if _, err := s.LogIn(ctx, "fan@example.com", "wrong password", "198.51.100.7"); app.ErrorCode(err) != app.EUNAUTHORIZED {
				t.Fatalf("after waiting %v: %v", wait, err)
			}
			last = wait
		}
		// The fan, at home, is not kept out.
		if _, err := s.LogIn(ctx, "fan@example.com", "correct horse battery", "192.0.2.1"); err != nil {
			t.Errorf("the fan's own sign-in: %v", err)
		}
	})

	t.Run("an account guessed from many addresses makes its fan wait at most a minute", func(t *testing.T) {
		clk.Add(account.FailureWindow)
		for i := range 3 * account.FailuresPerAccount {
			addr := "198.51.100." + itoa(10+i)
			if _, err := s.LogIn(ctx, "fan@example.com", "wrong password", addr); app.ErrorCode(err) == app.ELIMITED {
				clk.Add(retryAfter(t, err))
			}
		}
		_, err := s.LogIn(ctx, "fan@example.com", "correct horse battery", "192.0.2.1")
		if app.ErrorCode(err) == app.ELIMITED {
			wait := retryAfter(t, err)
			if wait > time.Minute {
				t.Fatalf("the fan is told to wait %v", wait)
			}
			clk.Add(wait)
			_, err = s.LogIn(ctx, "fan@example.com", "correct horse battery", "192.0.2.1")
		}
		if err != nil {
			t.Errorf("the fan cannot sign in after a short wait: %v", err)
		}
	})

	t.Run("a shared address keeps working for right passwords", func(t *testing.T) {
		clk.Add(account.FailureWindow)
		for i := range 60 {
			if _, err := s.LogIn(ctx, "someone"+itoa(i)+"@example.com", "wrong password", "203.0.113.99"); app.ErrorCode(err) != app.EUNAUTHORIZED {
				t.Fatalf("failure %d from a shared address: %v", i, err)
			}
		}
		if _, err := s.LogIn(ctx, "fan@example.com", "correct horse battery", "203.0.113.99"); err != nil {
			t.Errorf("a fan behind the same address: %v", err)
		}
	})
}

// A client that leaves while waiting for the password check costs nothing
// and records nothing.
func TestLoginGivesUpWhenTheClientHasGone(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	clk := newClock()
	s := account.NewService(pool, clk.Now)
	if _, err := s.SignUp(context.Background(), "fan@example.com", "correct horse battery", "", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	release := account.OccupyHashing()
	done := make(chan error, 1)
	go func() {
		_, err := s.LogIn(ctx, "fan@example.com", "wrong password", "198.51.100.7")
		done <- err
	}()
	// Wait until the attempt is queued for hashing (its reservation is in).
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM login_failures`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the attempt never got to the password check")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err == nil || !isCanceled(err) {
			t.Errorf("LogIn after the client left = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a queued password check goes on after the client has gone")
	}
	release()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM login_failures`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("an attempt nobody saw the end of counts as %d failures", n)
	}
}

func errorAs(err error, target **app.Error) bool { return errors.As(err, target) }

func itoa(i int) string { return strconv.Itoa(i) }

func isCanceled(err error) bool { return errors.Is(err, context.Canceled) }

// However many addresses guess at an account, the fan's own browser, which
// signed in before, is not kept waiting; a new browser is.
func TestKnownBrowsersAreNotLockedOut(t *testing.T) {
	t.Parallel()
	s, _ := withFan(t, "fan@example.com")
	ctx := context.Background()
	first, err := s.LogInOnDevice(ctx, "fan@example.com", "correct horse battery", "192.0.2.1", "")
	if err != nil || first.Device == "" {
		t.Fatalf("first sign-in: %+v, %v (want a device token to keep)", first, err)
	}
	// Guessers on many addresses, each attempt as soon as the last wait ends.
	for i := range 3 * account.FailuresPerAccount {
		s.LogIn(ctx, "fan@example.com", "wrong password", "198.51.100."+itoa(10+i))
	}
	if _, err := s.LogInOnDevice(ctx, "fan@example.com", "correct horse battery", "203.0.113.7", ""); app.ErrorCode(err) != app.ELIMITED {
		t.Fatalf("a new browser during the guessing: %v, want a wait", err)
	}
	again, err := s.LogInOnDevice(ctx, "fan@example.com", "correct horse battery", "203.0.113.7", first.Device)
	if err != nil {
		t.Fatalf("the fan's own browser during the guessing: %v", err)
	}
	if again.Device != first.Device {
		t.Errorf("a known browser got a new device token")
	}
	// A device token is the account's only: not a pass for another one.
	if _, err := s.SignUp(ctx, "other@example.com", "another good password", "", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 * account.FailuresPerAccount {
		s.LogIn(ctx, "other@example.com", "wrong password", "198.51.100."+itoa(100+i))
	}
	if _, err := s.LogInOnDevice(ctx, "other@example.com", "another good password", "203.0.113.8", first.Device); app.ErrorCode(err) != app.ELIMITED {
		t.Errorf("another account's device token let a sign-in past the wait: %v", err)
	}
}

// One IPv6 host has a /64 to itself: its addresses count as one.
func TestIPv6AddressesOfOneNetworkCountTogether(t *testing.T) {
	t.Parallel()
	s, _ := withFan(t, "fan@example.com")
	ctx := context.Background()
	for i := range account.FailuresPerPair {
		if _, err := s.LogIn(ctx, "fan@example.com", "wrong password", "2001:db8:1:2::"+itoa(i+1)); app.ErrorCode(err) != app.EUNAUTHORIZED {
			t.Fatalf("free attempt %d: %v", i, err)
		}
	}
	if _, err := s.LogIn(ctx, "fan@example.com", "wrong password", "2001:db8:1:2:ffff::1"); app.ErrorCode(err) != app.ELIMITED {
		t.Errorf("another address of the same /64: %v, want a wait", err)
	}
	if _, err := s.LogIn(ctx, "fan@example.com", "correct horse battery", "2001:db8:1:3::1"); err != nil {
		t.Errorf("the next /64: %v", err)
	}
}
