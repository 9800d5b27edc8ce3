package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/audit"
	"github.com/boxoffice/boxoffice/app/ticket"
	"github.com/boxoffice/boxoffice/templates"
)

// The door: door staff (granted per event by its organiser), the
// organiser and admins scan tickets. The API takes a code and answers
// with the ticket or why not; the page scans with the phone's camera
// (BarcodeDetector) or takes the code typed, and answers in green or red.

type admittedJSON struct {
	TicketID  int64  `json:"ticket_id"`
	EventID   int64  `json:"event_id"`
	BookingID int64  `json:"booking_id"`
	Section   string `json:"section"`
	Row       string `json:"row,omitempty"`
	Seat      int    `json:"seat,omitempty"`
	Standing  bool   `json:"standing,omitempty"`
	Name      string `json:"name"`
	At        string `json:"checked_in_at"`
	Gate      string `json:"gate"`
}

func toAdmittedJSON(a *ticket.Admitted) admittedJSON {
	return admittedJSON{TicketID: a.TicketID, EventID: a.EventID, BookingID: a.BookingID, Section: a.Section, Row: a.Row,
		Seat: a.Seat, Standing: a.Seat == 0, Name: a.Name, At: rfc3339(a.At), Gate: a.Gate}
}

// scanner is the signed-in account as the door sees it.
func scanner(c echo.Context) (audit.Actor, error) {
	u, err := requireUser(c, c.Request().URL.RequestURI())
	if err != nil {
		return audit.Actor{}, err
	}
	return audit.Actor{UserID: u.ID, Admin: u.Admin()}, nil
}

// handleAPICheckin is POST /api/v1/manage/checkins {"code", "gate"}.
func (s *Server) handleAPICheckin(c echo.Context) error {
	by, err := scanner(c)
	if err != nil {
		return err
	}
	var in struct {
		Code string `json:"code"`
		Gate string `json:"gate"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	a, err := s.door.Scan(c.Request().Context(), by, in.Code, in.Gate)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAdmittedJSON(a))
}

// doorPage is event id's door page, for those who may scan there.
func (s *Server) doorPage(c echo.Context, status int, result *templates.DoorResult) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	by, err := scanner(c)
	if err != nil {
		return err
	}
	if ok, err := s.door.CanScan(c.Request().Context(), by, id); err != nil || !ok {
		if err == nil {
			err = app.Errorf(app.ENOTFOUND, "There is no page at this address.")
		}
		return err
	}
	e, err := s.events.FindEventByID(c.Request().Context(), id)
	if err != nil {
		return err
	}
	counts, err := s.door.CheckedIn(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return render(c, status, templates.Door(templates.DoorPage{Event: e, Gate: c.FormValue("gate"), Result: result, Counts: counts}))
}

func (s *Server) handleDoor(c echo.Context) error { return s.doorPage(c, http.StatusOK, nil) }

// handleDoorScan takes the door page's code (typed, or read by the
// camera): the answer is the page again, green or red.
func (s *Server) handleDoorScan(c echo.Context) error {
	by, err := scanner(c)
	if err != nil {
		return err
	}
	a, err := s.door.Scan(c.Request().Context(), by, c.FormValue("code"), c.FormValue("gate"))
	var e *app.Error
	switch {
	case err == nil:
		return s.doorPage(c, http.StatusOK, &templates.DoorResult{OK: true, Admitted: a})
	case errors.As(err, &e) && e.Code != app.EINTERNAL && e.Code != app.EFORBIDDEN:
		status := statusOf[e.Code]
		return s.doorPage(c, status, &templates.DoorResult{Reason: e.Reason, Message: e.Message})
	}
	return err
}

// handleAPIGrantStaff is POST /api/v1/manage/events/:id/staff {"email"}.
func (s *Server) handleAPIGrantStaff(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	var in struct {
		Email string `json:"email"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if err := s.door.Grant(c.Request().Context(), actorOf(c), id, in.Email); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"event_id": id, "email": in.Email, "door": fmt.Sprintf("/manage/events/%d/checkin", id)})
}

// handleGrantStaff is the event page's door staff form.
func (s *Server) handleGrantStaff(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	if err := s.door.Grant(c.Request().Context(), actorOf(c), id, c.FormValue("email")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/manage/events/%d#door", id))
}
