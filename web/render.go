package web

import (
	"bytes"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// render writes a templ component as an HTML response. It renders into a
// buffer first so that a failure half-way becomes a clean error page, not a
// truncated one.
func render(c echo.Context, status int, page templ.Component) error {
	var buf bytes.Buffer
	if err := page.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.Blob(status, "text/html; charset=utf-8", buf.Bytes())
}

// ok renders page with status 200.
func ok(c echo.Context, page templ.Component) error { return render(c, http.StatusOK, page) }
