package policy

import (
	"errors"
	"fmt"
	"time"

	"github.com/sgl-project/sglang-router-go/go/config"
)

// Policy names. The first four are the user-facing ones (config.Policies);
// NameCacheAwareOriginal reproduces the original router's cache-aware rule
// for side-by-side benchmarks and is not offered to users.
const (
	NameRandom             = "random"
	NameRoundRobin         = "round_robin"
	NamePowerOfTwo         = "power_of_two"
	NameCacheAware         = "cache_aware"
	NameCacheAwareOriginal = "cache_aware_original"
	// NameLeastLoad is internal: the decode side of PD under cache_aware.
	NameLeastLoad = "least_load"
)

// ErrUnknown classifies New's error for a name it does not know.
var ErrUnknown = errors.New("unknown policy")

// Options configures New. Thresholds are taken as given (zero is a valid
// threshold); see DefaultOptions for the router's defaults.
type Options struct {
	CacheThreshold      float64 // cache_aware: match rate above which a match wins
	BalanceAbsThreshold int     // cache_aware: imbalanced when max-min exceeds this...
	BalanceRelThreshold float64 // ...and max exceeds min times this
	MaxTreeSize         int     // cache_aware: characters kept per worker; <= 0 means 2^24
	EvictionInterval    time.Duration
	// MaxTreeMemory is the cache_aware tree's memory budget in bytes (see
	// radix.Tree.SetMemoryLimit); <= 0 means no budget.
	MaxTreeMemory int64
	// Rand returns a uniform integer in [0, n); it must be safe for
	// concurrent use. nil means math/rand/v2.IntN.
	Rand func(n int) int
	// Clock stamps the prefix tree for LRU eviction; nil means time.Now.
	Clock    func() time.Time
	Observer Observer // may be nil
	// RotateCycles makes round_robin rotate each cycle (see RoundRobin);
	// the router sets it on the decode pool in PD mode.
	RotateCycles bool
}

// DefaultOptions returns the router's defaults: those of config.Defaults().
func DefaultOptions() Options { return ConfigOptions(config.Defaults()) }

// ConfigOptions returns the cache-aware settings of c (randomness, clock,
// observer and rotation left unset).
func ConfigOptions(c config.Config) Options {
	return Options{
		CacheThreshold:      c.CacheThreshold,
		BalanceAbsThreshold: c.BalanceAbsThreshold,
		BalanceRelThreshold: c.BalanceRelThreshold,
		MaxTreeSize:         c.MaxTreeSize,
		MaxTreeMemory:       int64(c.MaxTreeMemoryMB) << 20,
		EvictionInterval:    time.Duration(c.EvictionIntervalSecs) * time.Second,
	}
}

// New returns the policy called name.
func New(name string, opts Options) (Policy, error) {
	switch name {
	case NameRandom:
		return NewRandom(opts.Rand), nil
	case NameRoundRobin:
		return NewRoundRobin(opts.RotateCycles), nil
	case NamePowerOfTwo:
		return NewPowerOfTwo(opts.Rand), nil
	case NameCacheAware:
		return NewCacheAware(opts), nil
	case NameCacheAwareOriginal:
		return NewCacheAwareOriginal(opts), nil
	case NameLeastLoad:
		return NewLeastLoad(), nil
	}
	return nil, fmt.Errorf("%w %q (choose from %s, %s, %s, %s)", ErrUnknown, name,
		NameRandom, NameRoundRobin, NameCacheAware, NamePowerOfTwo)
}

// The interfaces each policy satisfies.
var (
	_ Policy         = (*Random)(nil)
	_ Policy         = (*RoundRobin)(nil)
	_ Policy         = (*LeastLoad)(nil)
	_ Policy         = (*PowerOfTwo)(nil)
	_ Policy         = (*CacheAware)(nil)
	_ Policy         = (*CacheAwareOriginal)(nil)
	_ Background     = (*CacheAware)(nil)
	_ WorkerRemover  = (*CacheAware)(nil)
	_ TreeSizer      = (*CacheAware)(nil)
	_ Decider        = (*CacheAware)(nil)
	_ AnswerRecorder = (*CacheAware)(nil)
	_ Soloist        = (*CacheAware)(nil)
	_ Background     = (*CacheAwareOriginal)(nil)
	_ WorkerRemover  = (*CacheAwareOriginal)(nil)
	_ TreeSizer      = (*CacheAwareOriginal)(nil)
)

// nopObserver stands in for a nil Observer.
type nopObserver struct{}

func (nopObserver) CacheHit(string)  {}
func (nopObserver) CacheMiss(string) {}
func (nopObserver) LoadImbalanced()  {}
