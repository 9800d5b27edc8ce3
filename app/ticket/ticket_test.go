package ticket_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"image"
	"image/color"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/ticket"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func keys(t *testing.T) *ticket.Keys {
	t.Helper()
	k, err := ticket.Load(t.Context(), nil, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func reason(err error) string {
	var e *app.Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return "no app error"
}

// A code is good in its window and the next, as a gate sees the time;
// a printed code always; a forged, damaged or old one never.
func TestCodesRotateAndCannotBeForged(t *testing.T) {
	t.Parallel()
	k := keys(t)
	at := time.Date(2026, 12, 1, 20, 0, 10, 0, time.UTC)
	code := k.Code(42, 9, 7, ticket.WindowAt(at))
	for _, c := range []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"at once", at, true},
		{"in the next window", at.Add(30 * time.Second), true},
		{"two windows later (a screenshot)", at.Add(60 * time.Second), false},
		{"before it was made", at.Add(-30 * time.Second), false},
	} {
		s, err := ticket.Check(k.Public(), code, c.now)
		if c.ok && (err != nil || s.TicketID != 42 || s.BookingID != 9 || s.EventID != 7) {
			t.Errorf("%s: %+v %v", c.name, s, err)
		}
		if !c.ok && reason(err) != "invalid_code" {
			t.Errorf("%s: %v, want invalid_code", c.name, err)
		}
	}
	if s, err := ticket.Check(k.Public(), k.Code(42, 9, 7, ticket.Printed), at.AddDate(1, 0, 0)); err != nil || s.Window != ticket.Printed {
		t.Errorf("a printed code a year on: %v", err)
	}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := ticket.Check(other, code, at); reason(err) != "invalid_code" || !strings.Contains(err.Error(), "forged") {
		t.Errorf("a code checked with another box office's key: %v", err)
	}
	// Change one character of the signed ticket id: the signature fails.
	tampered := []byte(code)
	tampered[6] ^= 1
	if _, err := ticket.Check(k.Public(), string(tampered), at); reason(err) != "invalid_code" {
		t.Errorf("a tampered code: %v", err)
	}
	for _, bad := range []string{"", "BX1.", "BX1.!!!", "hello", code[:40]} {
		if _, err := ticket.Check(k.Public(), bad, at); reason(err) != "invalid_code" {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// The key is made once and kept with the data: every process on the
// database signs alike.
func TestKeyIsSharedThroughTheDatabase(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	a, err := ticket.Load(t.Context(), pool, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := ticket.Load(t.Context(), pool, "")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Public().Equal(b.Public()) {
		t.Error("two loads made two keys")
	}
	if _, err := ticket.Load(t.Context(), pool, "too short"); err == nil {
		t.Error("a bad BOXOFFICE_SIGNING_KEY was taken")
	}
}

// The QR code drawn for a code reads back as the code.
func TestQRReadsBack(t *testing.T) {
	t.Parallel()
	code := keys(t).Code(123456, 4242, 789, 58_000_000)
	m, err := ticket.QR(code)
	if err != nil {
		t.Fatal(err)
	}
	const px = 4
	img := image.NewGray(image.Rect(0, 0, len(m)*px, len(m)*px))
	for y, row := range m {
		for x, dark := range row {
			c := color.Gray{Y: 255}
			if dark {
				c.Y = 0
			}
			for dy := range px {
				for dx := range px {
					img.SetGray(x*px+dx, y*px+dy, c)
				}
			}
		}
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	got, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil || got.GetText() != code {
		t.Fatalf("the QR code reads %v (%v), want %s", got, err, code)
	}
	svg, err := ticket.QRSVG(code, "Ticket 123456")
	if err != nil || !strings.HasPrefix(svg, "<svg") || !strings.Contains(svg, `aria-label="Ticket 123456"`) {
		t.Errorf("the SVG: %v %.80s", err, svg)
	}
}
