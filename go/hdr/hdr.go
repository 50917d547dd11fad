// Package hdr holds the header-name helpers the router's HTTP/1.1 server
// (go/h1) and its upstream client (go/upstream) share: both parse header
// lines themselves and canonicalize names without net/http's allocations.
package hdr

// AppendCanonical appends name in canonical form (as
// net/textproto.CanonicalMIMEHeaderKey for valid names): the first letter
// and every letter after a hyphen upper case, the other letters lower case.
func AppendCanonical[T ~string | ~[]byte](b []byte, name T) []byte {
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case !upper && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		b = append(b, c)
		upper = c == '-'
	}
	return b
}

// Interned maps each of names to itself, so that a parser can look a
// canonical name up by its bytes (m[string(b)] does not allocate) and keep
// the one shared string instead of allocating a new one per request.
func Interned(names ...string) map[string]string {
	m := make(map[string]string, len(names))
	for _, k := range names {
		m[k] = k
	}
	return m
}
