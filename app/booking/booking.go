// Package booking holds seats while a fan pays and sells them once paid.
//
// The invariant (DESIGN §4): a ticket is held by at most one live booking
// and sold to exactly one confirmed booking. A ticket row names one booking
// (tickets.booking_id); only hold and transition (store.go) change it,
// inside transactions that lock the ticket rows in id order, and a hold
// whose time has run out counts as free everywhere, so correctness never
// waits for the sweeper. No network call (the payment processor) happens
// while a transaction is open.
//
// A hold, from the route to the SQL and back:
//
//  1. web routes POST /bookings (and POST /api/v1/bookings) through the
//     CSRF, session and booking-rate middleware to handleBookingCreate.
//  2. The handler reads the ticked seats and calls Service.HoldTickets.
//  3. HoldTickets checks the request (count, duplicates) and calls hold.
//  4. hold (store.go) runs one transaction through db.Transact: lock the
//     tickets in id order, check each is free, insert the booking, mark
//     the tickets held; it returns the booking it wrote.
//  5. Back in the handler: a redirect to the booking's checkout; or the
//     error goes to the one error handler (web/error.go), which picks the
//     status, and a hold that lost seats shows the map again with the
//     rest still ticked (an *UnavailableError names the taken ones).
//
// Every later step of a booking (paid, cancelled, expired, refunded) goes
// through transition, which moves the booking and its tickets together.
// The payment processor (the demo or Stripe) is a Payments strategy that
// main chooses; this package never asks which one it has.
package booking

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/cache"
	"github.com/boxoffice/boxoffice/app/payment"
)

// Booking statuses.
const (
	StatusPending   = "pending"
	StatusConfirmed = "confirmed"
	StatusCancelled = "cancelled"
	StatusExpired   = "expired"
	StatusRefunded  = "refunded"
)

// Booking is a fan's hold on seats, and once paid, their purchase.
type Booking struct {
	ID              int64
	UserID          int64
	EventID         int64
	Status          string
	Total           int64
	Currency        string
	PaymentProvider string
	PaymentID       string // the payment made for it, noted before it is paid
	// PaymentKey is random per booking: the processor's idempotency keys
	// derive from it, so no other database reusing this booking's id can
	// ever be handed this booking's payment.
	PaymentKey  string
	Refunded    int64 // minor units given back so far
	ExpiresAt   time.Time
	CreatedAt   time.Time
	ConfirmedAt *time.Time
	Tickets     []Ticket
}

// Ticket is a seat of a booking.
type Ticket struct {
	ID        int64
	SectionID int64
	Section   string
	Row       string
	Seat      int
	Price     int64
	Currency  string
	Status    string // as the ticket is now: available, reserved or sold
}

// Standing reports whether t is a place in a standing section: no row,
// no seat.
func (t Ticket) Standing() bool { return t.Seat == 0 }

// Held reports whether b still holds its seats at now.
func (b *Booking) Held(now time.Time) bool {
	return b.Status == StatusPending && now.Before(b.ExpiresAt)
}

// TicketIDs lists the ids of b's tickets.
func (b *Booking) TicketIDs() []int64 {
	ids := make([]int64, len(b.Tickets))
	for i, t := range b.Tickets {
		ids[i] = t.ID
	}
	return ids
}

// Code is the code printed on a confirmed ticket: derived from the booking
// and the ticket, so it needs no storage, and not guessable from ids alone.
func (b *Booking) Code(t Ticket) string {
	var confirmed time.Time
	if b.ConfirmedAt != nil {
		confirmed = *b.ConfirmedAt
	}
	return TicketCode(b.ID, t.ID, confirmed)
}

// TicketCode is the code of ticket ticketID in booking bookingID,
// confirmed at confirmedAt (zero: not confirmed), as Code prints it.
func TicketCode(bookingID, ticketID int64, confirmedAt time.Time) string {
	confirmed := int64(0)
	if !confirmedAt.IsZero() {
		confirmed = confirmedAt.UnixNano()
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("boxoffice:%d:%d:%d", bookingID, ticketID, confirmed)))
	c := base32.StdEncoding.EncodeToString(sum[:])[:10]
	return c[:5] + "-" + c[5:]
}

// Kinds of the messages bookings send, each with the booking's id as
// payload (and, for money given back, the amount): its booking is paid;
// money was given back; the event was cancelled and the booking refunded.
const (
	MailConfirmation = "confirmation"
	MailRefund       = "refund"
	MailCancelled    = "cancelled"
)

// Config is the booking rules.
type Config struct {
	// MailDomain names this site in the Message-IDs of its mail (default
	// boxoffice.local).
	MailDomain string
	HoldTTL    time.Duration // how long a hold lasts
	MaxTickets int           // tickets per booking
	// LockTimeout and StatementTimeout bound each booking transaction's
	// waits (default 3 s and 15 s).
	LockTimeout, StatementTimeout time.Duration
	// Committed, when set, is called after each committed change to an
	// event's tickets, before the caller hears of it: the live models wait
	// there until they show the change (a fan sees their own hold at once).
	Committed func(ctx context.Context, eventID int64) error
	// Inventory, when set, lets fans ask for the best seats together
	// (HoldTogether).
	Inventory Inventory
}

// Payments is the payment processor, chosen by main: the demo or Stripe.
// Every booking gets one payment (an intent) before it is paid, noted on
// the booking; the fan's browser, an app or the server pays that one, so
// a retry never charges twice, and only it can confirm the booking.
type Payments interface {
	Name() string    // recorded as the booking's payment provider
	InBrowser() bool // whether the intent's client secret lets a browser or app pay it
	CreateIntent(ctx context.Context, r payment.Request) (payment.Intent, error)
	GetIntent(ctx context.Context, id string) (payment.Intent, error)
	CancelIntent(ctx context.Context, id string) error
	Charge(ctx context.Context, r payment.Request) (payment.Receipt, error)
	Refund(ctx context.Context, receipt payment.Receipt, amount int64, idempotencyKey string) error // amount 0: in full
}

// intentTTL is how long a look at a booking trusts what the processor last
// said about its payment: fans reloading a page do not each cost a call.
const intentTTL = 5 * time.Second

// Service holds, confirms, cancels and expires bookings.
type Service struct {
	pool     *pgxpool.Pool
	payments Payments
	cfg      Config
	now      func() time.Time
	log      *slog.Logger
	intents  *cache.Cache[string, payment.Intent]

	claimMu sync.Mutex
	claimed map[int64]bool // seats best available is holding right now
}

// NewService returns a booking service.
func NewService(pool *pgxpool.Pool, payments Payments, cfg Config, now func() time.Time, log *slog.Logger) *Service {
	if cfg.LockTimeout == 0 {
		cfg.LockTimeout = 3 * time.Second
	}
	if cfg.StatementTimeout == 0 {
		cfg.StatementTimeout = 15 * time.Second
	}
	if cfg.MailDomain == "" {
		cfg.MailDomain = "boxoffice.local"
	}
	return &Service{pool: pool, payments: payments, cfg: cfg, now: now, log: log,
		intents: cache.New[string, payment.Intent](intentTTL, 10_000, now), claimed: map[int64]bool{}}
}

// MaxTickets is the most tickets one booking may hold.
func (s *Service) MaxTickets() int { return s.cfg.MaxTickets }

// Provider names the payment processor, for the API.
func (s *Service) Provider() string { return s.payments.Name() }

// HoldTickets places a pending booking for userID that holds ticketIDs for
// the hold time, and returns it as written. All or nothing: if any ticket
// is taken, nothing changes and the error is an *UnavailableError.
func (s *Service) HoldTickets(ctx context.Context, userID int64, ticketIDs []int64) (*Booking, error) {
	ids, err := s.checkRequest(ticketIDs)
	if err != nil {
		return nil, err
	}
	return s.hold(ctx, userID, ids)
}

// checkRequest validates the ids a fan asks for, before any database work.
func (s *Service) checkRequest(ticketIDs []int64) ([]int64, error) {
	switch {
	case len(ticketIDs) == 0:
		return nil, app.Errorf(app.EINVALID, "Choose at least one seat.")
	case len(ticketIDs) > s.cfg.MaxTickets:
		return nil, app.Errorf(app.EINVALID, "You can book at most %d tickets at a time; you chose %d.", s.cfg.MaxTickets, len(ticketIDs))
	}
	ids := slices.Clone(ticketIDs)
	slices.Sort(ids)
	for i, id := range ids {
		if id <= 0 {
			return nil, app.Errorf(app.EINVALID, "%d is not a ticket id.", id)
		}
		if i > 0 && ids[i-1] == id {
			return nil, app.Errorf(app.EINVALID, "Ticket %d is listed twice.", id)
		}
	}
	return ids, nil
}

// UnavailableError is the conflict of a hold whose seats someone else
// holds or bought: TicketIDs are the taken ones, so that the fan can keep
// the rest of their choice.
type UnavailableError struct{ TicketIDs []int64 }

func (e *UnavailableError) Error() string { return fmt.Sprintf("tickets %v are taken", e.TicketIDs) }

// Unwrap gives the error as the fan and the API see it.
func (e *UnavailableError) Unwrap() error {
	return &app.Error{
		Code:    app.ECONFLICT,
		Reason:  "tickets_unavailable",
		Message: "Sorry, some of the seats you chose are no longer available: someone is holding or has bought them. Choose again.",
		Detail:  map[string]any{"ticket_ids": e.TicketIDs},
	}
}

func notFound(id int64) error {
	return &app.Error{Code: app.ENOTFOUND, Message: fmt.Sprintf("There is no booking %d in your account.", id)}
}

func notPending(status string) error {
	msg := fmt.Sprintf("This booking is %s, so it can no longer be paid for or cancelled.", status)
	if status == StatusExpired {
		msg = "Your hold on these seats ran out, so this booking can no longer be paid for. Nothing was charged; choose your seats again."
	}
	return &app.Error{Code: app.ECONFLICT, Reason: "booking_not_pending", Message: msg}
}

// FindBooking returns booking id if it belongs to userID (else not found).
func (s *Service) FindBooking(ctx context.Context, userID, id int64) (*Booking, error) {
	return findBooking(ctx, s.pool, userID, id)
}

// ListBookings returns userID's bookings, newest first, as stored: it
// asks the payment processor nothing.
func (s *Service) ListBookings(ctx context.Context, userID int64) ([]*Booking, error) {
	return listBookings(ctx, s.pool, userID)
}

// CancelBooking releases a pending booking's seats at once, and cancels
// its payment so that nobody can pay it any more.
func (s *Service) CancelBooking(ctx context.Context, userID, id int64) (*Booking, error) {
	if err := s.end(ctx, userID, id, StatusCancelled); err != nil {
		return nil, err
	}
	b, err := s.FindBooking(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	s.cancelPayments(ctx, b.PaymentID)
	return b, nil
}

// SweepExpired ends pending bookings whose hold has run out, frees their
// seats and cancels their payments; it returns how many it ended.
// Correctness does not depend on it: an expired hold already counts as
// free, and a payment that gets through all the same is refunded.
func (s *Service) SweepExpired(ctx context.Context) (int, error) {
	n, payments, err := s.sweepExpired(ctx, s.now())
	s.cancelPayments(ctx, payments...)
	return n, err
}

// RunSweeper sweeps every interval until ctx ends: it releases expired
// holds, and finishes the cancellations of events left half settled.
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration) {
	var settling atomic.Bool
	var settler sync.WaitGroup
	defer settler.Wait()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := s.SweepExpired(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Error("sweep expired holds", "err", err)
			} else if n > 0 {
				s.log.Info("expired holds released", "bookings", n)
			}
			// Refunds call the processor one by one: a big cancellation
			// runs beside the sweeps, not in their way.
			if settling.CompareAndSwap(false, true) {
				settler.Go(func() {
					defer settling.Store(false)
					if err := s.settleCancelledEvents(ctx); err != nil && ctx.Err() == nil {
						s.log.Error("settle cancelled events; trying again at the next sweep", "err", err)
					}
				})
			}
		}
	}
}

// Queue modes of an event (the waiting room, app/queue).
const (
	QueueOff    = "off"    // anyone may hold once the event is on sale
	QueueAlways = "always" // only fans the waiting room has admitted
	QueueAuto   = "auto"   // as off, until more fans come than the room admits
)

// holdLock is the advisory lock class under which one fan's holds queue.
const holdLock = "7001"

// notOnSaleYet says when an event's tickets go on sale, at the venue's
// time (timezone, its IANA name).
func notOnSaleYet(eventID int64, at time.Time, timezone string) error {
	local := at.UTC()
	if loc, err := time.LoadLocation(timezone); err == nil {
		local = at.In(loc)
	}
	return &app.Error{Code: app.EFORBIDDEN, Reason: "not_on_sale",
		Message: "Tickets for this event go on sale at " + local.Format("15:04 MST on 2 January 2006") + ". Come back then, or join the waiting room.",
		Detail:  map[string]any{"on_sale_at": at.UTC().Format(time.RFC3339), "timezone": timezone, "queue": fmt.Sprintf("/event/%d/queue", eventID)}}
}

func queueRequired(eventID int64) error {
	return &app.Error{Code: app.EFORBIDDEN, Reason: "queue_required",
		Message: "This on-sale has a waiting room: join it, and you can choose seats when it lets you in.",
		Detail:  map[string]any{"queue": fmt.Sprintf("/event/%d/queue", eventID), "api": fmt.Sprintf("/api/v1/events/%d/queue", eventID)}}
}

func ticketLimit(limit, owned int) error {
	left := max(limit-owned, 0)
	return &app.Error{Code: app.ECONFLICT, Reason: "ticket_limit",
		Message: fmt.Sprintf("You can have at most %d tickets for this event, held or bought; you have %d, so you can add %d more.", limit, owned, left),
		Detail:  map[string]any{"limit": limit, "owned": owned, "remaining": left}}
}
