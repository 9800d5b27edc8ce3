// Package templates renders Boxoffice's HTML pages with templ. Components
// take app types or small view structs and never query anything.
package templates

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/boxoffice/boxoffice/app/event"
)

func eventURL(id int64) string { return "/event/" + strconv.FormatInt(id, 10) }

// currencies knows the symbol and minor-unit exponent of the currencies the
// catalogue sells in; others print as "123.45 XYZ".
var currencies = map[string]struct {
	symbol   string
	exponent int
}{
	"USD": {"$", 2}, "CAD": {"CA$", 2}, "AUD": {"A$", 2}, "GBP": {"£", 2},
	"EUR": {"€", 2}, "JPY": {"¥", 0}, "BRL": {"R$", 2}, "MXN": {"MX$", 2},
}

// Money formats an amount in minor units, e.g. Money(8500, "USD") = "$85.00".
func Money(amount int64, currency string) string {
	c, known := currencies[currency]
	if !known {
		c.exponent = 2
	}
	neg := amount < 0
	if neg {
		amount = -amount
	}
	scale := int64(1)
	for range c.exponent {
		scale *= 10
	}
	whole, frac := amount/scale, amount%scale
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(c.symbol)
	b.WriteString(groupThousands(strconv.FormatInt(whole, 10)))
	if c.exponent > 0 {
		f := strconv.FormatInt(frac, 10)
		b.WriteByte('.')
		b.WriteString(strings.Repeat("0", c.exponent-len(f)) + f)
	}
	if !known {
		b.WriteString(" " + currency)
	}
	return b.String()
}

func groupThousands(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	lead := len(digits) % 3
	if lead > 0 {
		b.WriteString(digits[:lead])
	}
	for i := lead; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// longDateTime is the one way every page writes when something happens:
// in the venue's zone, which it names, on a 24-hour clock: "Sat 12 Dec
// 2026 · 20:00 CET".
func longDateTime(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return t.Format("Mon 2 Jan 2006 · 15:04 ") + zoneName(t)
}

// localDateTime is longDateTime of an event card.
func localDateTime(e event.Summary) string {
	return longDateTime(e.StartsAt, e.LocalStart().Location())
}

// zoneName is t's zone as people write it: its abbreviation, or for zones
// that have none (São Paulo's "-03") the offset from UTC.
func zoneName(t time.Time) string {
	name, offset := t.Zone()
	if name != "" && name[0] != '+' && name[0] != '-' {
		return name
	}
	sign := "+"
	if offset < 0 {
		sign, offset = "−", -offset
	}
	s := "UTC" + sign + strconv.Itoa(offset/3600)
	if m := offset % 3600 / 60; m != 0 {
		s += fmt.Sprintf(":%02d", m)
	}
	return s
}

func clock(t time.Time, loc *time.Location) string { return t.In(loc).Format("15:04") }

// Address is a venue's address on one line.
func Address(v event.Venue) string { return address(v) }

func address(v event.Venue) string {
	parts := []string{v.Address, v.City}
	if v.Region != "" && v.Region != v.City {
		parts = append(parts, v.Region)
	}
	parts = append(parts, v.Country)
	return strings.Join(parts, ", ")
}

func levelSuffix(level string) string {
	if level == "" {
		return ""
	}
	return " · " + level
}

func lineupTitle(e *event.Event) string {
	if e.Type == event.TypeSports {
		return "Teams"
	}
	return "Line-up"
}

func thousands(n int) string { return groupThousands(strconv.Itoa(n)) }

func eventTypes() []string { return event.Types }

func clockZone(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return t.Format("15:04 ") + zoneName(t)
}

func performerURL(id int64) string { return "/performer/" + strconv.FormatInt(id, 10) }
func venueURL(id int64) string     { return "/venue/" + strconv.FormatInt(id, 10) }

// directionsURL finds the venue's address on OpenStreetMap, where a fan
// can ask for directions from wherever they are.
func directionsURL(v event.Venue) string {
	return "https://www.openstreetmap.org/search?query=" + url.QueryEscape(v.Name+", "+address(v))
}

func sectionNames(sections []event.Section) string {
	names := make([]string, len(sections))
	for i, s := range sections {
		names[i] = SectionName(s.Name)
	}
	return strings.Join(names, ", ")
}

// duration says how long something lasts: "2 h 30 min", "45 min".
func duration(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return strconv.Itoa(m) + " min"
	case m == 0:
		return strconv.Itoa(h) + " h"
	}
	return strconv.Itoa(h) + " h " + strconv.Itoa(m) + " min"
}

// Exponent is how many digits of a currency's amounts follow the point
// (2 for GBP, 0 for JPY), for reading prices typed in major units.
func Exponent(currency string) int {
	if c, known := currencies[currency]; known {
		return c.exponent
	}
	return 2
}
