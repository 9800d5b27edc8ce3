package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/audit"
	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/app/venue"
	"github.com/boxoffice/boxoffice/templates"
)

// The box office (/manage and /api/v1/manage): organisers manage their
// own venues and events, admins everything. A fan finds nothing there:
// the pages answer 404, as for an address that does not exist, and the
// API 403.

// seatMapLimit is the largest seat-map file taken: a 100,000-seat
// stadium is about 6 MB.
const seatMapLimit = 32 << 20

// takesSeatMaps tells the 1 MB body limit to let seat-map uploads by:
// their handlers apply seatMapLimit.
func takesSeatMaps(c echo.Context) bool {
	p := c.Request().URL.Path
	return c.Request().Method == http.MethodPost && (p == "/api/v1/manage/venues" || p == "/manage/venues")
}

// requireManager lets organisers and admins through.
func (s *Server) requireManager(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u, err := requireUser(c, c.Request().URL.RequestURI())
		if err != nil {
			return err
		}
		if !u.Manages() {
			if isAPI(c) {
				return &app.Error{Code: app.EFORBIDDEN, Reason: "not_an_organiser",
					Message: "Only organisers and admins can manage venues and events: ask an admin to make your account an organiser."}
			}
			return app.Errorf(app.ENOTFOUND, "%s", lang(c).T("manage.no_page"))
		}
		return next(c)
	}
}

// actorOf is who manages, for the services.
func actorOf(c echo.Context) venue.Actor {
	u := currentUser(c)
	return venue.Actor{UserID: u.ID, Admin: u.Admin()}
}

// readSeatMap reads a seat-map file of at most seatMapLimit bytes; l
// says what is wrong with it.
func readSeatMap(l *locale.Lang, r io.Reader) (*venue.SeatMap, error) {
	data, err := io.ReadAll(io.LimitReader(r, seatMapLimit+1))
	if err != nil {
		return nil, fmt.Errorf("read a seat map: %w", err)
	}
	if len(data) > seatMapLimit {
		msg := l.T("builder.too_large", "MB", seatMapLimit>>20)
		return nil, localize(&app.Error{Code: app.EINVALID, Reason: "too_large", Message: msg}, msg)
	}
	return venue.Parse(data)
}

type managedVenueJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	City     string `json:"city"`
	Country  string `json:"country"`
	Capacity int    `json:"capacity"`
	Sections int    `json:"sections"`
	SeatMap  string `json:"seatmap"`
}

func seatMapURL(id int64) string { return fmt.Sprintf("/api/v1/manage/venues/%d/seatmap", id) }

// handleAPIVenueCreate is POST /api/v1/manage/venues: the body is a
// seat-map file.
func (s *Server) handleAPIVenueCreate(c echo.Context) error {
	if ct := c.Request().Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return &app.Error{Code: app.EUNSUPPORTED, Reason: "unsupported_media_type", Message: "Send the seat map as JSON, with Content-Type: application/json."}
	}
	m, err := readSeatMap(lang(c), c.Request().Body)
	if err != nil {
		return err
	}
	id, err := s.venues.Create(c.Request().Context(), actorOf(c), m)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", seatMapURL(id))
	return c.JSON(http.StatusCreated, managedVenueJSON{ID: id, Name: m.Venue.Name, City: m.Venue.City, Country: m.Venue.Country,
		Capacity: m.Capacity(), Sections: len(m.Sections), SeatMap: seatMapURL(id)})
}

// handleAPIVenues lists the venues the caller manages.
func (s *Server) handleAPIVenues(c echo.Context) error {
	list, err := s.venues.List(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	out := struct {
		Venues []managedVenueJSON `json:"venues"`
	}{Venues: []managedVenueJSON{}}
	for _, v := range list {
		out.Venues = append(out.Venues, managedVenueJSON{ID: v.ID, Name: v.Name, City: v.City, Country: v.Country,
			Capacity: v.Capacity, Sections: v.Sections, SeatMap: seatMapURL(v.ID)})
	}
	return c.JSON(http.StatusOK, out)
}

// seatMapOf is the seat map of the venue in the path, if the caller
// manages it.
func (s *Server) seatMapOf(c echo.Context) (int64, *venue.SeatMap, error) {
	id, err := pathID(c, "id", "venue")
	if err != nil {
		return 0, nil, err
	}
	m, err := s.venues.SeatMap(c.Request().Context(), actorOf(c), id)
	return id, m, err
}

// handleAPISeatMap gives a venue's seat-map file back.
func (s *Server) handleAPISeatMap(c echo.Context) error {
	_, m, err := s.seatMapOf(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

// handleManageHome is /manage: what the organiser manages.
func (s *Server) handleManageHome(c echo.Context) error {
	list, err := s.venues.List(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	events, err := s.organiser.List(c.Request().Context(), actorOf(c))
	if err != nil {
		return err
	}
	return ok(c, templates.ManageHome(templates.ManageHomePage{Venues: list, Events: events, Admin: actorOf(c).Admin}))
}

// handleVenueCreate takes the page's file (or pasted text): a bad one
// comes back with its problems listed, and nothing saved.
func (s *Server) handleVenueCreate(c echo.Context) error {
	c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, seatMapLimit+1<<20)
	var src io.Reader = strings.NewReader(c.FormValue("seatmap"))
	if fh, err := c.FormFile("file"); err == nil {
		f, err := fh.Open()
		if err != nil {
			return fmt.Errorf("open an uploaded seat map: %w", err)
		}
		defer f.Close()
		src = f
	} else if strings.TrimSpace(c.FormValue("seatmap")) == "" {
		return s.builder(c, http.StatusBadRequest, templates.BuilderPage{Design: newDesign(lang(c)), Problems: []string{lang(c).T("builder.choose_file")}, Refused: true, Import: true})
	}
	m, err := readSeatMap(lang(c), src)
	if err == nil {
		var id int64
		if id, err = s.venues.Create(c.Request().Context(), actorOf(c), m); err == nil {
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/manage/venues/%d", id))
		}
	}
	var e *app.Error
	if !errors.As(err, &e) || e.Code == app.EINTERNAL {
		return err
	}
	problems, _ := e.Detail["problems"].([]string)
	if len(problems) == 0 {
		problems = []string{e.Message}
	}
	return s.builder(c, http.StatusBadRequest, templates.BuilderPage{Design: newDesign(lang(c)), Problems: problems, Refused: true, Import: true, Pasted: c.FormValue("seatmap")})
}

// handleManageVenue is a venue's management page: its map as fans will
// see it, the file, and what was done to it.
func (s *Server) handleManageVenue(c echo.Context) error {
	id, m, err := s.seatMapOf(c)
	if err != nil {
		return err
	}
	log, err := audit.Of(c.Request().Context(), s.venues.Pool(), id, 0, 50)
	if err != nil {
		return err
	}
	return ok(c, templates.ManageVenue(templates.ManageVenuePage{ID: id, Map: m, Log: log}))
}

// handleSeatMapDownload is the venue's file, to save.
func (s *Server) handleSeatMapDownload(c echo.Context) error {
	id, m, err := s.seatMapOf(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="venue-%d-seatmap.json"`, id))
	return c.JSONPretty(http.StatusOK, m, "  ")
}

// handleSeatMapDocs serves the seat-map format's schema and example.
func handleSeatMapDocs(file []byte) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		return c.Blob(http.StatusOK, "application/json", file)
	}
}

// requireAdmin lets admins through: organisers get what fans get.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !currentUser(c).Admin() {
			if isAPI(c) {
				return &app.Error{Code: app.EFORBIDDEN, Reason: "not_an_admin", Message: "Only admins can give accounts roles."}
			}
			return app.Errorf(app.ENOTFOUND, "%s", lang(c).T("manage.no_page"))
		}
		return next(c)
	}
}

// handleUsers is the admins' page of organisers and admins.
func (s *Server) handleUsers(c echo.Context) error {
	return s.usersPage(c, http.StatusOK, "", "")
}

func (s *Server) usersPage(c echo.Context, status int, problem, done string) error {
	staff, err := s.accounts.Staff(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, status, templates.Users(templates.UsersPage{Staff: staff, Problem: problem, Done: done}))
}

// handleSetRole is the form that gives an account a role.
func (s *Server) handleSetRole(c echo.Context) error {
	u, err := s.accounts.SetRole(c.Request().Context(), currentUser(c).ID, c.FormValue("email"), c.FormValue("role"))
	var e *app.Error
	if errors.As(err, &e) && e.Code != app.EINTERNAL {
		return s.usersPage(c, http.StatusBadRequest, e.Message, "")
	}
	if err != nil {
		return err
	}
	return s.usersPage(c, http.StatusOK, "", lang(c).T("manage.role_done", "Email", u.Email, "Role", templates.RoleName(c.Request().Context(), u.Role)))
}

// handleAPISetRole is PUT /api/v1/manage/users/role {"email", "role"}.
func (s *Server) handleAPISetRole(c echo.Context) error {
	var in struct {
		Email string `json:"email"`
		Role  string `json:"role"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	u, err := s.accounts.SetRole(c.Request().Context(), currentUser(c).ID, in.Email, in.Role)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": u.ID, "email": u.Email, "role": u.Role})
}
