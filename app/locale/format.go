package locale

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// format is how a language writes numbers, money and dates, from the
// [format] table of its catalog.
type format struct {
	decimal, group string
	money          string // "{symbol}{amount}", "{amount} {symbol}"
	dateTime, date string // patterns of {weekday} {day} {month} {monthnum} {year} {time} {zone}
	weekdays       []string
	months         []string
}

func (l *Lang) loadFormat() (format, error) {
	f := format{
		decimal:  l.T("format.decimal"),
		group:    l.T("format.group"),
		money:    l.T("format.money"),
		dateTime: l.T("format.datetime"),
		date:     l.T("format.date"),
		weekdays: strings.Fields(l.T("format.weekdays")),
		months:   strings.Fields(l.T("format.months")),
	}
	if len(f.weekdays) != 7 {
		return f, fmt.Errorf("format.weekdays has %d names, not 7 (Sunday first)", len(f.weekdays))
	}
	if len(f.months) != 12 {
		return f, fmt.Errorf("format.months has %d names, not 12", len(f.months))
	}
	if !strings.Contains(f.money, "{amount}") {
		return f, fmt.Errorf("format.money %q has no {amount}", f.money)
	}
	return f, nil
}

// currencies knows the symbol and minor-unit exponent of the currencies the
// catalogue sells in; others print as "123.45 XYZ".
var currencies = map[string]struct {
	symbol   string
	exponent int
}{
	"USD": {"$", 2}, "CAD": {"CA$", 2}, "AUD": {"A$", 2}, "GBP": {"£", 2},
	"EUR": {"€", 2}, "JPY": {"¥", 0}, "BRL": {"R$", 2}, "MXN": {"MX$", 2},
}

// Exponent is how many digits of a currency's amounts follow the point
// (2 for GBP, 0 for JPY), for reading prices typed in major units.
func Exponent(currency string) int {
	if c, known := currencies[currency]; known {
		return c.exponent
	}
	return 2
}

// Money writes an amount in minor units: 8500 EUR is "€85.00" in English,
// "85,00 €" in Spanish.
func (l *Lang) Money(amount int64, currency string) string {
	c, known := currencies[currency]
	if !known {
		c.exponent, c.symbol = 2, currency
	}
	neg := amount < 0
	if neg {
		amount = -amount
	}
	scale := int64(1)
	for range c.exponent {
		scale *= 10
	}
	digits := l.group(strconv.FormatInt(amount/scale, 10))
	if c.exponent > 0 {
		f := strconv.FormatInt(amount%scale, 10)
		digits += l.format.decimal + strings.Repeat("0", c.exponent-len(f)) + f
	}
	pattern := l.format.money
	if !known {
		pattern = "{amount} {symbol}"
	}
	s := fill(pattern, "symbol", c.symbol, "amount", digits)
	if neg {
		s = "-" + s
	}
	return s
}

// Int writes a whole number with this language's thousands separator.
func (l *Lang) Int(n int) string {
	if n < 0 {
		return "-" + l.group(strconv.Itoa(-n))
	}
	return l.group(strconv.Itoa(n))
}

func (l *Lang) group(digits string) string {
	if len(digits) <= 3 || l.format.group == "" {
		return digits
	}
	var b strings.Builder
	lead := len(digits) % 3
	if lead > 0 {
		b.WriteString(digits[:lead])
	}
	for i := lead; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteString(l.format.group)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// DateTime is the one way every page writes when something happens: in
// the zone of loc (the venue's), which it names, on a 24-hour clock:
// "Sat 12 Dec 2026 · 20:00 CET".
func (l *Lang) DateTime(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return l.datePattern(l.format.dateTime, t)
}

// Date is the day of t in loc: "Sat 12 Dec 2026".
func (l *Lang) Date(t time.Time, loc *time.Location) string {
	return l.datePattern(l.format.date, t.In(loc))
}

func (l *Lang) datePattern(pattern string, t time.Time) string {
	return fill(pattern,
		"weekday", l.Weekday(t),
		"day", strconv.Itoa(t.Day()),
		"month", l.Month(t),
		"monthnum", strconv.Itoa(int(t.Month())),
		"year", strconv.Itoa(t.Year()),
		"time", t.Format("15:04"),
		"zone", ZoneName(t))
}

// Weekday is t's day of the week, short: "Sat", "sáb".
func (l *Lang) Weekday(t time.Time) string { return l.format.weekdays[t.Weekday()] }

// Month is t's month, short: "Dec", "dic".
func (l *Lang) Month(t time.Time) string { return l.format.months[t.Month()-1] }

// Duration says how long something lasts: "2 h 30 min", "45 min".
func (l *Lang) Duration(d time.Duration) string {
	d = d.Round(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	switch {
	case h == 0:
		return l.T("format.minutes", "M", m)
	case m == 0:
		return l.T("format.hours", "H", h)
	}
	return l.T("format.hours_minutes", "H", h, "M", m)
}

// ZoneName is t's zone as people write it: its abbreviation, or for zones
// that have none (São Paulo's "-03") the offset from UTC.
func ZoneName(t time.Time) string {
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
