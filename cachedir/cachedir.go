// Package cachedir is the one place that decides where gpuplan keeps data
// it downloads (refreshed prices, Hugging Face headers and configs):
// $GPUPLAN_CACHE_DIR if set, else os.UserCacheDir()/gpuplan. Each user of
// the cache takes a subdirectory of it (hfhub: hf/).
package cachedir

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Env is the environment variable that overrides the directory.
const Env = "GPUPLAN_CACHE_DIR"

// Dir returns the cache directory. getenv is injected so that tests and
// the API server control the environment; nil means no override.
func Dir(getenv func(string) string) (string, error) {
	if getenv != nil {
		if d := strings.TrimSpace(getenv(Env)); d != "" {
			return d, nil
		}
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no user cache directory (%w); set %s", err, Env)
	}
	return filepath.Join(d, "gpuplan"), nil
}
