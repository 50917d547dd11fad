package router

import (
	"os"
	"strings"
	"testing"
)

// routesTable renders the README's list of forwarded routes from the
// route table.
func routesTable() string {
	var b strings.Builder
	b.WriteString("| path | method | routing | what it is |\n|---|---|---|---|\n")
	for _, s := range ForwardedRoutes() {
		b.WriteString("| `" + s.Path + "` | " + s.Method + " | " + s.Kind.String() + " | " + s.About + " |\n")
	}
	return b.String()
}

// TestREADMEListsEveryForwardedRoute keeps the README's route list the
// route table's: a route added to one must be added to the other.
func TestREADMEListsEveryForwardedRoute(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- routes:begin -->\n", "<!-- routes:end -->"
	_, rest, ok := strings.Cut(string(data), begin)
	got, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("README.md has no %q ... %q block", begin, end)
	}
	if want := routesTable(); got != want {
		t.Errorf("README's route list differs from the route table; put this between the markers:\n%s", want)
	}
}
