package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/venue"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

// withRole signs up email, gives the account role, and returns its token.
func withRole(t *testing.T, pool *pgxpool.Pool, base, email, role string) string {
	t.Helper()
	token := signUp(t, base, email)
	dbtest.Exec(t, pool, `UPDATE users SET role = $2 WHERE email = $1`, email, role)
	return token
}

// browserWith is a browser signed in with token.
func browserWith(t *testing.T, base, token string) *browser {
	t.Helper()
	b := newBrowser(t, base)
	u, _ := url.Parse(base)
	b.client.Jar.(*cookiejar.Jar).SetCookies(u, []*http.Cookie{{Name: "boxoffice_session", Value: token, Path: "/"}})
	return b
}

// postSeatMap sends a seat-map file to the API.
func postSeatMap(t *testing.T, base, token string, file []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/v1/manage/venues", bytes.NewReader(file))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func getRaw(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// An organiser puts a venue in from a seat-map file and gets the same
// file back; another organiser cannot see it, a fan reaches nothing, and
// someone signed out is asked to sign in.
func TestVenueSeatMapAPI(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	alice := withRole(t, pool, ts.URL, "alice@example.com", "organiser")
	bob := withRole(t, pool, ts.URL, "bob@example.com", "organiser")
	root := withRole(t, pool, ts.URL, "root@example.com", "admin")
	fan := signUp(t, ts.URL, "fan@example.com")

	code, created := postSeatMap(t, ts.URL, alice, venue.Example)
	if code != http.StatusCreated || created["capacity"] != float64(258) {
		t.Fatalf("POST the example: %d %v", code, created)
	}
	id := int64(created["id"].(float64))
	code, back := getRaw(t, fmt.Sprintf("%s/api/v1/manage/venues/%d/seatmap", ts.URL, id), alice)
	var want, got any
	json.Unmarshal(venue.Example, &want)
	json.Unmarshal(back, &got)
	if code != 200 || fmt.Sprint(want) != fmt.Sprint(got) {
		t.Errorf("the seat map back: %d\n%s", code, back)
	}
	// Bob sees none of it; the admin sees it; the fan is refused.
	if code, _ := getRaw(t, fmt.Sprintf("%s/api/v1/manage/venues/%d/seatmap", ts.URL, id), bob); code != http.StatusNotFound {
		t.Errorf("another organiser reads the seat map: %d, want 404", code)
	}
	if _, list := api(t, "GET", ts.URL+"/api/v1/manage/venues", bob, nil); len(list["venues"].([]any)) != 0 {
		t.Errorf("another organiser lists %v", list["venues"])
	}
	if code, _ := getRaw(t, fmt.Sprintf("%s/api/v1/manage/venues/%d/seatmap", ts.URL, id), root); code != 200 {
		t.Errorf("an admin reads the seat map: %d", code)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/manage/venues"},
		{"POST", "/api/v1/manage/venues"},
		{"GET", fmt.Sprintf("/api/v1/manage/venues/%d/seatmap", id)},
	} {
		if code, body := api(t, c.method, ts.URL+c.path, fan, map[string]any{}); code != http.StatusForbidden || body["error"].(map[string]any)["code"] != "not_an_organiser" {
			t.Errorf("a fan: %s %s = %d %v, want 403 not_an_organiser", c.method, c.path, code, body)
		}
		if code, _ := api(t, c.method, ts.URL+c.path, "", map[string]any{}); code != http.StatusUnauthorized {
			t.Errorf("signed out: %s %s = %d, want 401", c.method, c.path, code)
		}
	}

	// A bad file: 400 with every problem, nothing stored.
	bad := bytes.Replace(venue.Example, []byte(`"x": 170, "y": 250`), []byte(`"x": 470, "y": 250`), 1)
	bad = bytes.Replace(bad, []byte(`"The Lantern Rooms"`), []byte(`"The Lantern Rooms 2"`), 1)
	code, body := postSeatMap(t, ts.URL, alice, bad)
	e, _ := body["error"].(map[string]any)
	if code != http.StatusBadRequest || e["code"] != "invalid_seatmap" || !strings.Contains(fmt.Sprint(e["problems"]), `row "B", seat 4 is at (470, 250)`) {
		t.Errorf("a seat off the map: %d %v", code, body)
	}
	// The same venue twice: a clear conflict.
	if code, body := postSeatMap(t, ts.URL, alice, venue.Example); code != http.StatusConflict {
		t.Errorf("the same venue again: %d %v", code, body)
	}
	if n := dbtest.Int(t, pool, `SELECT count(*) FROM venues`); n != 1 {
		t.Errorf("%d venues after one good file and two refused", n)
	}
}

// The pages: a fan finds nothing, an organiser uploads a file (a bad one
// comes back with its problems), sees the map and its log, and downloads
// the file again.
func TestVenuePages(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ts := newServer(t, pool)
	fan := browserWith(t, ts.URL, signUp(t, ts.URL, "fan@example.com"))
	for _, path := range []string{"/manage", "/manage/venues/new", "/manage/venues/1"} {
		if res, _ := fan.get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("a fan gets %s: %d, want 404", path, res.StatusCode)
		}
	}
	if res, _ := newBrowser(t, ts.URL).get("/manage"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("signed out, /manage: %d to %q, want the log-in page", res.StatusCode, res.Header.Get("Location"))
	}

	org := browserWith(t, ts.URL, withRole(t, pool, ts.URL, "alice@example.com", "organiser"))
	_, home := org.get("/manage")
	if home.Find(`[data-testid="no-venues"]`).Length() != 1 {
		t.Error("a new organiser's box office does not say they have no venues")
	}
	_, form := org.get("/manage/venues/new")
	csrf := form.Find(`input[name="_csrf"]`).AttrOr("value", "")
	upload := func(file []byte) (*http.Response, *goquery.Document) {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		w.WriteField("_csrf", csrf)
		part, _ := w.CreateFormFile("file", "venue.json")
		part.Write(file)
		w.Close()
		req, _ := http.NewRequest("POST", ts.URL+"/manage/venues", &body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		res, err := org.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode == http.StatusSeeOther {
			return org.get(res.Header.Get("Location"))
		}
		doc, _ := goquery.NewDocumentFromReader(res.Body)
		return res, doc
	}
	bad := bytes.Replace(venue.Example, []byte(`"capacity": 250`), []byte(`"capacity": 0`), 1)
	res, page := upload(bad)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(page.Find(`[data-testid="seatmap-problems"]`).Text(), `Section 1 ("Floor") is standing: give its capacity`) {
		t.Errorf("a bad file: %d, problems %q", res.StatusCode, page.Find(`[data-testid="seatmap-problems"]`).Text())
	}
	res, page = upload(venue.Example)
	if res.StatusCode != 200 || page.Find(`[data-testid="manage-venue"] h1`).Text() != "The Lantern Rooms" {
		t.Fatalf("after a good file: %d %q", res.StatusCode, page.Find("h1").Text())
	}
	if n := page.Find(`[data-testid="plan-seats"] circle`).Length(); n != 8 {
		t.Errorf("the map shows %d seats, want 8", n)
	}
	if !strings.Contains(page.Find(`[data-testid="audit-log"]`).Text(), "venue.create") {
		t.Error("the venue's log does not show its creation")
	}
	link, _ := page.Find(`[data-testid="seatmap-download"]`).Attr("href")
	res, err := org.client.Get(ts.URL + link)
	if err != nil {
		t.Fatal(err)
	}
	file, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if _, err := venue.Parse(file); err != nil || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("the downloaded file: %v, %q", err, res.Header.Get("Content-Disposition"))
	}
	// Without the form token: refused.
	req, _ := http.NewRequest("POST", ts.URL+"/manage/venues", strings.NewReader(url.Values{"seatmap": {string(venue.Example)}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err := org.client.Do(req); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("a venue posted without the form token: %v %v", res.StatusCode, err)
	}
	// The schema and the example are public documentation.
	for _, path := range []string{"/docs/seatmap.schema.json", "/docs/seatmap-example.json"} {
		if res, _ := newBrowser(t, ts.URL).get(path); res.StatusCode != 200 {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
}
