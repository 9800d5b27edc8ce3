package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/audit"
	"github.com/boxoffice/boxoffice/app/locale"
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
		Code    string `json:"code"`
		Gate    string `json:"gate"`
		EventID int64  `json:"event_id"` // the door's event: a ticket of another is refused
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	a, err := s.door.Scan(c.Request().Context(), by, in.EventID, in.Code, in.Gate)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAdmittedJSON(a))
}

// doorPage is event id's door page, for those who may scan there, with
// the answer to the last scan: admitted, or refused.
func (s *Server) doorPage(c echo.Context, status int, admitted *ticket.Admitted, refused *app.Error) error {
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
			err = app.Errorf(app.ENOTFOUND, "%s", lang(c).T("manage.no_page"))
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
	var result *templates.DoorResult
	switch {
	case admitted != nil:
		result = &templates.DoorResult{OK: true, Admitted: admitted}
	case refused != nil:
		result = &templates.DoorResult{Reason: refused.Reason, Message: refusal(lang(c), refused, e.Location())}
	}
	return render(c, status, templates.Door(templates.DoorPage{Event: e, Gate: c.FormValue("gate"), Result: result, Counts: counts}))
}

func (s *Server) handleDoor(c echo.Context) error { return s.doorPage(c, http.StatusOK, nil, nil) }

// handleDoorScan takes the door page's code (typed, or read by the
// camera): the answer is the page again, green or red.
func (s *Server) handleDoorScan(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	by, err := scanner(c)
	if err != nil {
		return err
	}
	a, err := s.door.Scan(c.Request().Context(), by, id, c.FormValue("code"), c.FormValue("gate"))
	var e *app.Error
	switch {
	case err == nil:
		return s.doorPage(c, http.StatusOK, a, nil)
	case errors.As(err, &e) && e.Code != app.EINTERNAL && e.Code != app.EFORBIDDEN:
		status := statusOf[e.Code]
		return s.doorPage(c, status, nil, e)
	}
	return err
}

// refusal says why the door refused a ticket, in l, with times in loc
// (the venue's zone).
func refusal(l *locale.Lang, e *app.Error, loc *time.Location) string {
	if why, _ := e.Detail["why"].(string); why != "" {
		return l.T("door.refusal." + why)
	}
	if e.Reason == "not_door_staff" {
		return l.T("door.refusal.not_door_staff")
	}
	switch e.Reason {
	case "already_checked_in":
		at, err := time.Parse(time.RFC3339, fmt.Sprint(e.Detail["checked_in_at"]))
		if err != nil {
			break
		}
		if gate, _ := e.Detail["gate"].(string); gate != "" {
			return l.T("door.refusal.already_in_gate", "Time", clockAt(at, loc), "Gate", gate)
		}
		return l.T("door.refusal.already_in", "Time", clockAt(at, loc))
	}
	if l.Code == locale.Fallback.String() {
		return e.Message
	}
	switch e.Reason {
	case "invalid_code", "not_valid", "not_door_staff":
		return l.T("door.refusal." + e.Reason)
	}
	return e.Message
}

// clockAt is the time of day of t in loc, to the second, with its zone:
// "20:15:04 CET".
func clockAt(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	return t.Format("15:04:05") + " " + locale.ZoneName(t)
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

type gateJSON struct {
	EventID         int64   `json:"event_id"`
	PublicKey       string  `json:"public_key"` // base64url of the raw 32-byte Ed25519 key
	WindowS         int     `json:"window_s"`
	Cancelled       bool    `json:"cancelled"`
	RevokedBookings []int64 `json:"revoked_bookings"`
	CheckedIn       []int64 `json:"checked_in"`
	At              string  `json:"at"`
}

// handleGateData is what a gate keeps to check codes offline, for the
// API (GET /api/v1/manage/events/:id/gate) and the door page's script.
func (s *Server) handleGateData(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	by, err := scanner(c)
	if err != nil {
		return err
	}
	g, err := s.door.GateData(c.Request().Context(), by, id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, gateJSON{EventID: g.EventID, PublicKey: base64.RawURLEncoding.EncodeToString(g.Public),
		WindowS: int(ticket.Window / time.Second), Cancelled: g.Cancelled, RevokedBookings: g.RevokedBookings, CheckedIn: g.CheckedIn,
		At: rfc3339(g.At)})
}

type offlineScanJSON struct {
	Code string    `json:"code"`
	At   time.Time `json:"at"`
}

type syncedJSON struct {
	Result    string  `json:"result"` // admitted, duplicate, invalid_code, not_valid, not_door_staff
	Message   string  `json:"message,omitempty"`
	TicketID  int64   `json:"ticket_id,omitempty"`
	First     *string `json:"first_at,omitempty"`
	FirstGate string  `json:"first_gate,omitempty"`
}

// sync records an offline gate's scans and says what became of each; a
// door page (loc, its venue's zone, not nil) is told in its language.
func (s *Server) sync(c echo.Context, gate string, scans []offlineScanJSON, loc *time.Location) error {
	by, err := scanner(c)
	if err != nil {
		return err
	}
	if len(scans) > 5000 {
		return fanError(c, app.EINVALID, "door.too_many_scans", "Max", lang(c).Int(5000))
	}
	in := make([]ticket.OfflineScan, len(scans))
	for i, sc := range scans {
		in[i] = ticket.OfflineScan{Code: sc.Code, At: sc.At}
	}
	results, err := s.door.Sync(c.Request().Context(), by, gate, in)
	if err != nil {
		return err
	}
	out := struct {
		Results []syncedJSON `json:"results"`
	}{Results: make([]syncedJSON, len(results))}
	for i, r := range results {
		out.Results[i] = syncedJSON{Result: r.Result, Message: r.Message, TicketID: r.TicketID, FirstGate: r.FirstGate}
		if loc != nil {
			out.Results[i].Message = syncedMessage(lang(c), r, scans[i].At, loc)
		}
		if !r.First.IsZero() {
			out.Results[i].First = rfc3339Ptr(&r.First)
		}
	}
	return c.JSON(http.StatusOK, out)
}

// handleAPISync is POST /api/v1/manage/checkins/sync {"gate", "scans":
// [{"code", "at"}]}.
func (s *Server) handleAPISync(c echo.Context) error {
	var in struct {
		Gate  string            `json:"gate"`
		Scans []offlineScanJSON `json:"scans"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	return s.sync(c, in.Gate, in.Scans, nil)
}

// handleDoorSync is the door page's script sending what it scanned
// offline: a form (for its token) whose "scans" field is the JSON list.
func (s *Server) handleDoorSync(c echo.Context) error {
	var scans []offlineScanJSON
	if err := json.Unmarshal([]byte(c.FormValue("scans")), &scans); err != nil {
		return app.Errorf(app.EINVALID, "The scans could not be read: %s.", jsonProblem(err))
	}
	loc := time.UTC
	if id, err := pathID(c, "id", "event"); err == nil {
		if e, err := s.events.FindEventByID(c.Request().Context(), id); err == nil {
			loc = e.Location()
		}
	}
	return s.sync(c, c.FormValue("gate"), scans, loc)
}

// syncedMessage is what became of an offline scan made at, for the door
// page's report, in l with times in loc.
func syncedMessage(l *locale.Lang, r ticket.Synced, at time.Time, loc *time.Location) string {
	switch {
	case r.Message == "":
		return ""
	case r.Result == "duplicate" && !r.First.IsZero():
		return l.T("door.refusal.duplicate", "Time", clockAt(r.First, loc), "Gate", r.FirstGate)
	case r.Result == "invalid_code" && strings.HasPrefix(r.Message, "The gate's clock is wrong"):
		return l.T("door.refusal.clock_wrong", "At", l.DateTime(at, loc))
	}
	return refusal(l, &app.Error{Reason: r.Result, Message: r.Message}, loc)
}

// handleAPIRevokeStaff is DELETE /api/v1/manage/events/:id/staff {"email"}.
func (s *Server) handleAPIRevokeStaff(c echo.Context) error {
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
	if err := s.door.Revoke(c.Request().Context(), actorOf(c), id, in.Email); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// handleRevokeStaff is the event page's "take off the door" button.
func (s *Server) handleRevokeStaff(c echo.Context) error {
	id, err := pathID(c, "id", "event")
	if err != nil {
		return err
	}
	if err := s.door.Revoke(c.Request().Context(), actorOf(c), id, c.FormValue("email")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/manage/events/%d#door", id))
}
