// Package templates renders Boxoffice's HTML pages with templ. Components
// take app types or small view structs and never query anything.
package templates

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/locale"
)

func eventURL(id int64) string { return "/event/" + strconv.FormatInt(id, 10) }

// Money formats an amount in minor units in English, e.g. Money(8500,
// "USD") = "$85.00"; pages use money, in the fan's language.
func Money(amount int64, currency string) string {
	return locale.Default().English().Money(amount, currency)
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// longDateTime is dateTime in English.
func longDateTime(t time.Time, loc *time.Location) string {
	return locale.Default().English().DateTime(t, loc)
}

// localDateTime is longDateTime of an event card.
func localDateTime(e event.Summary) string {
	return longDateTime(e.StartsAt, e.LocalStart().Location())
}

// zoneName is t's zone as people write it (locale.ZoneName).
func zoneName(t time.Time) string { return locale.ZoneName(t) }

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

func thousands(n int) string { return locale.Default().English().Int(n) }

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
func Exponent(currency string) int { return locale.Exponent(currency) }
