package policy

import "github.com/sgl-project/sglang-router-go/go/worker"

// Rendezvous (highest random weight) hashing places a key on the
// candidate whose hash of (key, worker URL) is highest. It is a pure
// function of the key and the candidate set, so router replicas that share
// nothing place the same key on the same worker, and a worker leaving or
// joining moves only the keys it wins or held (Thaler and Ravishankar,
// 1998).

// missKeyBytes is how much of the routing text keys a miss: the leading
// block that requests sharing a prefix (a system prompt, a conversation's
// first message) have in common. Short enough that a chat's first
// question fills it, so every turn of a conversation keys alike; long
// enough that unrelated prompts rarely share it. Prompts that share a
// longer common opening (one system prompt for every user) all key alike
// and are spread by the load bound alone.
const missKeyBytes = 64

// keyHash is the 64-bit FNV-1a hash of the leading block of text.
func keyHash(text string) uint64 {
	if len(text) > missKeyBytes {
		text = text[:missKeyBytes]
	}
	return fnv1a(text)
}

// fnv1a is the 64-bit FNV-1a hash of s.
func fnv1a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// mix is the splitmix64 finalizer: a bijection that spreads every input
// bit over the output, so the scores of one key on different workers are
// independent.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// score is the rendezvous weight of key on worker url.
func score(key uint64, url string) uint64 { return mix(key ^ fnv1a(url)) }

// rendezvous returns the candidate with the highest score for key among
// those ok accepts, or nil when it accepts none.
func rendezvous(cands []*worker.Worker, key uint64, ok func(*worker.Worker) bool) *worker.Worker {
	var best *worker.Worker
	var bestScore uint64
	for _, w := range cands {
		if !ok(w) {
			continue
		}
		if s := score(key, w.URL()); best == nil || s > bestScore {
			best, bestScore = w, s
		}
	}
	return best
}
