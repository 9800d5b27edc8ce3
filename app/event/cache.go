package event

import (
	"sync"
	"time"
)

// cache keeps values for a short time, up to a number of entries. It is
// for data that changes rarely and may be briefly stale; when full it
// forgets an arbitrary entry, which is as good as any policy at this size.
type cache[K comparable, V any] struct {
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

func newCache[K comparable, V any](ttl time.Duration, max int, now func() time.Time) *cache[K, V] {
	return &cache[K, V]{ttl: ttl, max: max, now: now, entries: make(map[K]cacheEntry[V])}
}

func (c *cache[K, V]) get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || c.now().After(e.expires) {
		var zero V
		return zero, false
	}
	return e.value, true
}

func (c *cache[K, V]) put(k K, v V) {
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
