package config

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// ParseArgs reads command-line arguments (the flags of
// `python -m sglang_router.launch_router`) over CLIDefaults, fills empty
// access keys from the environment as Parse does, and validates the result. --flag=value and --flag value are both accepted; list flags
// take values up to the next --flag.
func ParseArgs(args []string) (Config, error) {
	values, err := argValues(args)
	if err != nil {
		return Config{}, err
	}
	data, _ := json.Marshal(values)
	c, err := decodeOver(CLIDefaults(), data)
	if err != nil {
		return c, err
	}
	return c.finish()
}

// argValues turns arguments into the JSON-shaped values they set.
func argValues(args []string) (map[string]any, error) {
	byName := map[string]*Flag{}
	for i := range flagTable {
		for _, n := range flagTable[i].Names {
			byName[n] = &flagTable[i]
		}
	}
	values := map[string]any{}
	for i := 0; i < len(args); {
		name, inline, hasInline := strings.Cut(args[i], "=")
		f, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("unrecognized argument: %s", args[i])
		}
		i++
		var vals []string
		if hasInline {
			vals = []string{inline}
		} else {
			for i < len(args) && !strings.HasPrefix(args[i], "--") && (len(vals) == 0 || f.takesMany()) && f.Kind != KindBool {
				vals = append(vals, args[i])
				i++
			}
		}
		if err := f.set(values, vals); err != nil {
			return nil, fmt.Errorf("argument %s: %w", f.Names[0], err)
		}
	}
	return values, nil
}

func (f *Flag) takesMany() bool {
	return f.Kind == KindList || f.Kind == KindSelector || f.Kind == KindPrefill
}

// set stores one occurrence of the flag into values.
func (f *Flag) set(values map[string]any, vals []string) error {
	if err := f.checkCount(len(vals)); err != nil {
		return err
	}
	if len(f.Choices) > 0 && !contains(f.Choices, vals[0]) {
		return fmt.Errorf("invalid choice: %q (choose from %s)", vals[0], strings.Join(f.Choices, ", "))
	}
	switch f.Kind {
	case KindBool:
		if f.Key == "" { // --verbose
			values["log_level"] = "debug"
		} else {
			values[f.Key] = true
		}
	case KindString:
		values[f.Key] = vals[0]
	case KindInt:
		n, err := strconv.ParseInt(vals[0], 10, 64)
		if err != nil {
			return fmt.Errorf("invalid int value: %q", vals[0])
		}
		values[f.Key] = n
	case KindFloat:
		x, err := strconv.ParseFloat(vals[0], 64)
		if err != nil {
			return fmt.Errorf("invalid float value: %q", vals[0])
		}
		values[f.Key] = x
	case KindList:
		values[f.Key] = vals
	case KindAppend:
		prev, _ := values[f.Key].([]string)
		values[f.Key] = append(prev, vals[0])
	case KindSelector:
		sel, err := ParseSelector(vals)
		if err != nil {
			return err
		}
		values[f.Key] = sel
	case KindPrefill:
		entry, err := parsePrefill(vals)
		if err != nil {
			return err
		}
		prev, _ := values[f.Key].([]any)
		values[f.Key] = append(prev, entry)
	}
	return nil
}

// checkCount checks how many values one occurrence got.
func (f *Flag) checkCount(n int) error {
	switch f.Kind {
	case KindBool:
		if n != 0 {
			return fmt.Errorf("ignored explicit argument")
		}
	case KindList:
	case KindSelector:
		if n == 0 {
			return fmt.Errorf("expected at least one KEY=VALUE")
		}
	case KindPrefill:
		if n < 1 || n > 2 {
			return fmt.Errorf("expected URL [BOOTSTRAP_PORT|none], got %d values", n)
		}
	default:
		if n != 1 {
			return fmt.Errorf("expected one argument")
		}
	}
	return nil
}

// ParseSelector reads key=value items, split at the first "="; an item
// without "=" or with an empty key is an error.
func ParseSelector(items []string) (map[string]string, error) {
	sel := map[string]string{}
	for _, item := range items {
		k, v, ok := strings.Cut(item, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("invalid selector %q: expected key=value", item)
		}
		sel[k] = v
	}
	return sel, nil
}

// parsePrefill reads URL [BOOTSTRAP_PORT|none] as the [url, port|null] pair.
func parsePrefill(vals []string) ([]any, error) {
	entry := []any{vals[0], nil}
	if len(vals) == 2 && !strings.EqualFold(vals[1], "none") {
		n, err := strconv.Atoi(vals[1])
		if err != nil {
			return nil, fmt.Errorf("Invalid bootstrap port: %s. Must be a number or 'none'", vals[1])
		}
		entry[1] = n
	}
	return entry, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
