package templates

import (
	"testing"
	"time"
)

// Every page writes a time one way, in the venue's zone, named.
func TestOneDateStyle(t *testing.T) {
	at := time.Date(2026, 12, 1, 19, 45, 0, 0, time.UTC)
	for zone, want := range map[string]string{
		"Europe/London":     "Tue 1 Dec 2026 · 19:45 GMT",
		"Asia/Tokyo":        "Wed 2 Dec 2026 · 04:45 JST",
		"America/Sao_Paulo": "Tue 1 Dec 2026 · 16:45 UTC−3",
		"Asia/Kolkata":      "Wed 2 Dec 2026 · 01:15 IST",
		"Asia/Kathmandu":    "Wed 2 Dec 2026 · 01:30 UTC+5:45",
	} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		if got := longDateTime(at, loc); got != want {
			t.Errorf("%s: %q, want %q", zone, got, want)
		}
	}
}
