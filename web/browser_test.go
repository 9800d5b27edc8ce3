package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app/locale"
	"github.com/boxoffice/boxoffice/app/seed"
	"github.com/boxoffice/boxoffice/db/dbtest"
)

// These tests drive a real, headless Chromium through a fan's whole
// journey, and keep screenshots of every step.

// chromiumPath finds the browser: BOXOFFICE_CHROMIUM, or Chromium or
// Chrome on PATH. Without one the tests skip, except in CI.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("BOXOFFICE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium for the browser tests: install it (apt-get install chromium) or set BOXOFFICE_CHROMIUM")
	}
	t.Skip("no Chromium on this machine (apt-get install chromium, or set BOXOFFICE_CHROMIUM); skipping the browser tests")
	return ""
}

var (
	shotsOnce sync.Once
	shotsDir  string
)

// screenshots is where the steps' pictures go: BOXOFFICE_SCREENSHOTS, or
// a temporary folder that the test names.
func screenshots(t *testing.T) string {
	shotsOnce.Do(func() {
		shotsDir = os.Getenv("BOXOFFICE_SCREENSHOTS")
		if shotsDir == "" {
			shotsDir, _ = os.MkdirTemp("", "boxoffice-screenshots-")
		}
		os.MkdirAll(shotsDir, 0o755)
		fmt.Printf("browser test screenshots: %s\n", shotsDir)
	})
	return shotsDir
}

// tab opens a fresh browser (its own profile: no shared cookies) at the
// given window size, with or without JavaScript.
func tab(t *testing.T, width, height int, script bool) context.Context {
	t.Helper()
	profile, err := os.MkdirTemp("", "boxoffice-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(width, height),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc(); os.RemoveAll(profile) })
	var view []chromedp.EmulateViewportOption
	if width < 600 {
		view = append(view, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	run(t, ctx, "start Chromium", chromedp.EmulateViewport(int64(width), int64(height), view...))
	if !script {
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatalf("turn JavaScript off: %v", err)
		}
	}
	return ctx
}

type step = chromedp.Action[chromedp.Void]

// run runs browser actions, failing the test with the step's name.
func run(t *testing.T, ctx context.Context, name string, steps ...step) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// value runs an action that gives a value.
func value[T any](t *testing.T, ctx context.Context, name string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func eval[T any](t *testing.T, ctx context.Context, name, js string) T {
	t.Helper()
	return value(t, ctx, name, chromedp.Evaluate[T](js))
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return value(t, ctx, "read "+sel, chromedp.Text(css(sel)))
}

func attr(t *testing.T, ctx context.Context, sel, name string) string {
	t.Helper()
	return value(t, ctx, "read "+sel, chromedp.AttributeValue(css(sel), name)).Value
}

// shot saves a full-page screenshot of the current page.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := value(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100)) // quality 100 gives PNG, less gives JPEG
	if err := os.WriteFile(filepath.Join(screenshots(t), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// noSideScroll fails when the page is wider than the window: on a phone
// that means a layout that does not fit.
func noSideScroll(t *testing.T, ctx context.Context, page string) {
	t.Helper()
	if eval[bool](t, ctx, "measure "+page, `document.documentElement.scrollWidth > window.innerWidth + 1`) {
		t.Errorf("%s scrolls sideways", page)
	}
}

func journeyServer(t *testing.T) (string, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.New(t)
	if _, _, err := seed.Demo(context.Background(), pool, time.Now()); err != nil {
		t.Fatal(err)
	}
	return newServer(t, pool).URL, pool
}

// pickAdjacent finds two available seats side by side on the map (same
// section and row, consecutive numbers) and returns their ticket ids.
var pickAdjacent = pickAdjacentIn(locale.Default().English())

// pickAdjacentIn is pickAdjacent on a map in language l, whose seats'
// names it reads as l's catalog writes them.
func pickAdjacentIn(l *locale.Lang) string {
	label := regexp.QuoteMeta(l.T("seatmap.seat", "Section", "\x01", "Row", "\x02", "Number", "\x03"))
	label = strings.NewReplacer("\x01", `(.*)`, "\x02", `(\w+)`, "\x03", `(\d+)`).Replace(label)
	return strings.Replace(pickAdjacentJS, "LABEL", strconv.Quote("^"+label), 1)
}

const pickAdjacentJS = `(() => {
	const seats = [...document.querySelectorAll('[data-testid=seat-map] input[name=ticket_ids]')];
	const label = new RegExp(LABEL);
	const parse = el => { const m = el.getAttribute('aria-label').match(label); return m && {place: m[1] + '/' + m[2], n: +m[3], id: el.value}; };
	for (let i = 1; i < seats.length; i++) {
		const a = parse(seats[i-1]), b = parse(seats[i]);
		if (a && b && a.place === b.place && b.n === a.n + 1) return [a.id, b.id];
	}
	return [];
})()`

func checkedIDs(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return eval[[]string](t, ctx, "read ticked seats", `[...document.querySelectorAll('input[name=ticket_ids]:checked')].map(e => e.value)`)
}

// journey is a fan's way from the home page to a confirmed booking.
// prefix names the screenshots; script says whether JavaScript runs.
func journey(t *testing.T, base string, width, height int, script bool, prefix string) (seats []string, eventURL string) {
	return journeyIn(t, base, width, height, script, prefix, "")
}

// journeyIn is journey by a fan who first picks language code with the
// switcher at the foot of the home page ("": the browser's English).
func journeyIn(t *testing.T, base string, width, height int, script bool, prefix, code string) (seats []string, eventURL string) {
	ctx := tab(t, width, height, script)
	phone := width < 600
	l := locale.Default().English()

	run(t, ctx, "home", chromedp.Navigate(base+"/"), chromedp.WaitVisible(css(`[data-testid="event-list"]`)))
	if code != "" {
		var ok bool
		if l, ok = locale.Default().Get(code); !ok {
			t.Fatalf("no language %s", code)
		}
		run(t, ctx, "choose "+l.Name, chromedp.Click(css(`[data-testid="languages"] a[data-lang="`+code+`"]`)),
			chromedp.WaitVisible(css(`html[lang="`+l.Code+`"] [data-testid="event-list"]`)))
		if got := text(t, ctx, "h1"); got != l.T("home.hero_title") {
			t.Errorf("the home page in %s says %q", l.Name, got)
		}
	}
	shot(t, ctx, prefix+"01-home")
	if phone {
		noSideScroll(t, ctx, "the home page")
	}

	run(t, ctx, "search for a performer",
		chromedp.SendKeys(css(`input[data-testid="search-input"]`), "Lena Marlowe"+kb.Enter),
		chromedp.WaitVisible(css(`[data-testid="results"]`)))
	shot(t, ctx, prefix+"02-results")
	if phone {
		noSideScroll(t, ctx, "the results page")
	}

	run(t, ctx, "open the event",
		chromedp.Click(css(`[data-testid="results"] a.card-link`), chromedp.NodeVisible),
		chromedp.WaitVisible(css(`[data-testid="seat-form"]`)))
	eventURL = value(t, ctx, "read the address", chromedp.Location())
	seats = eval[[]string](t, ctx, "find two seats side by side", pickAdjacentIn(l))
	if len(seats) != 2 {
		t.Fatal("no two available seats side by side on the map")
	}
	for _, id := range seats {
		run(t, ctx, "tick seat "+id, chromedp.Click(css(fmt.Sprintf(`input[name="ticket_ids"][value="%s"]`, id))))
	}
	if got := checkedIDs(t, ctx); len(got) != 2 {
		shot(t, ctx, prefix+"03-seats-not-ticked")
		// Say what was under the first seat: something drawn over the map
		// takes the click.
		t.Logf("under seat %s: %s", seats[0], eval[string](t, ctx, "look under the seat", fmt.Sprintf(`(() => {
			const r = document.querySelector('input[name="ticket_ids"][value="%s"]').getBoundingClientRect();
			const at = document.elementFromPoint(r.x + r.width/2, r.y + r.height/2);
			return JSON.stringify(r) + ' ' + (at ? at.outerHTML.slice(0, 200) : 'nothing');
		})()`, seats[0])))
		t.Fatalf("%d seats ticked after clicking two", len(got))
	}
	if script {
		// "2 of 8 seats · £90.00", in the fan's language.
		want := strings.Split(l.N("seatmap.js.picked_of", 8, "Picked", 2, "Total", "\x00"), "\x00")[0]
		if line := text(t, ctx, `[data-selection]`); !strings.HasPrefix(line, want) {
			t.Errorf("selection line says %q, want it to begin %q", line, want)
		}
	}
	price := eval[int](t, ctx, "add up the ticked seats", `[...document.querySelectorAll('input[name=ticket_ids]:checked')].reduce((s, e) => s + Number(e.getAttribute('data-p')), 0)`)
	currency := attr(t, ctx, `[data-selection]`, "data-currency")
	shot(t, ctx, prefix+"03-seats-ticked")
	if phone {
		noSideScroll(t, ctx, "the event page")
	}

	// Not signed in: log in or sign up, and come back to the same seats.
	run(t, ctx, "continue", chromedp.Click(css(`[data-testid="continue"]`)), chromedp.WaitVisible(css(`[data-testid="auth-message"]`)))
	run(t, ctx, "go to sign up", chromedp.Click(css(`[data-testid="to-signup"]`)), chromedp.WaitVisible(css(`input[name="name"]`)))
	email := fmt.Sprintf("%s%d@example.com", strings.Trim(prefix, "-"), time.Now().UnixNano())
	run(t, ctx, "sign up",
		chromedp.SendKeys(css(`input[name="name"]`), "Robin Fan"),
		chromedp.SendKeys(css(`input[name="email"]`), email),
		chromedp.SendKeys(css(`input[name="password"]`), "correct horse battery"))
	shot(t, ctx, prefix+"04-sign-up")
	run(t, ctx, "submit sign up", chromedp.Click(css(`[data-testid="auth-submit"]`)), chromedp.WaitVisible(css(`[data-testid="seat-form"]`)))
	if got := checkedIDs(t, ctx); strings.Join(got, ",") != strings.Join(seats, ",") {
		t.Fatalf("after signing up the ticked seats are %v, want %v", got, seats)
	}
	shot(t, ctx, prefix+"05-seats-kept")

	run(t, ctx, "hold", chromedp.Click(css(`[data-testid="continue"]`)), chromedp.WaitVisible(css(`[data-testid="pay-form"]`)))
	booked := eval[int](t, ctx, "count booked seats", `document.querySelectorAll('[data-testid=booked-seat]').length`)
	total := text(t, ctx, `[data-testid="total"]`)
	first := text(t, ctx, `[data-testid="countdown"]`)
	run(t, ctx, "wait", chromedp.Sleep(2200*time.Millisecond))
	second := text(t, ctx, `[data-testid="countdown"]`)
	if booked != 2 || total != l.Money(int64(price), currency) {
		t.Errorf("checkout lists %d seats, total %q, want %q", booked, total, l.Money(int64(price), currency))
	}
	if script && first == second {
		t.Errorf("the countdown does not run: %q then %q", first, second)
	}
	shot(t, ctx, prefix+"06-checkout")
	if phone {
		noSideScroll(t, ctx, "checkout")
	}

	if !phone {
		// A declined card says so and keeps the hold.
		run(t, ctx, "pay with a declined card",
			chromedp.Click(css(`input[data-testid="method-pm_card_chargeDeclined"]`)),
			chromedp.Click(css(`[data-testid="pay"]`)),
			chromedp.WaitVisible(css(`[data-testid="payment-error"]`)))
		msg, status := text(t, ctx, `[data-testid="payment-error"]`), attr(t, ctx, `[data-testid="booking"]`, "data-status")
		declined := "declined" // English keeps the payment provider's own words
		if code != "" {
			declined = l.T("errors.reason.payment_declined")
		}
		if !strings.Contains(msg, declined) || status != "pending" {
			t.Errorf("declined card: message %q, booking %s", msg, status)
		}
		shot(t, ctx, prefix+"07-declined")
	}

	run(t, ctx, "pay",
		chromedp.Click(css(`input[data-testid="method-pm_card_visa"]`)),
		chromedp.Click(css(`[data-testid="pay"]`)),
		chromedp.WaitVisible(css(`[data-testid="confirmed"]`)))
	if n := eval[int](t, ctx, "count tickets", `document.querySelectorAll('[data-testid=ticket-code]').length`); n != 2 {
		t.Errorf("the confirmation lists %d tickets", n)
	}
	shot(t, ctx, prefix+"08-confirmed")

	run(t, ctx, "my bookings", chromedp.Click(css(`[data-testid="my-bookings"]`)), chromedp.WaitVisible(css(`[data-testid="booking-list"]`)))
	if status := attr(t, ctx, `[data-testid="booking-row"]`, "data-status"); status != "confirmed" {
		t.Errorf("my bookings shows the booking %q", status)
	}
	shot(t, ctx, prefix+"09-my-bookings")
	if phone {
		noSideScroll(t, ctx, "my bookings")
	}
	return seats, eventURL
}

func TestBrowserJourney(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	base, _ := journeyServer(t)
	seats, eventURL := journey(t, base, 1280, 800, true, "desktop-")

	// Someone else, in another browser, sees those seats sold.
	other := tab(t, 1280, 800, true)
	run(t, other, "another fan opens the event", chromedp.Navigate(eventURL), chromedp.WaitVisible(css(`[data-testid="seat-form"]`)))
	for _, id := range seats {
		if n := eval[int](t, other, "look for seat "+id, fmt.Sprintf(`document.querySelectorAll('input[name=ticket_ids][value="%s"]').length`, id)); n != 0 {
			t.Errorf("seat %s, sold, can be selected by another fan", id)
		}
	}
	shot(t, other, "desktop-10-other-fan-sees-sold")
}

// TestBrowserJourneyInJapaneseAndSpanish is the journey by fans who pick
// their language at the foot of the first page: the choice follows them
// through sign-up, checkout and payment.
func TestBrowserJourneyInJapaneseAndSpanish(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	base, _ := journeyServer(t)
	for _, code := range []string{"ja", "es"} {
		t.Run(code, func(t *testing.T) {
			journeyIn(t, base, 1280, 800, true, code+"-", code)
		})
	}
}

func TestBrowserJourneyOnAPhone(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	base, _ := journeyServer(t)
	journey(t, base, 375, 812, true, "phone-")
}

func TestBrowserJourneyWithoutJavaScript(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	base, _ := journeyServer(t)
	journey(t, base, 1280, 800, false, "nojs-")
}

// TestBrowserAccessibility checks the basics on the seat map: names for
// every control, the map worked by keyboard alone, visible focus, and seat
// states told apart by more than colour.
func TestBrowserAccessibility(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	base, pool := journeyServer(t)
	var eventID int64
	if err := pool.QueryRow(context.Background(), `SELECT e.id FROM events e JOIN venues v ON v.id = e.venue_id
		WHERE v.capacity < 2500 AND e.starts_at > now() ORDER BY e.starts_at LIMIT 1`).Scan(&eventID); err != nil {
		t.Fatal(err)
	}
	ctx := tab(t, 1280, 800, true)
	run(t, ctx, "open an event", chromedp.Navigate(fmt.Sprintf("%s/event/%d", base, eventID)), chromedp.WaitVisible(css(`[data-testid="seat-form"]`)))

	unnamed := eval[[]string](t, ctx, "find unnamed controls", `[...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
		.filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') && !el.textContent.trim())
		.map(el => el.outerHTML.slice(0, 120))`)
	if len(unnamed) > 0 {
		t.Errorf("controls without an accessible name: %q", unnamed)
	}

	// Keyboard only: Tab to the first seat, Space ticks it, Tab to the
	// next, Space ticks it too.
	onSeat := false
	for i := 0; i < 40 && !onSeat; i++ {
		run(t, ctx, "tab", chromedp.KeyEvent(kb.Tab))
		onSeat = eval[bool](t, ctx, "where is focus", `document.activeElement.name === 'ticket_ids'`)
	}
	if !onSeat {
		t.Fatal("Tab never reaches a seat")
	}
	outline := eval[string](t, ctx, "read the focus outline", `getComputedStyle(document.activeElement).outlineStyle`)
	run(t, ctx, "space, tab, space", chromedp.KeyEvent(" "), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(" "))
	if outline == "none" || outline == "" {
		t.Error("a focused seat shows no outline")
	}
	if got := checkedIDs(t, ctx); len(got) != 2 {
		t.Errorf("keyboard ticked %d seats, want 2", len(got))
	}
	shot(t, ctx, "a11y-keyboard-focus")

	// Seat states differ in shape or pattern, not only in colour.
	looks := eval[map[string]string](t, ctx, "read seat styles", `(() => {
		const style = sel => { const el = document.querySelector(sel); if (!el) return ''; const s = getComputedStyle(el); return s.borderRadius + '|' + s.backgroundImage.slice(0, 20); };
		return {available: style('input[name=ticket_ids]:not(:checked)'), picked: style('input[name=ticket_ids]:checked'), sold: style('i.s-sold')};
	})()`)
	if looks["available"] == looks["sold"] || looks["available"] == looks["picked"] || !strings.Contains(looks["sold"], "url(") || !strings.Contains(looks["picked"], "url(") {
		t.Errorf("seat states look alike apart from colour: %v", looks)
	}
}

// TestBrowserLiveSeatMap has two fans on one seat map: when one takes
// seats, the other's map greys them out by itself, and a seat the other
// had ticked is unticked with a message that names it.
func TestBrowserLiveSeatMap(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	pool := dbtest.New(t)
	eventID, tickets := smallEvent(t, pool, 40)
	base := newServer(t, pool).URL
	page := fmt.Sprintf("%s/event/%d", base, eventID)

	watcher := tab(t, 1280, 800, true)
	run(t, watcher, "a fan opens the seat map", chromedp.Navigate(page), chromedp.WaitVisible(css(`[data-testid="seat-map"][data-live="on"]`)))
	ticked, other := tickets[10], tickets[11]
	run(t, watcher, "the fan ticks a seat", chromedp.Click(css(fmt.Sprintf(`input[name=ticket_ids][value="%d"]`, ticked))))
	if got := checkedIDs(t, watcher); len(got) != 1 {
		t.Fatalf("ticked %v", got)
	}

	token := signUp(t, base, "quicker@example.com")
	if code, body := api(t, "POST", base+"/api/v1/bookings", token, map[string]any{"ticket_ids": []int64{ticked, other}}); code != http.StatusCreated {
		t.Fatalf("another fan's hold = %d %v", code, body)
	}
	held := time.Now()
	run(t, watcher, "the map greys out the taken seats",
		chromedp.WaitVisible(css(fmt.Sprintf(`i.s-reserved[data-t="%d"]`, other))),
		chromedp.WaitVisible(css(`[data-testid="live-message"]`)))
	t.Logf("the other fan's map showed the hold %s after it was made", time.Since(held).Round(time.Millisecond))
	if got := checkedIDs(t, watcher); len(got) != 0 {
		t.Errorf("a seat someone else took is still ticked: %v", got)
	}
	msg := text(t, watcher, `[data-testid="live-message"]`)
	if !strings.Contains(msg, "Someone else just took") || !strings.Contains(msg, "seat 11") {
		t.Errorf("message %q does not name the seat that went", msg)
	}
	if left := text(t, watcher, `[data-testid="seats-left"]`); !strings.HasPrefix(left, "38 of 40") {
		t.Errorf("seats left %q, want 38 of 40", left)
	}
	shot(t, watcher, "live-01-seat-taken-by-another-fan")

	// Freed again (the other fan cancels): the seats open up.
	code, body := api(t, "GET", base+"/api/v1/bookings", token, nil)
	if code != http.StatusOK {
		t.Fatalf("bookings = %d", code)
	}
	id := body["bookings"].([]any)[0].(map[string]any)["id"]
	if code, _ := api(t, "DELETE", fmt.Sprintf("%s/api/v1/bookings/%v", base, id), token, nil); code != http.StatusOK {
		t.Fatalf("cancel = %d", code)
	}
	run(t, watcher, "the map opens the freed seat", chromedp.WaitVisible(css(fmt.Sprintf(`input[name=ticket_ids][value="%d"]`, other))))
	run(t, watcher, "the freed seat can be ticked", chromedp.Click(css(fmt.Sprintf(`input[name=ticket_ids][value="%d"]`, other))))
	if got := checkedIDs(t, watcher); len(got) != 1 || got[0] != fmt.Sprint(other) {
		t.Errorf("after ticking the freed seat: %v", got)
	}
}

// TestBrowserSeatMapZoomOnAPhone opens the 1,334-seat hall on a phone: the
// map opens zoomed so that seats are at least 24 CSS px, zooms out to the
// whole house and in again with buttons, and a tap on a seat drawn smaller
// zooms in on it instead of ticking it.
func TestBrowserSeatMapZoomOnAPhone(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	base, pool := journeyServer(t)
	id := eventAt(t, pool, 1300, 1400)
	ctx := tab(t, 375, 812, true)
	run(t, ctx, "open the hall on a phone", chromedp.Navigate(fmt.Sprintf("%s/event/%d", base, id)),
		chromedp.WaitVisible(css(`[data-testid="seat-map"][data-zoom]`)))
	seatWidth := func() float64 {
		return eval[float64](t, ctx, "measure a seat", `document.querySelector('[data-testid=seat-map] input[name=ticket_ids]').getBoundingClientRect().width`)
	}
	if w := seatWidth(); w < 24 {
		t.Fatalf("the hall opens with seats %.1f px wide on a phone, want at least 24", w)
	}
	noSideScroll(t, ctx, "the zoomed hall")
	shot(t, ctx, "zoom-01-hall-opens-readable")

	run(t, ctx, "see the whole map", chromedp.Click(css(`[data-zoom="fit"]`)))
	small := seatWidth()
	if small >= 24 {
		t.Fatalf("the whole hall still draws seats %.1f px wide: nothing to test", small)
	}
	shot(t, ctx, "zoom-02-whole-hall")
	seat := eval[string](t, ctx, "pick a seat", `document.querySelector('[data-testid=seat-map] input[name=ticket_ids]').value`)
	sel := fmt.Sprintf(`input[name=ticket_ids][value="%s"]`, seat)
	run(t, ctx, "tap a small seat", chromedp.Click(css(sel)))
	if got := checkedIDs(t, ctx); len(got) != 0 {
		t.Errorf("a %.1f px seat was ticked by a tap: %v", small, got)
	}
	if w := seatWidth(); w < 24 {
		t.Errorf("a tap on a small seat left seats %.1f px wide, want the map zoomed in", w)
	}
	run(t, ctx, "tap it again, now readable", chromedp.Click(css(sel)))
	if got := checkedIDs(t, ctx); len(got) != 1 || got[0] != seat {
		t.Errorf("after zooming in, tapping seat %s ticked %v", seat, got)
	}
	before := seatWidth()
	run(t, ctx, "zoom in with the button", chromedp.Click(css(`[data-zoom="in"]`)))
	if after := seatWidth(); after <= before {
		t.Errorf("zoom in: seats %.1f px, then %.1f px", before, after)
	}
	shot(t, ctx, "zoom-03-seat-ticked")
}

// TestBrowserLiveSectionOverview has a fan on a stadium's section overview
// while seats of one section are taken: its row's seats left and the
// event's follow by themselves.
func TestBrowserLiveSectionOverview(t *testing.T) {
	t.Parallel()
	chromiumPath(t)
	base, pool := journeyServer(t)
	id := eventAt(t, pool, 20000, 100000)
	var section int64
	var before int
	dbtest.QueryRow(t, pool, `SELECT section_id, count(*)::int FROM tickets WHERE event_id = $1 AND status = 'available'
		GROUP BY section_id ORDER BY count(*) DESC, section_id LIMIT 1`, id).Scan(&section, &before)
	ctx := tab(t, 1280, 800, true)
	run(t, ctx, "open the stadium's overview", chromedp.Navigate(fmt.Sprintf("%s/event/%d", base, id)),
		chromedp.WaitVisible(css(`[data-testid="overview"][data-live="on"]`)))
	row := fmt.Sprintf(`[data-testid="section-row"][data-section-id="%d"]`, section)
	if got := attr(t, ctx, row, "data-available"); got != fmt.Sprint(before) {
		t.Fatalf("section %d shows %s seats left, the database %d", section, got, before)
	}
	taken := dbtest.IDs(t, pool, `SELECT id FROM tickets WHERE event_id = $1 AND section_id = $2 AND status = 'available' ORDER BY id LIMIT 5`, id, section)
	hold(t, pool, id, time.Now().Add(time.Hour), taken...)
	run(t, ctx, "the row follows", chromedp.WaitVisible(css(fmt.Sprintf(`%s[data-available="%d"]`, row, before-5))))
	shot(t, ctx, "live-02-overview-follows")
}
