package payment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Demo is a processor that moves no money. It knows Stripe's test payment
// methods (pm_card_visa succeeds, pm_card_chargeDeclined declines, …) and
// their test card numbers (4242 4242 4242 4242, 4000 0000 0000 0002, …).
// Like Stripe, it makes one payment (intent) per booking, which is paid
// once, can be cancelled, and answers a retry as it answered first.
type Demo struct {
	mu            sync.Mutex
	intents       map[string]Intent
	charges       map[string]result // by idempotency key: a retry gets the first answer
	refunds       map[string]int64  // idempotency key → amount
	refundedTotal map[string]int64  // payment → amount given back
}

type result struct {
	receipt Receipt
	err     error
}

// NewDemo returns a demo processor.
func NewDemo() *Demo {
	return &Demo{intents: map[string]Intent{}, charges: map[string]result{}, refunds: map[string]int64{}, refundedTotal: map[string]int64{}}
}

// Name is what bookings record as their payment provider.
func (d *Demo) Name() string { return "demo" }

// InBrowser is false: the demo is paid through Boxoffice's own form.
func (d *Demo) InBrowser() bool { return false }

// CreateIntent makes the payment for r, once per idempotency key.
func (d *Demo) CreateIntent(ctx context.Context, r Request) (Intent, error) {
	sum := sha256.Sum256([]byte(r.IdempotencyKey))
	id := "demo_pi_" + hex.EncodeToString(sum[:12])
	d.mu.Lock()
	defer d.mu.Unlock()
	in, ok := d.intents[id]
	if !ok {
		in = Intent{Provider: "demo", ID: id, Status: StatusRequiresPayment, Amount: r.Amount, Currency: r.Currency}
		d.intents[id] = in
	}
	return in, nil
}

// GetIntent says how a payment stands. The demo keeps nothing across
// restarts: a payment it does not know was made before one, and waits to
// be paid.
func (d *Demo) GetIntent(ctx context.Context, id string) (Intent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if in, ok := d.intents[id]; ok {
		return in, nil
	}
	return Intent{Provider: "demo", ID: id, Status: StatusRequiresPayment}, nil
}

// CancelIntent ends a payment nobody has paid; one that was paid cannot
// be cancelled (it is refunded instead).
func (d *Demo) CancelIntent(ctx context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	in, ok := d.intents[id]
	if !ok {
		in = Intent{Provider: "demo", ID: id}
	}
	if in.Succeeded() {
		return fmt.Errorf("demo cancel %s: %w", id, ErrAlreadyPaid)
	}
	in.Status = StatusCanceled
	d.intents[id] = in
	return nil
}

// Charge pays the intent r.Intent with r.Method, which succeeds or
// declines as the test method says.
func (d *Demo) Charge(ctx context.Context, r Request) (Receipt, error) {
	code, known := demoMethods[r.Method]
	if !known {
		return Receipt{}, fmt.Errorf("%w %q: the demo processor takes Stripe's test methods, such as pm_card_visa", ErrUnknownMethod, r.Method)
	}
	if r.Intent == "" {
		return Receipt{}, errors.New("demo charge: no payment to pay")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if prev, ok := d.charges[r.IdempotencyKey]; ok && r.IdempotencyKey != "" {
		return prev.receipt, prev.err
	}
	in, ok := d.intents[r.Intent]
	if !ok { // made before a restart
		in = Intent{Provider: "demo", ID: r.Intent, Status: StatusRequiresPayment, Amount: r.Amount, Currency: r.Currency}
	}
	var res result
	switch {
	case in.Succeeded(): // paid already: no second charge
		res.receipt = in.Receipt()
	case in.Status == StatusCanceled:
		return Receipt{}, fmt.Errorf("demo charge %s: %w", in.ID, ErrCanceled)
	case code != "":
		res.err = &DeclinedError{Code: code, Message: declineMessages[code]}
	default:
		in.Status = StatusSucceeded
		d.intents[in.ID] = in
		res.receipt = in.Receipt()
	}
	d.charges[r.IdempotencyKey] = res
	return res.receipt, res.err
}

// demoMethods maps Stripe's test payment methods to their outcome: "" for
// success, else the decline code.
var demoMethods = map[string]string{
	"pm_card_visa": "", "pm_card_visa_debit": "", "pm_card_mastercard": "", "pm_card_mastercard_debit": "",
	"pm_card_amex": "", "pm_card_discover": "", "pm_card_jcb": "", "pm_card_unionpay": "",
	"pm_card_chargeDeclined":                  "card_declined",
	"pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
	"pm_card_chargeDeclinedExpiredCard":       "expired_card",
	"pm_card_chargeDeclinedIncorrectCvc":      "incorrect_cvc",
	"pm_card_chargeDeclinedFraudulent":        "card_declined",
	"pm_card_chargeDeclinedLostCard":          "card_declined",
	"pm_card_chargeDeclinedStolenCard":        "card_declined",
}

// demoCards maps Stripe's test card numbers to payment methods.
var demoCards = map[string]string{
	"4242424242424242": "pm_card_visa",
	"4000056655665556": "pm_card_visa_debit",
	"5555555555554444": "pm_card_mastercard",
	"378282246310005":  "pm_card_amex",
	"6011111111111117": "pm_card_discover",
	"4000000000000002": "pm_card_chargeDeclined",
	"4000000000009995": "pm_card_chargeDeclinedInsufficientFunds",
	"4000000000000069": "pm_card_chargeDeclinedExpiredCard",
	"4000000000000127": "pm_card_chargeDeclinedIncorrectCvc",
}

var declineMessages = map[string]string{
	"card_declined":      "Your card was declined. Try another card.",
	"insufficient_funds": "Your card has insufficient funds. Try another card.",
	"expired_card":       "Your card has expired. Try another card.",
	"incorrect_cvc":      "Your card's security code is incorrect.",
}

// MethodForCard returns the test payment method of a Stripe test card
// number (spaces allowed), or "".
func MethodForCard(number string) string {
	return demoCards[strings.Join(strings.Fields(number), "")]
}

// DemoMethods lists the payment methods the demo knows, successes first.
func DemoMethods() []string {
	return []string{"pm_card_visa", "pm_card_mastercard", "pm_card_amex", "pm_card_chargeDeclined", "pm_card_chargeDeclinedInsufficientFunds"}
}

// Refund records the refund of amount (0: all of it); the same key
// refunds once.
func (d *Demo) Refund(ctx context.Context, receipt Receipt, amount int64, idempotencyKey string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, done := d.refunds[idempotencyKey]; done {
		return nil
	}
	if amount == 0 {
		amount = receipt.Amount
	}
	d.refunds[idempotencyKey] = amount
	d.refundedTotal[receipt.ID] += amount
	return nil
}

// Refunded reports whether a refund was made with the key, for tests.
func (d *Demo) Refunded(idempotencyKey string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, done := d.refunds[idempotencyKey]
	return done
}

// RefundedOf is how much of payment id the demo has given back, for
// tests: a refund asked twice counts once.
func (d *Demo) RefundedOf(id string) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.refundedTotal[id]
}
