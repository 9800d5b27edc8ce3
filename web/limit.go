package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/boxoffice/boxoffice/app"
)

// Rate is how often one client may do something: PerMinute on average,
// with bursts of up to Burst at once. A zero PerMinute means no limit.
type Rate struct {
	PerMinute float64
	Burst     int
}

// ParseRate reads a rate written as "30/min" or "30/min,10" (with a burst
// of 10; the burst defaults to a third of a minute's allowance, at least 1).
// "0" or "off" means no limit.
func ParseRate(s string) (Rate, error) {
	if s == "0" || s == "off" {
		return Rate{}, nil
	}
	var r Rate
	per, burst, hasBurst := strings.Cut(s, ",")
	n, unit, ok := strings.Cut(per, "/")
	if !ok || unit != "min" {
		return r, fmt.Errorf("rate %q: write it as N/min or N/min,BURST, or off", s)
	}
	var err error
	if r.PerMinute, err = strconv.ParseFloat(n, 64); err != nil || !(r.PerMinute > 0) || math.IsInf(r.PerMinute, 0) {
		return r, fmt.Errorf("rate %q: %q is not a positive number", s, n)
	}
	r.Burst = max(1, int(r.PerMinute/3))
	if hasBurst {
		if r.Burst, err = strconv.Atoi(burst); err != nil || r.Burst < 1 {
			return r, fmt.Errorf("rate %q: burst %q is not a positive whole number", s, burst)
		}
	}
	return r, nil
}

// MarshalText and UnmarshalText let a Rate be a flag.
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

func (r *Rate) UnmarshalText(b []byte) (err error) {
	*r, err = ParseRate(string(b))
	return err
}

func (r Rate) String() string {
	if r.PerMinute == 0 {
		return "off"
	}
	return strconv.FormatFloat(r.PerMinute, 'f', -1, 64) + "/min," + strconv.Itoa(r.Burst)
}

// limit allows each client r: a signed-in fan is known by their account
// (wherever they connect from), anyone else by their address. Going over
// is a 429 whose Retry-After says when the next request will be let in.
// what is what the fan is doing, in English for the API ("searching");
// pages say it from the catalogs, errors.limited.<what, with _ for spaces>.
// Counts are kept per process: behind a load balancer each instance
// allows r, which still stops one client from flooding.
func limit(what string, r Rate) echo.MiddlewareFunc {
	return limitBy(what, r, func(c echo.Context) (string, error) {
		if u := currentUser(c); u != nil {
			return "user:" + strconv.FormatInt(u.ID, 10), nil
		}
		return "ip:" + c.RealIP(), nil
	})
}

// limitAddress is limit counted per client address, signed in or not.
func limitAddress(what string, r Rate) echo.MiddlewareFunc {
	return limitBy(what, r, func(c echo.Context) (string, error) { return "ip:" + c.RealIP(), nil })
}

func limitBy(what string, r Rate, key middleware.Extractor) echo.MiddlewareFunc {
	if r.PerMinute == 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	perSecond := r.PerMinute / 60
	retryAfter := int(math.Ceil(1 / perSecond))
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(perSecond), Burst: r.Burst, ExpiresIn: 10 * time.Minute,
		}),
		IdentifierExtractor: key,
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			err := &app.Error{Code: app.ELIMITED, Reason: "rate_limited",
				Message: fmt.Sprintf("You are %s faster than we allow. Wait %d seconds and try again.", what, retryAfter),
				Detail:  map[string]any{"retry_after": retryAfter}}
			l := lang(c)
			wait := waitSentence(l, retryAfter)
			msg, ok := known(l, "errors.limited."+strings.ReplaceAll(what, " ", "_"), "Wait", wait)
			if !ok {
				msg = l.T("errors.reason.rate_limited", "Wait", wait)
			}
			return localize(err, msg)
		},
	})
}
