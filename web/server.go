// Package web is Boxoffice's HTTP face: routing, middleware, handlers that
// call the app services and render templates or JSON, and the one place that
// turns errors into responses. It is the only package that imports Echo.
package web

import (
	"cmp"
	"compress/gzip"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/klauspost/compress/gzhttp"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/boxoffice/boxoffice/app/account"
	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/ops"
	"github.com/boxoffice/boxoffice/app/organiser"
	"github.com/boxoffice/boxoffice/app/queue"
	"github.com/boxoffice/boxoffice/app/search"
	"github.com/boxoffice/boxoffice/app/ticket"
	"github.com/boxoffice/boxoffice/app/venue"
	"github.com/boxoffice/boxoffice/db"
)

// config is what the server is built from (NewSite fills it in).
type config struct {
	Ops      *ops.Sources
	Log      *slog.Logger
	Events   *event.Service
	Search   *search.Service
	Accounts *account.Service
	Bookings *booking.Service
	Queue    *queue.Service
	Venues   *venue.Service
	Organ    *organiser.Service
	Tickets  *ticket.Keys // signs the codes gates scan
	// BaseURL is the site's address as fans reach it, for links in mail.
	BaseURL string
	// PublicURL is BaseURL as configured: "" when it was not, and search
	// engines get the address each request came to.
	PublicURL string
	Door      *ticket.Door
	// Webhooks verifies Stripe's webhooks; nil when Stripe is not used.
	Webhooks WebhookVerifier
	// StripePublishableKey lets checkout show Stripe's Payment Element.
	StripePublishableKey string
	// LivePayments is true when real money moves (Stripe's live keys):
	// checkout then offers no test cards and says nothing of test mode.
	LivePayments bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Ready reports whether the service can take traffic (database reachable
	// and migrated); /readyz answers with it.
	Ready func(context.Context) error
	// Replicas reports the read replicas (nil: none).
	Replicas func() []db.ReplicaState
	// SeatMapLimit is the largest venue whose event page shows every seat;
	// larger venues show a section overview first. 0 means 2,500.
	SeatMapLimit int
	// BookingRate limits holds, payments and cancellations per fan;
	// SearchRate limits searches (and looks at a booking) per client;
	// SignupRate limits sign-ups per address. Zero values mean no limit.
	BookingRate, SearchRate, SignupRate Rate
	// Monitor is the booking invariant monitor whose findings /metrics
	// shows; nil leaves them out.
	Monitor *booking.Monitor
	// PoolStats reads the database pool's figures for /metrics; nil leaves
	// them out.
	PoolStats func() *pgxpool.Stat
	// TrustProxy takes the client's address from X-Forwarded-For, as set
	// by a load balancer in front. Without one the header is ignored, so
	// that nobody can pick the address their limits are counted against.
	TrustProxy bool
	// MaxStreams caps the seat-map streams open in the process (0: 10,000);
	// StreamsPerAddress caps them per client address (0: 20).
	MaxStreams, StreamsPerAddress int
}

// Server routes requests to handlers.
type Server struct {
	echo            *echo.Echo
	log             *slog.Logger
	events          *event.Service
	search          *search.Service
	accounts        *account.Service
	bookings        *booking.Service
	queue           *queue.Service
	venues          *venue.Service
	organiser       *organiser.Service
	tickets         *ticket.Keys
	door            *ticket.Door
	baseURL         string
	publicURL       string
	paymentProvider string
	webhooks        WebhookVerifier
	stripeKey       string
	livePayments    bool
	now             func() time.Time
	ready           func(context.Context) error
	replicas        func() []db.ReplicaState
	seatMapLimit    int
	bookingRate     Rate
	searchRate      Rate
	signupRate      Rate
	metrics         *metrics
	streams         *streams
	handler         http.Handler // echo, compressed
	drain           drain
}

// newServer builds the router with every route and middleware.
func newServer(cfg config) *Server {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	s := &Server{echo: e, log: cfg.Log, events: cfg.Events, search: cfg.Search, accounts: cfg.Accounts, bookings: cfg.Bookings, queue: cfg.Queue, venues: cfg.Venues, organiser: cfg.Organ, tickets: cfg.Tickets, door: cfg.Door, baseURL: strings.TrimRight(cfg.BaseURL, "/"), publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		paymentProvider: cfg.Bookings.Provider(), webhooks: cfg.Webhooks, stripeKey: cfg.StripePublishableKey, livePayments: cfg.LivePayments, now: cfg.Now, ready: cfg.Ready, replicas: cfg.Replicas, seatMapLimit: cfg.SeatMapLimit,
		bookingRate: cfg.BookingRate, searchRate: cfg.SearchRate, signupRate: cfg.SignupRate, metrics: newMetrics(cfg.Monitor, cfg.PoolStats, cfg.Queue, cfg.Ops, cfg.Replicas),
		streams: newStreams(cmp.Or(cfg.MaxStreams, 10_000), cmp.Or(cfg.StreamsPerAddress, 20))}
	if s.now == nil {
		s.now = time.Now
	}
	if s.seatMapLimit == 0 {
		s.seatMapLimit = 2500
	}
	s.handler = compressed(e)
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	if cfg.TrustProxy {
		e.IPExtractor = echo.ExtractIPFromXFFHeader()
	}

	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: http.StatusMovedPermanently}))
	e.Use(
		middleware.RequestIDWithConfig(middleware.RequestIDConfig{
			RequestIDHandler: func(c echo.Context, id string) { c.Set(requestIDKey, id) },
		}),
		s.logRequests(),
		middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: s.logPanic}),
		securityHeaders(contentPolicy(s.stripeKey != "")),
		deadline(RequestTimeout),
		// Seat-map files of big venues are larger (bodyLimitSeatMap).
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "1M", Skipper: takesSeatMaps}),
		csrf(),
		s.authenticate,
		s.language,
		pageContext,
	)
	s.routes()
	return s
}

// routes lists every route on one screen.
func (s *Server) routes() {
	e := s.echo
	bookingLimit, searchLimit := limit("booking", s.bookingRate), limit("searching", s.searchRate)
	// Holds per address too, so that fresh accounts do not multiply a
	// fan's share; four fans' worth, for a household or an office.
	addressLimit := limitAddress("holding seats", Rate{PerMinute: s.bookingRate.PerMinute * 4, Burst: s.bookingRate.Burst * 4})
	// Signing up and signing in each cost a password hash: per address,
	// whichever accounts are tried.
	signupLimit := limit("signing in or up", s.signupRate)
	// Looking at a booking may ask the payment processor how it stands:
	// as often as a fan may search, and no more.
	lookLimit := limit("looking at bookings", s.searchRate)
	e.GET("/", s.handleHome)
	e.GET("/search", s.handleSearch, searchLimit)
	e.GET("/signup", s.handleSignupForm)
	e.POST("/signup", s.handleSignup, signupLimit)
	e.GET("/login", s.handleLoginForm)
	e.POST("/login", s.handleLogin, signupLimit)
	e.POST("/logout", s.handleLogout)
	e.GET("/password/forgot", s.handleForgotForm)
	e.POST("/password/forgot", s.handleForgot, signupLimit)
	e.GET("/password/reset", s.handleResetForm)
	e.POST("/password/reset", s.handleReset, signupLimit)
	e.POST("/bookings", s.handleBookingCreate, addressLimit, bookingLimit, s.timeHolds)
	e.GET("/bookings/:id", s.handleBookingView, lookLimit)
	e.GET("/bookings/:id/codes", s.handleTicketCodes, lookLimit)
	e.GET("/bookings/:id/print", s.handlePrintTickets, lookLimit)
	e.POST("/bookings/:id/pay", s.handleBookingPay, bookingLimit)
	e.POST("/bookings/:id/cancel", s.handleBookingCancel, bookingLimit)
	e.GET("/account/bookings", s.handleMyBookings)
	e.POST("/webhooks/stripe", s.handleStripeWebhook)
	// Event pages write absolute links for search engines and link
	// previews (templates.EventHead), with the site's address.
	e.GET("/event/:eventId", s.handleEventView, s.withBaseURL)
	e.GET("/event/:eventId/sections/:sectionId", s.handleSectionView, s.withBaseURL)
	e.GET("/event/:eventId/og.png", s.handleOGImage, searchLimit)
	e.GET("/performer/:id", s.handlePerformerView)
	e.GET("/event/:eventId/queue", s.handleQueueView)
	e.GET("/event/:eventId/calendar.ics", s.handleCalendar)
	e.POST("/event/:eventId/queue", s.handleQueueJoin, bookingLimit)
	e.GET("/venue/:id", s.handleVenueView)

	api := e.Group("/api/v1")
	api.GET("/events/:id", s.handleAPIEvent)
	api.GET("/events/:id/tickets", s.handleAPITickets)
	api.GET("/events/:id/stream", s.handleAPIStream)
	api.GET("/events/:id/queue", s.handleAPIQueue)
	api.POST("/events/:id/queue", s.handleAPIQueueJoin, bookingLimit)
	api.GET("/search", s.handleAPISearch, searchLimit)
	api.POST("/users", s.handleAPISignup, signupLimit)
	api.POST("/sessions", s.handleAPILogin, signupLimit)
	api.DELETE("/sessions", s.handleAPILogout)
	api.POST("/bookings", s.handleAPIBookingCreate, addressLimit, bookingLimit, s.timeHolds)
	api.GET("/bookings", s.handleAPIBookings)
	api.GET("/bookings/:id", s.handleAPIBooking, lookLimit)
	api.POST("/bookings/:id/pay", s.handleAPIBookingPay, bookingLimit)
	api.DELETE("/bookings/:id", s.handleAPIBookingCancel, bookingLimit)

	e.GET("/docs/seatmap.schema.json", handleSeatMapDocs(venue.Schema))
	e.GET("/docs/seatmap-example.json", handleSeatMapDocs(venue.Example))
	// The door: its staff, the organiser and admins (checked per event).
	e.GET("/manage/events/:id/checkin", s.handleDoor)
	e.POST("/manage/events/:id/checkin", s.handleDoorScan)
	api.POST("/manage/checkins", s.handleAPICheckin)
	api.POST("/manage/checkins/sync", s.handleAPISync)
	api.GET("/manage/events/:id/gate", s.handleGateData)
	e.GET("/manage/events/:id/gate", s.handleGateData)
	e.POST("/manage/events/:id/checkin/sync", s.handleDoorSync)
	// The box office: organisers and admins only.
	manage := e.Group("/manage", s.requireManager)
	manage.GET("", s.handleManageHome)
	manage.GET("/venues/new", s.handleVenueNew)
	manage.POST("/venues", s.handleVenueCreate)
	manage.POST("/venues/design", s.handleDesign)
	manage.GET("/venues/:id", s.handleManageVenue)
	manage.GET("/venues/:id/seatmap.json", s.handleSeatMapDownload)
	manage.GET("/events/new", s.handleEventNew)
	manage.POST("/events", s.handleEventCreate)
	manage.GET("/events/:id", s.handleManagedEvent)
	manage.GET("/events/:id/edit", s.handleEventEdit)
	manage.POST("/events/:id", s.handleEventUpdate)
	manage.POST("/events/:id/publish", s.handleEventPublish)
	manage.GET("/events/:id/sales", s.handleSalesPanel)
	manage.GET("/events/:id/attendees.csv", s.handleAttendees)
	manage.POST("/events/:id/cancel", s.handleEventCancel)
	manage.POST("/bookings/:id/refund", s.handleRefund)
	manage.POST("/events/:id/staff", s.handleGrantStaff)
	manage.POST("/events/:id/staff/remove", s.handleRevokeStaff)
	manage.GET("/users", s.handleUsers, s.requireAdmin)
	manage.POST("/users", s.handleSetRole, s.requireAdmin)
	manageAPI := api.Group("/manage", s.requireManager)
	manageAPI.POST("/venues", s.handleAPIVenueCreate)
	manageAPI.GET("/venues", s.handleAPIVenues)
	manageAPI.GET("/venues/:id/seatmap", s.handleAPISeatMap)
	manageAPI.POST("/events", s.handleAPIEventCreate)
	manageAPI.GET("/events", s.handleAPIManagedEvents)
	manageAPI.GET("/events/:id", s.handleAPIManagedEvent)
	manageAPI.PUT("/events/:id", s.handleAPIEventUpdate)
	manageAPI.POST("/events/:id/publish", s.handleAPIEventPublish)
	manageAPI.GET("/events/:id/sales", s.handleAPISales)
	manageAPI.POST("/events/:id/cancel", s.handleAPIEventCancel)
	manageAPI.GET("/events/:id/bookings", s.handleAPIEventBookings)
	manageAPI.POST("/bookings/:id/refund", s.handleAPIRefund)
	manageAPI.POST("/events/:id/staff", s.handleAPIGrantStaff)
	manageAPI.DELETE("/events/:id/staff", s.handleAPIRevokeStaff)
	manageAPI.PUT("/users/role", s.handleAPISetRole, s.requireAdmin)

	e.GET("/robots.txt", s.handleRobots)
	e.GET("/sitemap.xml", s.handleSitemap, searchLimit)
	e.GET("/sitemap/:file", s.handleSitemapPart, searchLimit)

	e.GET("/healthz", s.handleHealth)
	e.GET("/readyz", s.handleReady)
	e.GET("/static/*", s.handleStatic)
	e.GET("/favicon.ico", s.handleFavicon)
}

// MetricsHandler serves /metrics for Prometheus. It is not on the site's
// own routes: main serves it on an address of its own
// (BOXOFFICE_METRICS_ADDR), inside the operator's network.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.handler())
	return mux
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// compressed wraps h to compress answers of 1 kB and more (gzip, or zstd
// where the client takes it) at the fastest level, with klauspost's
// encoders: compressing was a third of the CPU of browsing, and these do
// the same work in about half the time of the standard library's. Streams
// are not compressed: each message must go out as it is written.
func compressed(h http.Handler) http.Handler {
	wrap, err := gzhttp.NewWrapper(
		gzhttp.MinSize(1024),
		gzhttp.CompressionLevel(gzip.BestSpeed),
		gzhttp.ContentTypeFilter(func(ct string) bool {
			return !strings.HasPrefix(ct, "text/event-stream") && gzhttp.DefaultContentTypeFilter(ct)
		}),
	)
	if err != nil { // only for options out of range
		panic(err)
	}
	return wrap(h)
}

// HTTPServer wraps the handler with timeouts that keep slow clients from
// holding connections forever.
func (s *Server) HTTPServer(addr string) *http.Server {
	hs := &http.Server{
		Addr:              addr,
		Handler:           s.drain.closing(s),
		ConnState:         s.drain.track,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(s.closeStreams)
	return hs
}

// isStream reports whether c is a Server-Sent Events stream, which does
// not time out.
func isStream(c echo.Context) bool { return c.Path() == streamPath }

const requestIDKey = "request_id"

func requestID(c echo.Context) string {
	id, _ := c.Get(requestIDKey).(string)
	return id
}

func (s *Server) logRequests() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus:    true,
		LogURI:       true,
		LogMethod:    true,
		LogLatency:   true,
		LogRemoteIP:  true,
		LogRequestID: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			s.metrics.countRequest(v.Status)
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			s.log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("request_id", v.RequestID),
				slog.String("method", v.Method),
				slog.String("uri", v.URI),
				slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency),
				slog.String("remote_ip", v.RemoteIP),
			)
			return nil
		},
	})
}

func (s *Server) logPanic(c echo.Context, err error, stack []byte) error {
	s.log.Error("panic", "request_id", requestID(c), "err", err, "stack", string(stack))
	return err
}

// contentPolicy is the Content-Security-Policy of every page: our own
// scripts, styles, images and forms only, plus Stripe's script, frames and
// API when checkout uses its Payment Element. Inline style attributes are
// allowed (seats are placed with them); inline scripts are not.
func contentPolicy(stripe bool) string {
	script, frame, connect := "'self'", "'none'", "'self'"
	if stripe {
		script += " https://js.stripe.com"
		frame = "https://js.stripe.com https://hooks.stripe.com"
		connect += " https://api.stripe.com"
	}
	return "default-src 'self'; script-src " + script + "; style-src 'self'; style-src-attr 'unsafe-inline'; " +
		"img-src 'self' data:; font-src 'self'; connect-src " + connect + "; frame-src " + frame + "; " +
		"frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
}

// RequestTimeout is the longest any request may work: its database calls
// and calls to the payment processor give up then, and the fan gets a 503
// rather than a page that never comes. (Booking transactions have shorter
// limits of their own.)
const RequestTimeout = 20 * time.Second

func deadline(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if isStream(c) { // lasts as long as the client stays
				return next(c)
			}
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// securityHeaders sets the headers every response carries.
func securityHeaders(policy string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", policy)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
			h.Set("X-Frame-Options", "DENY")
			return next(c)
		}
	}
}
