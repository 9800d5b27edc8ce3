package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/templates"
)

// handleCalendar is an event as an iCalendar file (RFC 5545), for "add
// to calendar".
func (s *Server) handleCalendar(c echo.Context) error {
	id, err := pathID(c, "eventId", "event")
	if err != nil {
		return err
	}
	e, err := s.events.FindEventByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="event-%d.ics"`, id))
	return c.Blob(http.StatusOK, "text/calendar; charset=utf-8", []byte(calendar(e, c.Scheme()+"://"+c.Request().Host, s.now())))
}

// calendar writes e as one VEVENT; an event without an end lasts three
// hours in calendars.
func calendar(e *event.Event, base string, now time.Time) string {
	utc := func(t time.Time) string { return t.UTC().Format("20060102T150405Z") }
	end := e.StartsAt.Add(3 * time.Hour)
	if e.EndsAt != nil {
		end = *e.EndsAt
	}
	status := "CONFIRMED"
	if e.Status == "cancelled" {
		status = "CANCELLED"
	}
	lines := []string{
		"BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Boxoffice//Tickets//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
		"BEGIN:VEVENT",
		fmt.Sprintf("UID:event-%d@%s", e.ID, strings.TrimPrefix(strings.TrimPrefix(base, "https://"), "http://")),
		"DTSTAMP:" + utc(now),
		"DTSTART:" + utc(e.StartsAt),
		"DTEND:" + utc(end),
		"SUMMARY:" + icalText(e.Name),
		"LOCATION:" + icalText(e.Venue.Name+", "+templates.Address(e.Venue)),
		"STATUS:" + status,
		fmt.Sprintf("URL:%s/event/%d", base, e.ID),
		"END:VEVENT", "END:VCALENDAR",
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(fold(l))
		b.WriteString("\r\n")
	}
	return b.String()
}

// icalText escapes text as RFC 5545 asks.
func icalText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`).Replace(s)
}

// fold breaks a line longer than 75 octets, as RFC 5545 asks, without
// splitting a UTF-8 character.
func fold(line string) string {
	var b strings.Builder
	n := 0
	for _, r := range line {
		size := len(string(r))
		if n+size > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += size
	}
	return b.String()
}
