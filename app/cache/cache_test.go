package cache_test

import (
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/app/cache"
)

func TestCacheExpiresAndStaysBounded(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	c := cache.New[string, int](30*time.Second, 2, func() time.Time { return now })
	c.Put("a", 1)
	if v, ok := c.Get("a"); !ok || v != 1 {
		t.Fatalf("Get(a) = %d, %v", v, ok)
	}
	now = now.Add(31 * time.Second)
	if _, ok := c.Get("a"); ok {
		t.Error("an expired entry is still returned")
	}
	c.Put("a", 1)
	c.Put("b", 2)
	c.Put("c", 3)
	n := 0
	for _, k := range []string{"a", "b", "c"} {
		if _, ok := c.Get(k); ok {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d entries kept, want the limit of 2", n)
	}
	if v, ok := c.Get("c"); !ok || v != 3 {
		t.Error("the newest entry was dropped")
	}
}
