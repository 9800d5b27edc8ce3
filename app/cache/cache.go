// Package cache keeps values in memory for a short time: for data that
// changes rarely and may be briefly stale (event details, search facets).
package cache

import (
	"sync"
	"time"
)

// Cache keeps values for a while, up to a number of entries; when full it
// forgets an arbitrary entry, which is as good as any policy at this size.
// It is safe for concurrent use.
type Cache[K comparable, V any] struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int
	now     func() time.Time
	entries map[K]cacheEntry[V]
}

type cacheEntry[V any] struct {
	value   V
	expires time.Time
}

// New returns a cache whose entries live for ttl, holding at most max of
// them; now is the clock.
func New[K comparable, V any](ttl time.Duration, max int, now func() time.Time) *Cache[K, V] {
	return &Cache[K, V]{ttl: ttl, max: max, now: now, entries: make(map[K]cacheEntry[V])}
}

// Get returns the value for k unless it is missing or expired.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || c.ttl <= 0 || c.now().After(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Put stores v for k.
func (c *Cache[K, V]) Put(k K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for old := range c.entries {
			delete(c.entries, old)
			break
		}
	}
	c.entries[k] = cacheEntry[V]{value: v, expires: c.now().Add(c.ttl)}
}

// Delete forgets k.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, k)
}
