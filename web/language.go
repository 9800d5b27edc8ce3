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

// langChosenKey marks a request whose language the fan asked for (by
// choice or by their browser's Accept-Language), which a venue's country
// must not override.
const langChosenKey = "lang_chosen"

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
		l, chosen := cat.English(), false
		if code := c.QueryParam("lang"); code != "" {
			if picked, ok := cat.Get(code); ok {
				l, chosen = picked, true
				c.SetCookie(&http.Cookie{Name: langCookie, Value: picked.Code, Path: "/", MaxAge: int((365 * 24 * time.Hour).Seconds()),
					HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
			}
		}
		if !chosen {
			if ck, err := r.Cookie(langCookie); err == nil {
				l, chosen = cat.Get(ck.Value)
				if !chosen {
					l = cat.English()
				}
			}
		}
		if !chosen {
			l, chosen = cat.Accept(r.Header.Get("Accept-Language"))
		}
		if !isAPI(c) {
			c.Response().Header().Add("Vary", "Accept-Language, Cookie")
		}
		c.Set(langChosenKey, chosen)
		c.SetRequest(r.WithContext(locale.With(r.Context(), l)))
		return next(c)
	}
}

// venueLanguage speaks the language of a venue's country to a fan who
// asked for none; it returns the request's language.
func venueLanguage(c echo.Context, country string) *locale.Lang {
	r := c.Request()
	if chosen, _ := c.Get(langChosenKey).(bool); chosen {
		return locale.From(r.Context())
	}
	l := locale.Default().ForCountry(country)
	c.SetRequest(r.WithContext(locale.With(r.Context(), l)))
	return l
}

// lang is the request's language.
func lang(c echo.Context) *locale.Lang { return locale.From(c.Request().Context()) }
