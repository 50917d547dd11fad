package sim

import (
	"container/list"
	"sync"
)

// prefixCache models an engine's KV prefix cache (SGLang's radix cache,
// vLLM's block hashes) at block granularity. A token sequence is cut into
// whole blocks of blockSize tokens; a block's key hashes every token from
// the start of the sequence to the block's end, so equal keys mean equal
// prefixes. Partial trailing blocks are never cached.
//
// Eviction is LRU over blocks. Every use touches a sequence's blocks from
// the deepest to the first, so an ancestor is always at least as recent as
// its descendants and eviction removes leaves first, as a radix tree's
// does. Safe for concurrent use; mu guards blocks and lru.
type prefixCache struct {
	blockSize int
	maxBlocks int // 0: caching disabled

	mu     sync.Mutex
	blocks map[uint64]*list.Element // key -> element in lru (Value: uint64 key)
	lru    *list.List               // front = most recently used
	held   int                      // blocks running requests occupy (hold)
}

// newPrefixCache returns a cache of capacityTokens (rounded down to whole
// blocks); capacity <= 0 disables caching.
func newPrefixCache(capacityTokens, blockSize int) *prefixCache {
	return &prefixCache{
		blockSize: blockSize,
		maxBlocks: max(capacityTokens, 0) / blockSize,
		blocks:    make(map[uint64]*list.Element),
		lru:       list.New(),
	}
}

// blockKeys returns the chained keys of the whole blocks of ids.
func (c *prefixCache) blockKeys(ids []int) []uint64 {
	keys := make([]uint64, len(ids)/c.blockSize)
	h := uint64(0x243f6a8885a308d3)
	for b := range keys {
		for _, id := range ids[b*c.blockSize : (b+1)*c.blockSize] {
			h = mix64(h ^ uint64(id))
		}
		keys[b] = h
	}
	return keys
}

// admit returns how many leading tokens of prompt the cache holds, in
// whole blocks, then inserts the prompt's blocks. At least one prompt
// token is always left to compute, as engines must run the last token to
// produce the first output, so a fully cached prompt whose length is a
// multiple of the block size reports one block less.
func (c *prefixCache) admit(prompt []int) (cached int) {
	if c.maxBlocks == 0 || len(prompt) == 0 {
		return 0
	}
	keys := c.blockKeys(prompt)
	limit := (len(prompt) - 1) / c.blockSize
	c.mu.Lock()
	defer c.mu.Unlock()
	hits := 0
	for hits < limit {
		if _, ok := c.blocks[keys[hits]]; !ok {
			break
		}
		hits++
	}
	c.touchLocked(keys)
	return hits * c.blockSize
}

// insert records a finished sequence (prompt and output) so that a later
// request extending it, such as the next turn of a chat, hits.
func (c *prefixCache) insert(ids []int) {
	if c.maxBlocks == 0 || len(ids) < c.blockSize {
		return
	}
	keys := c.blockKeys(ids)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.touchLocked(keys)
}

// touchLocked marks keys used (inserting missing ones), deepest first, and
// evicts least recently used blocks beyond capacity.
func (c *prefixCache) touchLocked(keys []uint64) {
	for i := len(keys) - 1; i >= 0; i-- {
		if e, ok := c.blocks[keys[i]]; ok {
			c.lru.MoveToFront(e)
		} else {
			c.blocks[keys[i]] = c.lru.PushFront(keys[i])
		}
	}
	c.evictLocked()
}

// evictLocked drops least recently used blocks until the cache and the
// running requests' blocks fit the capacity together.
func (c *prefixCache) evictLocked() {
	for c.lru.Len() > 0 && c.lru.Len()+c.held > c.maxBlocks {
		e := c.lru.Back()
		c.lru.Remove(e)
		delete(c.blocks, e.Value.(uint64))
	}
}

// hold reserves room for a running request's own KV (tokens: its uncached
// prompt and its output), evicting cached blocks to make it, as SGLang's
// running requests and radix cache share one memory pool. It returns the
// blocks held, to give back with unhold when the request ends.
func (c *prefixCache) hold(tokens int) int {
	if c.maxBlocks == 0 || tokens <= 0 {
		return 0
	}
	n := (tokens + c.blockSize - 1) / c.blockSize
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held += n
	c.evictLocked()
	return n
}

// unhold gives back blocks from hold.
func (c *prefixCache) unhold(blocks int) {
	c.mu.Lock()
	c.held -= blocks
	c.mu.Unlock()
}

// flush empties the cache.
func (c *prefixCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.blocks)
	c.lru.Init()
}

// tokens is how many tokens the cache holds.
func (c *prefixCache) tokens() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len() * c.blockSize
}

// capacity is the cache size in tokens (whole blocks).
func (c *prefixCache) capacity() int { return c.maxBlocks * c.blockSize }
