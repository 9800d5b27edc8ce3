package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/boxoffice/boxoffice/db/dbtest"
)

// TestHostileInput throws what attackers and broken clients send at every
// kind of endpoint. Each gets the 4xx it deserves, none a 5xx, and nothing
// in the database changes.
func TestHostileInput(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	_, tickets := smallEvent(t, pool, 10)
	token := signUp(t, ts.URL, "target@example.com")
	_, held := api(t, "POST", ts.URL+"/api/v1/bookings", token, map[string]any{"ticket_ids": tickets[:1]})
	booking := fmt.Sprint(int64(held["id"].(float64)))
	fan := newBrowser(t, ts.URL)
	_, form := fan.get("/signup")
	_, home := fan.submit(form, `form[data-testid="auth-form"]`, url.Values{"email": {"hostile@example.com"}, "password": {"correct horse battery"}})
	csrf := home.Find(`input[name="_csrf"]`).AttrOr("value", "")

	state := func() string {
		t.Helper()
		var s string
		dbtest.QueryRow(t, pool, `SELECT
			(SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM tickets) || '|' ||
			(SELECT string_agg(id || ':' || status, ',' ORDER BY id) FROM bookings) || '|' ||
			(SELECT count(*) FROM users) || '|' || (SELECT count(*) FROM sessions)`).Scan(&s)
		return s
	}
	before := state()

	many := strings.Repeat("1,", 150_000) + "1"
	cases := []struct {
		name, method, path, ctype, body string
		bearer, cookie                  bool
		want                            int
	}{
		{"body over 1 MB to the API", "POST", "/api/v1/bookings", "application/json", `{"ticket_ids":[` + strings.Repeat("1,", 600_000) + `1]}`, true, false, 413},
		{"form over 1 MB", "POST", "/bookings", "application/x-www-form-urlencoded", "_csrf=" + csrf + "&ticket_ids=" + strings.Repeat("1", 1<<20+10), false, true, 413},
		{"deeply nested JSON", "POST", "/api/v1/bookings", "application/json", `{"ticket_ids":` + strings.Repeat("[", 20_000) + strings.Repeat("]", 20_000) + `}`, true, false, 400},
		{"150,000 ticket ids", "POST", "/api/v1/bookings", "application/json", `{"ticket_ids":[` + many + `]}`, true, false, 400},
		{"negative ticket id", "POST", "/api/v1/bookings", "application/json", `{"ticket_ids":[-1]}`, true, false, 400},
		{"ticket id past int64", "POST", "/api/v1/bookings", "application/json", `{"ticket_ids":[9223372036854775808]}`, true, false, 400},
		{"fractional ticket id", "POST", "/api/v1/bookings", "application/json", `{"ticket_ids":[1.5]}`, true, false, 400},
		{"unknown field", "POST", "/api/v1/users", "application/json", `{"email":"x@example.com","password":"correct horse battery","admin":true}`, false, false, 400},
		{"JSON as text/plain", "POST", "/api/v1/sessions", "text/plain", `{"email":"target@example.com","password":"correct horse battery"}`, false, false, 415},
		{"no content type", "POST", "/api/v1/users", "", `{"email":"y@example.com","password":"correct horse battery"}`, false, false, 415},
		{"JSON body to a form", "POST", "/bookings", "application/json", `{"ticket_ids":[1]}`, false, true, 403},
		{"two JSON objects", "POST", "/api/v1/users", "application/json", `{"email":"z@example.com","password":"correct horse battery"}{}`, false, false, 400},
		{"negative booking id", "GET", "/api/v1/bookings/-1", "", "", true, false, 404},
		{"booking id past int64", "GET", "/api/v1/bookings/99999999999999999999", "", "", true, false, 404},
		{"booking id not a number", "DELETE", "/api/v1/bookings/1;DROP%20TABLE%20tickets", "", "", true, false, 404},
		{"pay with a huge booking id", "POST", "/api/v1/bookings/18446744073709551616/pay", "application/json", `{"payment_method":"pm_card_visa"}`, true, false, 404},
		{"event id past int64", "GET", "/event/99999999999999999999", "", "", false, false, 404},
		{"negative event id", "GET", "/api/v1/events/-7/tickets", "", "", false, false, 404},
		{"section of another event", "GET", "/event/1/sections/-1", "", "", false, false, 404},
		{"search with 10 kB of words", "GET", "/api/v1/search?q=" + strings.Repeat("rock%20", 1500), "", "", false, false, 400},
		{"search with a bad date", "GET", "/api/v1/search?from=2026-13-45", "", "", false, false, 400},
		{"search page far past the end", "GET", "/api/v1/search?page=99999999999999999999", "", "", false, false, 400},
		{"static: parent folder", "GET", "/static/../main.go", "", "", false, false, 404},
		{"static: encoded parent folder", "GET", "/static/%2e%2e/go.mod", "", "", false, false, 404},
		{"static: encoded slash", "GET", "/static/..%2fmain.go", "", "", false, false, 404},
		{"static: backslash", "GET", "/static/..%5cmain.go", "", "", false, false, 404},
		{"static: absolute path", "GET", "/static//etc/passwd", "", "", false, false, 404},
		{"static: NUL byte", "GET", "/static/app.css%00.js", "", "", false, false, 404},
		{"static: the embedding Go file", "GET", "/static/static.go", "", "", false, false, 404},
		{"wrong method", "PUT", "/api/v1/bookings/" + booking, "application/json", `{}`, true, false, 405},
	}
	for _, c := range cases {
		req, err := http.NewRequest(c.method, ts.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		if c.bearer {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		client := http.DefaultClient
		if c.cookie {
			client = fan.client
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 2000))
		res.Body.Close()
		if res.StatusCode != c.want {
			t.Errorf("%s: %d, want %d: %.300s", c.name, res.StatusCode, c.want, body)
		}
		if strings.HasPrefix(c.path, "/api/") && !strings.Contains(string(body), `"message"`) {
			t.Errorf("%s: the API error has no message: %.300s", c.name, body)
		}
	}
	if after := state(); after != before {
		t.Errorf("hostile requests changed the data:\nbefore %s\nafter  %s", before, after)
	}
}
