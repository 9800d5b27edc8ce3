package web

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/app"
	"github.com/boxoffice/boxoffice/app/account"
	"github.com/boxoffice/boxoffice/app/booking"
	"github.com/boxoffice/boxoffice/app/event"
	"github.com/boxoffice/boxoffice/app/live"
	"github.com/boxoffice/boxoffice/app/mail"
	"github.com/boxoffice/boxoffice/app/ops"
	"github.com/boxoffice/boxoffice/app/organiser"
	"github.com/boxoffice/boxoffice/app/payment"
	"github.com/boxoffice/boxoffice/app/queue"
	"github.com/boxoffice/boxoffice/app/search"
	"github.com/boxoffice/boxoffice/app/ticket"
	"github.com/boxoffice/boxoffice/app/venue"
	"github.com/boxoffice/boxoffice/db"
)

// SiteConfig is what the site is built from besides its database: main
// reads it from flags and the environment; tests change what they test.
type SiteConfig struct {
	Log *slog.Logger
	Now func() time.Time // nil: time.Now

	// SMTP is where e-mail goes (BOXOFFICE_SMTP_URL); nil writes it to
	// the log. BaseURL is the site's address for links in mail (default
	// http://localhost:8080).
	SMTP    *mail.SMTP
	BaseURL string

	// SigningKey is the base64 seed of the Ed25519 key that signs ticket
	// codes (BOXOFFICE_SIGNING_KEY); empty: the one kept in the database.
	SigningKey string

	HoldTTL      time.Duration // 0: 10 minutes
	MaxTickets   int           // 0: 8
	SeatMapLimit int           // 0: 2,500

	BookingRate, SearchRate, SignupRate Rate
	TrustProxy                          bool
	// MaxStreams and StreamsPerAddress cap live seat-map streams (0: 10,000
	// and 20).
	MaxStreams, StreamsPerAddress int
	// Queue tunes the waiting room of queued on-sales.
	Queue queue.Config

	// Stripe's keys; with no secret key payments go through the demo
	// processor. A live secret key (sk_live_) makes checkout show no test
	// cards.
	StripeSecretKey, StripePublishableKey, StripeWebhookSecret string
	// StripeAPIURL replaces Stripe's address (a fake Stripe in tests).
	StripeAPIURL string
	// Payments replaces the processor the keys choose (tests).
	Payments booking.Payments

	// Session, when set, is a pool of whole sessions (DATABASE_SESSION_URL)
	// for what lives as long as a session: the change feed's LISTEN and
	// the waiting room admitter's lock. Nil: pool.
	Session *pgxpool.Pool

	// Reads, when set, sends catalogue reads (event pages, search) to a
	// read replica within its lag (DATABASE_READ_URL).
	Reads *db.Reads

	// Ops, when set, puts the operator's facts (backups, WAL archive,
	// certificates, schema) on /metrics; its Pool is filled in.
	Ops *ops.Sources
}

// Site is Boxoffice wired together on one database: the services, the
// HTTP server in front of them, and the background work (the expiry
// sweeper and the invariant monitor). main and the tests build it the
// same way.
type Site struct {
	*Server
	Bookings *booking.Service
	Monitor  *booking.Monitor
	Feed     *live.Feed
	Queue    *queue.Service
	Mail     *mail.Sender
	migrator *db.Migrator
}

// NewSite wires the services on pool into a server.
func NewSite(pool *pgxpool.Pool, cfg SiteConfig) (*Site, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.HoldTTL == 0 {
		cfg.HoldTTL = 10 * time.Minute
	}
	if cfg.MaxTickets == 0 {
		cfg.MaxTickets = 8
	}
	migrator, err := db.NewMigrator(pool, nil)
	if err != nil {
		return nil, err
	}
	var processor booking.Payments = payment.NewDemo()
	var webhooks WebhookVerifier
	if cfg.StripeSecretKey != "" {
		stripe := payment.NewStripe(payment.StripeConfig{SecretKey: cfg.StripeSecretKey, WebhookSecret: cfg.StripeWebhookSecret, APIURL: cfg.StripeAPIURL})
		processor, webhooks = stripe, stripe
	}
	if cfg.Payments != nil {
		processor = cfg.Payments
	}
	keys, err := ticket.Load(context.Background(), pool, cfg.SigningKey)
	if err != nil {
		return nil, err
	}
	liveCfg := live.Config{Session: cfg.Session}
	if cfg.Reads != nil {
		liveCfg.Reads = cfg.Reads.Pool
	}
	feed := live.New(pool, liveCfg, cfg.Now, cfg.Log)
	events := event.NewService(pool, feed, cfg.Now)
	searches := search.NewService(pool, events, cfg.Now).WithLog(cfg.Log)
	var replicas func() []db.ReplicaState
	if cfg.Reads != nil {
		events.ReadingFrom(cfg.Reads.Pool)
		searches.ReadingFrom(cfg.Reads.Pool)
		replicas = cfg.Reads.Replicas
	}
	bookings := booking.NewService(pool, processor, booking.Config{HoldTTL: cfg.HoldTTL, MaxTickets: cfg.MaxTickets,
		Committed: feed.Sync, Inventory: inventory{events}}, cfg.Now, cfg.Log)
	monitor := booking.NewMonitor(pool, cfg.Now, cfg.Log)
	room := queue.New(pool, cfg.Queue, cfg.Now, cfg.Log)
	if cfg.Session != nil {
		room.WithSession(cfg.Session)
	}
	srv := newServer(config{
		Queue:                room,
		Venues:               venue.NewService(pool, cfg.Now),
		Organ:                organiser.NewService(pool, cfg.Now),
		Tickets:              keys,
		Door:                 ticket.NewDoor(pool, keys, cfg.Now),
		BaseURL:              cmp.Or(cfg.BaseURL, "http://localhost:8080"),
		PublicURL:            cfg.BaseURL,
		Log:                  cfg.Log,
		Events:               events,
		Search:               searches,
		Replicas:             replicas,
		Accounts:             account.NewService(pool, cfg.Now),
		Bookings:             bookings,
		Webhooks:             webhooks,
		StripePublishableKey: cfg.StripePublishableKey,
		LivePayments:         strings.HasPrefix(cfg.StripeSecretKey, "sk_live_"),
		Now:                  cfg.Now,
		SeatMapLimit:         cfg.SeatMapLimit,
		BookingRate:          cfg.BookingRate,
		SearchRate:           cfg.SearchRate,
		SignupRate:           cfg.SignupRate,
		TrustProxy:           cfg.TrustProxy,
		MaxStreams:           cfg.MaxStreams,
		StreamsPerAddress:    cfg.StreamsPerAddress,
		Monitor:              monitor,
		PoolStats:            pool.Stat,
		Ops:                  opsSources(cfg.Ops, pool),
		Ready: func(ctx context.Context) error {
			if err := pool.Ping(ctx); err != nil {
				return fmt.Errorf("database unreachable: %w", err)
			}
			if pending, err := migrator.Pending(ctx); err != nil || pending {
				return fmt.Errorf("schema not current (pending migrations: %v, %v)", pending, err)
			}
			return nil
		},
	})
	sender := mail.NewSender(pool, cfg.SMTP, cfg.Now, cfg.Log)
	sender.Render = srv.renderMail
	return &Site{Server: srv, Bookings: bookings, Monitor: monitor, Feed: feed, Queue: room, Mail: sender, migrator: migrator}, nil
}

// Start runs the change feed's listener, the expiry sweeper (every sweep),
// the invariant monitor (every check), the waiting room's admitter (in
// one process of those on the database) and the mail sender until stop
// is called; stop waits for them.
func (s *Site) Start(sweep, check time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	workers.Go(func() { s.Feed.Run(ctx) })
	workers.Go(func() { s.Bookings.RunSweeper(ctx, sweep) })
	workers.Go(func() { s.Monitor.Run(ctx, check) })
	workers.Go(func() { s.Queue.Run(ctx) })
	workers.Go(func() { s.Mail.Run(ctx) })
	return func() { cancel(); workers.Wait() }
}

// Close lets go of what NewSite opened (not the pool, which is the
// caller's).
func (s *Site) Close() error { return s.migrator.Close() }

// inventory lets best available read seats from the live model.
type inventory struct{ events *event.Service }

// Places lists event id's seats (of section, or all when 0) and the centre
// of its stage; a venue without one faces the top of its map.
func (in inventory) Places(ctx context.Context, id, section int64) ([]booking.Place, [2]float64, error) {
	e, err := in.events.FindEventByID(ctx, id)
	if err != nil {
		return nil, [2]float64{}, err
	}
	if section != 0 && e.Section(section) == nil {
		return nil, [2]float64{}, app.Errorf(app.EINVALID, "Section %d is not a section of event %d.", section, id)
	}
	seats, err := in.events.Seats(ctx, id, section)
	if err != nil {
		return nil, [2]float64{}, err
	}
	front := [2]float64{float64(e.Venue.MapWidth) / 2, 0}
	if n := len(e.Venue.Stage); n > 0 {
		front = [2]float64{}
		for _, p := range e.Venue.Stage {
			front[0] += p.X / float64(n)
			front[1] += p.Y / float64(n)
		}
	}
	places := make([]booking.Place, len(seats))
	for i, s := range seats {
		places[i] = booking.Place{TicketID: s.TicketID, SectionID: s.SectionID, Row: s.Row, Number: s.Number,
			X: s.X, Y: s.Y, Price: s.Price, Free: s.Status == event.StatusAvailable}
	}
	return places, front, nil
}

func opsSources(s *ops.Sources, pool *pgxpool.Pool) *ops.Sources {
	if s == nil {
		return nil
	}
	c := *s
	c.Pool = pool
	return &c
}
