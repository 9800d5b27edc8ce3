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

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

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

// Exponent is how many digits of a currency's amounts follow the point
// (2 for GBP, 0 for JPY), for reading prices typed in major units.
func Exponent(currency string) int { return locale.Exponent(currency) }
