// Package booking holds seats while a fan pays and sells them once paid.
//
// The invariant (DESIGN §4): a ticket is held by at most one live booking
// and sold to exactly one confirmed booking. A ticket row names one booking
// (tickets.booking_id); holding, confirming, cancelling and expiring change
// it only inside transactions that lock the ticket rows in id order, and a
// hold whose time has run out counts as free everywhere, so correctness
// never waits for the sweeper. No network call (the payment processor)
// happens while a transaction is open.
package booking

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
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
	PaymentID       string
	ExpiresAt       time.Time
	CreatedAt       time.Time
	ConfirmedAt     *time.Time
	Tickets         []Ticket
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
	confirmed := int64(0)
	if b.ConfirmedAt != nil {
		confirmed = b.ConfirmedAt.UnixNano()
	}
	sum := sha256.Sum256([]byte(fmt.Sprintf("boxoffice:%d:%d:%d", b.ID, t.ID, confirmed)))
	c := base32.StdEncoding.EncodeToString(sum[:])[:10]
	return c[:5] + "-" + c[5:]
}

// Config is the booking rules.
type Config struct {
	HoldTTL    time.Duration // how long a hold lasts
	MaxTickets int           // tickets per booking
	// LockTimeout and StatementTimeout bound each booking transaction's
	// waits (default 3 s and 15 s).
	LockTimeout, StatementTimeout time.Duration
}

// Payments is what booking needs of a payment processor.
type Payments interface {
	Charge(ctx context.Context, r payment.Request) (payment.Receipt, error)
	Refund(ctx context.Context, receipt payment.Receipt, idempotencyKey string) error
}

// Service holds, confirms, cancels and expires bookings.
type Service struct {
	pool     *pgxpool.Pool
	payments Payments
	cfg      Config
	now      func() time.Time
	log      *slog.Logger
}

// NewService returns a booking service.
func NewService(pool *pgxpool.Pool, payments Payments, cfg Config, now func() time.Time, log *slog.Logger) *Service {
	if cfg.LockTimeout == 0 {
		cfg.LockTimeout = 3 * time.Second
	}
	if cfg.StatementTimeout == 0 {
		cfg.StatementTimeout = 15 * time.Second
	}
	return &Service{pool: pool, payments: payments, cfg: cfg, now: now, log: log}
}

// HoldTickets places a pending booking for userID that holds ticketIDs for
// the hold time. All or nothing: if any ticket is taken, nothing changes
// and the error is an app.ECONFLICT (reason tickets_unavailable) whose
// Detail["ticket_ids"] lists the taken ones.
func (s *Service) HoldTickets(ctx context.Context, userID int64, ticketIDs []int64) (*Booking, error) {
	ids, err := s.checkRequest(ticketIDs)
	if err != nil {
		return nil, err
	}
	id, err := s.hold(ctx, userID, ids)
	if err != nil {
		return nil, err
	}
	return s.FindBooking(ctx, userID, id)
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

// Unavailable is the error for tickets someone else holds or bought.
func unavailable(taken []int64) error {
	return &app.Error{
		Code:    app.ECONFLICT,
		Reason:  "tickets_unavailable",
		Message: "Sorry, some of the seats you chose are no longer available: someone is holding or has bought them. Choose again.",
		Detail:  map[string]any{"ticket_ids": taken},
	}
}

func notFound(id int64) error {
	return &app.Error{Code: app.ENOTFOUND, Message: fmt.Sprintf("There is no booking %d in your account.", id)}
}

func notPending(b *Booking) error {
	return &app.Error{Code: app.ECONFLICT, Reason: "booking_not_pending",
		Message: fmt.Sprintf("This booking is %s, so it can no longer be paid for or cancelled.", b.Status)}
}

// FindBooking returns booking id if it belongs to userID (else not found).
func (s *Service) FindBooking(ctx context.Context, userID, id int64) (*Booking, error) {
	return findBooking(ctx, s.pool, userID, id)
}

// ListBookings returns userID's bookings, newest first.
func (s *Service) ListBookings(ctx context.Context, userID int64) ([]*Booking, error) {
	return listBookings(ctx, s.pool, userID)
}

// CancelBooking releases a pending booking's seats at once.
func (s *Service) CancelBooking(ctx context.Context, userID, id int64) (*Booking, error) {
	if err := s.end(ctx, userID, id, StatusCancelled); err != nil {
		return nil, err
	}
	return s.FindBooking(ctx, userID, id)
}

// PayBooking charges the booking's total with paymentMethod and confirms
// it. A declined card is an app.EPAYMENT (reason payment_declined) and the
// hold stays. If the hold was lost before the money came (it ran out and
// someone else took a seat), the charge is refunded and the booking ends
// refunded.
func (s *Service) PayBooking(ctx context.Context, userID, id int64, paymentMethod string) (*Booking, error) {
	b, err := s.FindBooking(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	if b.Status != StatusPending {
		return nil, notPending(b)
	}
	if paymentMethod == "" {
		return nil, app.Errorf(app.EINVALID, "Choose how to pay.")
	}
	req := payment.Request{
		Reference:      strconv.FormatInt(b.ID, 10),
		Amount:         b.Total,
		Currency:       b.Currency,
		Method:         paymentMethod,
		IdempotencyKey: fmt.Sprintf("boxoffice-booking-%d-%s", b.ID, paymentMethod),
	}
	if intents, ok := s.payments.(Intents); ok {
		// Pay the booking's one PaymentIntent, noted before it is paid, so
		// that a charge whose answer is lost is still found by Refresh.
		in, err := s.intent(ctx, intents, b)
		if err != nil {
			return nil, err
		}
		if in.Succeeded() { // paid already, in the browser or an app
			return s.Confirm(ctx, b.ID, payment.Receipt{Provider: intentProvider, ID: in.ID})
		}
		req.Intent = in.ID
	}
	receipt, err := s.payments.Charge(ctx, req)
	var declined *payment.DeclinedError
	switch {
	case errors.As(err, &declined):
		return nil, &app.Error{Code: app.EPAYMENT, Reason: "payment_declined", Message: declined.Message}
	case errors.Is(err, payment.ErrUnknownMethod):
		return nil, app.Errorf(app.EINVALID, "%s", err.Error())
	case err != nil:
		return nil, s.unreachable(err)
	}
	return s.Confirm(ctx, b.ID, receipt)
}

// Confirm records a successful payment for booking id: its tickets are
// sold to it if they are still its own; otherwise the payment is refunded
// and the booking ends refunded. Confirming twice with the same receipt is
// harmless.
func (s *Service) Confirm(ctx context.Context, id int64, receipt payment.Receipt) (*Booking, error) {
	outcome, userID, err := s.confirm(ctx, id, receipt)
	if err != nil {
		return nil, err
	}
	if outcome == lostHold {
		if err := s.payments.Refund(ctx, receipt, fmt.Sprintf("boxoffice-refund-%d", id)); err != nil {
			return nil, fmt.Errorf("refund booking %d: %w", id, err)
		}
		if err := s.markRefunded(ctx, id, receipt); err != nil {
			return nil, err
		}
		s.log.Warn("payment arrived after the hold was lost; refunded", "booking", id, "payment", receipt.ID)
	}
	return s.FindBooking(ctx, userID, id)
}

// SweepExpired ends pending bookings whose hold has run out and frees
// their seats; it returns how many it ended. Correctness does not depend on
// it: an expired hold already counts as free.
func (s *Service) SweepExpired(ctx context.Context) (int, error) {
	return s.sweepExpired(ctx, s.now())
}

// RunSweeper sweeps every interval until ctx ends.
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration) {
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
		}
	}
}
