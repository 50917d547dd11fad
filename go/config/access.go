package config

import (
	"fmt"
	"strings"
)

// Environment variables that supply the access keys when the configuration
// leaves them empty, so a key need not appear on a command line (where
// `ps` shows it to every user of the machine). They are read in Parse, the
// one place both the binary's flags and Python's keywords pass through.
const (
	EnvAdminAPIKey   = "SGLANG_ROUTER_ADMIN_API_KEY"
	EnvClientAPIKeys = "SGLANG_ROUTER_CLIENT_API_KEYS" // comma-separated
)

// keysFromEnv fills empty access keys from the environment.
func (c *Config) keysFromEnv(getenv func(string) string) {
	if c.AdminAPIKey == "" {
		c.AdminAPIKey = getenv(EnvAdminAPIKey)
	}
	if len(c.ClientAPIKeys) == 0 {
		for _, k := range strings.Split(getenv(EnvClientAPIKeys), ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.ClientAPIKeys = append(c.ClientAPIKeys, k)
			}
		}
	}
}

// validateAccess checks the keys without ever quoting one: error messages
// end up in logs and tracebacks.
func (c *Config) validateAccess() []error {
	var errs []error
	if c.AdminAPIKey != "" {
		if err := checkKey(c.AdminAPIKey); err != nil {
			errs = append(errs, fmt.Errorf("admin_api_key: %w", err))
		}
	}
	for i, k := range c.ClientAPIKeys {
		if err := checkKey(k); err != nil {
			errs = append(errs, fmt.Errorf("client_api_keys: entry %d: %w", i+1, err))
		}
		if k != "" && k == c.AdminAPIKey {
			errs = append(errs, fmt.Errorf("client_api_keys: entry %d equals admin_api_key; a client key must not open the admin routes", i+1))
		}
	}
	return errs
}

// checkKey accepts what a client can send as "Authorization: Bearer KEY":
// visible ASCII characters, no spaces.
func checkKey(k string) error {
	if k == "" {
		return fmt.Errorf("is empty")
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return fmt.Errorf("character %d is not visible ASCII (keys are sent as Authorization: Bearer KEY)", i+1)
		}
	}
	return nil
}
