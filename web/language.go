package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app/locale"
)

// langCookie remembers the language a fan chose with the switcher.
const langCookie = "lang"

// How a request asked for its language: by the fan's choice (?lang=, or
// the cookie it left), by their browser's Accept-Language, or not at all.
type asked int

const (
	askedNone asked = iota
	askedByBrowser
	askedByChoice
)

// langAskedKey and langHowKey keep the language a request asked for, and
// how, for a venue's page (which speaks its country's to a fan who asked
// for none) and for remembering a fan's language.
const (
	langAskedKey = "lang_asked"
	langHowKey   = "lang_how"
)

// askedLanguage is the language the request asked for, and how.
func askedLanguage(c echo.Context) (*locale.Lang, asked) {
	l, _ := c.Get(langAskedKey).(*locale.Lang)
	how, _ := c.Get(langHowKey).(asked)
	if l == nil {
		return locale.Default().English(), askedNone
	}
	return l, how
}

// language gives the request its language: the fan's choice (?lang=, which
// the switcher's links carry and a cookie then remembers), else their
// browser's Accept-Language, else English, which a page about one venue
// replaces with the language of the venue's country (venueLanguage).
func (s *Server) language(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if strings.HasPrefix(r.URL.Path, "/static/") {
			return next(c)
		}
		cat := locale.Default()
		l, chosen, how := cat.English(), false, askedNone
		if code := c.QueryParam("lang"); code != "" {
			if picked, ok := cat.Get(code); ok {
				l, chosen, how = picked, true, askedByChoice
				c.SetCookie(&http.Cookie{Name: langCookie, Value: picked.Code, Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
					HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Scheme() == "https"})
			}
		}
		if !chosen {
			if ck, err := r.Cookie(langCookie); err == nil {
				if l, chosen = cat.Get(ck.Value); chosen {
					how = askedByChoice
				} else {
					l = cat.English()
				}
			}
		}
		if !chosen {
			if l, chosen = cat.Accept(r.Header.Get("Accept-Language")); chosen {
				how = askedByBrowser
			}
		}
		c.Set(langAskedKey, l)
		c.Set(langHowKey, how)
		if isAPI(c) {
			// The API's messages stay English: its codes are the contract,
			// and apps word them for their users.
			return next(c)
		}
		c.Response().Header().Add("Vary", "Accept-Language, Cookie")
		c.SetRequest(r.WithContext(locale.With(r.Context(), l)))
		return next(c)
	}
}

// venueLanguage speaks the language of a venue's country to a fan who
// asked for none; it returns the request's language.
func venueLanguage(c echo.Context, country string) *locale.Lang {
	r := c.Request()
	if _, how := askedLanguage(c); how != askedNone {
		return locale.From(r.Context())
	}
	l := locale.Default().ForCountry(country)
	c.SetRequest(r.WithContext(locale.With(r.Context(), l)))
	return l
}

// lang is the request's language.
func lang(c echo.Context) *locale.Lang { return locale.From(c.Request().Context()) }
