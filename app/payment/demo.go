package payment

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// Demo is a processor that moves no money. It knows Stripe's test payment
// methods (pm_card_visa succeeds, pm_card_chargeDeclined declines, …) and
// their test card numbers (4242 4242 4242 4242, 4000 0000 0000 0002, …).
type Demo struct {
	mu      sync.Mutex
	charges map[string]result // by idempotency key: a retry gets the first answer
	refunds map[string]bool
	seq     int
}

type result struct {
	receipt Receipt
	err     error
}

// NewDemo returns a demo processor.
func NewDemo() *Demo {
	return &Demo{charges: map[string]result{}, refunds: map[string]bool{}}
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

// Charge succeeds or declines as the test method says.
func (d *Demo) Charge(ctx context.Context, r Request) (Receipt, error) {
	code, known := demoMethods[r.Method]
	if !known {
		return Receipt{}, fmt.Errorf("%w %q: the demo processor takes Stripe's test methods, such as pm_card_visa", ErrUnknownMethod, r.Method)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if prev, ok := d.charges[r.IdempotencyKey]; ok && r.IdempotencyKey != "" {
		return prev.receipt, prev.err
	}
	var res result
	if code != "" {
		res.err = &DeclinedError{Code: code, Message: declineMessages[code]}
	} else {
		d.seq++
		res.receipt = Receipt{Provider: "demo", ID: fmt.Sprintf("demo_%s_%d", r.Reference, d.seq)}
	}
	d.charges[r.IdempotencyKey] = res
	return res.receipt, res.err
}

// Refund records the refund; the same key refunds once.
func (d *Demo) Refund(ctx context.Context, receipt Receipt, idempotencyKey string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.refunds[idempotencyKey] = true
	return nil
}

// Refunded reports whether a refund was made with the key, for tests.
func (d *Demo) Refunded(idempotencyKey string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.refunds[idempotencyKey]
}
