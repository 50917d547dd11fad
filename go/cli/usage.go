package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/sgl-project/sglang-router-go/go/config"
)

// Subcommands are the command's subcommands with a one-line summary; the
// Python console script lists the same ones.
var Subcommands = [][2]string{
	{"launch [FLAGS]", "the router (the same as giving the flags alone)"},
	{"server [FLAGS]", "SGLang servers plus the router (Python package: python -m sglang_router.launch_server)"},
	{"sim [-workers N] [-role regular|prefill|decode] [-bootstrap-port P] [-time-scale X] [-config JSON]", "simulated SGLang servers until Ctrl-C"},
	{"demo [-workers N] [-policies a,b] [-out DIR]", "every policy on simulated workers: a table and out/demo.svg"},
	{"bench-routing [-workloads a,b] [-policies a,b] [-replicas 1,3,8] [-runs N] [-out DIR]", "routing quality of each policy against the oracle"},
	{"bench [-concurrency N] [-duration D] [-only small,stream,...] [-baseline BIN]", "the router's own overhead, routed vs direct (and against another build)"},
}

// Examples are shown at the end of --help (binary and Python alike).
const Examples = `examples:
  # two workers, cache-aware routing, on every interface
  sglang-router --worker-urls http://worker1:8000 http://worker2:8000 --host 0.0.0.0 --port 30000

  # prefill/decode disaggregation (bootstrap port optional, 'none' allowed)
  sglang-router --pd-disaggregation --prefill http://prefill1:8000 8998 --prefill http://prefill2:8000 none \
      --decode http://decode1:8000 --decode http://decode2:8000

  # Kubernetes pods labelled app=sglang-worker, in namespace prod
  sglang-router --service-discovery --selector app=sglang-worker --service-discovery-namespace prod

  # try it without GPUs: simulated workers in one terminal, the router in another
  sglang-router sim -workers 2
  sglang-router --worker-urls http://127.0.0.1:PORT1 http://127.0.0.1:PORT2`

// Usage writes the command's help: subcommands, then every flag by group
// with its help and its one default, then examples.
func Usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sglang-router [FLAGS]            the router (the flags of python -m sglang_router.launch_router)")
	fmt.Fprintln(w, "       sglang-router SUBCOMMAND [ARGS]")
	fmt.Fprintln(w, "\nsubcommands:")
	for _, s := range Subcommands {
		fmt.Fprintf(w, "  %s\n      %s\n", s[0], s[1])
	}
	fmt.Fprintln(w, "  --print-config [FLAGS]   the effective configuration as JSON;  --print-spec   the flag table as JSON")
	defaults := config.NewSpec().CLIDefaults
	group := ""
	for _, f := range config.Flags() {
		if f.Group != group {
			group = f.Group
			fmt.Fprintf(w, "\n%s:\n", group)
		}
		fmt.Fprintf(w, "  %s\n      %s%s\n", flagSynopsis(f), f.Help, DefaultNote(f, defaults[f.Key]))
	}
	fmt.Fprintf(w, "\n%s\n", Examples)
}

func flagSynopsis(f config.Flag) string {
	names := strings.Join(f.Names, ", ")
	switch f.Kind {
	case config.KindBool:
		return names
	case config.KindList:
		return names + " [" + metavarOf(f) + " ...]"
	case config.KindSelector:
		return names + " " + metavarOf(f) + " [" + metavarOf(f) + " ...]"
	}
	return names + " " + metavarOf(f)
}

func metavarOf(f config.Flag) string {
	if f.Metavar != "" {
		return f.Metavar
	}
	if len(f.Choices) > 0 {
		return "{" + strings.Join(f.Choices, ",") + "}"
	}
	return strings.ToUpper(strings.TrimPrefix(f.Names[0], "--"))
}

// DefaultNote is " (default: V)" for a flag whose default says something:
// not for switches, empty values or unset optional settings.
func DefaultNote(f config.Flag, v any) string {
	if f.Kind == config.KindBool || v == nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		if x == "" {
			return ""
		}
	case float64:
		if x == 0 && f.Nullable {
			return ""
		}
	case []any:
		if len(x) == 0 {
			return ""
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return " (default: " + strings.Join(parts, " ") + ")"
	case map[string]any:
		if len(x) == 0 {
			return ""
		}
	}
	data, _ := json.Marshal(v)
	return " (default: " + strings.Trim(string(data), `"`) + ")"
}
