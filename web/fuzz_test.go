package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/boxoffice/boxoffice/db/dbtest"
)

// FuzzBookingRequest sends the booking API any body with any content type,
// through the real handler and database. Nothing may answer 5xx; anything
// refused is a 4xx with an error object; anything held is a pending
// booking of the tickets asked for.
func FuzzBookingRequest(f *testing.F) {
	pool := dbtest.New(f)
	ts := newServer(f, pool)
	_, tickets := smallEvent(f, pool, 20)
	token := signUp(f, ts.URL, "fuzz@example.com")
	for _, seed := range []struct{ body, ctype string }{
		{`{"ticket_ids":[` + itoa(tickets[0]) + `]}`, "application/json"},
		{`{"ticket_ids":[]}`, "application/json"},
		{`{"ticket_ids":[-1, 0, 9223372036854775807]}`, "application/json"},
		{`{"ticket_ids":[1e400]}`, "application/json"},
		{`{"ticket_ids":"all"}`, "application/json"},
		{`{"ticket_ids":[1],"discount":100}`, "application/json"},
		{`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`, "application/json"},
		{`{"ticket_ids":[1]} {"ticket_ids":[2]}`, "application/json"},
		{`ticket_ids=1`, "application/x-www-form-urlencoded"},
		{"\x00\xff", "application/json; charset=utf-8"},
	} {
		f.Add([]byte(seed.body), seed.ctype)
	}
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		req, err := http.NewRequest("POST", ts.URL+"/api/v1/bookings", bytes.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Skip() // a header the client itself refuses to send
		}
		defer res.Body.Close()
		var out map[string]any
		decodeErr := json.NewDecoder(res.Body).Decode(&out)
		switch {
		case res.StatusCode >= 500:
			t.Fatalf("%d for %q (%s): %v", res.StatusCode, body, ctype, out)
		case res.StatusCode == http.StatusCreated:
			if out["status"] != "pending" {
				t.Fatalf("201 without a pending booking: %v", out)
			}
			// Give the seats back for the next input.
			api(t, "DELETE", ts.URL+"/api/v1/bookings/"+itoa(int64(out["id"].(float64))), token, nil)
		default:
			if decodeErr != nil || out["error"] == nil {
				t.Fatalf("%d without an error object: %v", res.StatusCode, decodeErr)
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
