package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// handleHealth says the process is up; it touches nothing else, so that a
// database outage does not get healthy processes restarted.
func (s *Server) handleHealth(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// handleReady says whether this instance should get traffic: the database
// answers and its schema is current.
func (s *Server) handleReady(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if s.drain.going.Load() {
		c.Response().Header().Set("Retry-After", "5")
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "shutting down"})
	}
	if err := s.ready(ctx); err != nil {
		s.log.Warn("not ready", "err", err)
		c.Response().Header().Set("Retry-After", "5")
		// What went wrong is for the operator's log, not for whoever asks.
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "database unavailable"})
	}
	return c.JSON(http.StatusOK, s.readiness())
}

// readiness is /readyz's answer: ready, and where this instance's reads
// go. It names no host: which replica, and its lag, are on /metrics.
func (s *Server) readiness() map[string]any {
	out := map[string]any{"status": "ready", "reads": "primary"}
	if s.replicas == nil {
		return out
	}
	states := s.replicas()
	var lags []float64
	inUse := 0
	for _, r := range states {
		lag := -1.0 // not answering
		if r.Err == nil {
			lag = r.Lag.Seconds()
		}
		lags = append(lags, lag)
		if r.InUse {
			inUse++
		}
	}
	out["replica_lag_seconds"] = lags
	if inUse > 0 {
		out["reads"] = fmt.Sprintf("%d of %d replicas", inUse, len(states))
	}
	return out
}
