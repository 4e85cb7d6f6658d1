package hardware

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gpuplan/gpuplan/atomicfile"
)

// priceCacheVersion is bumped when the cache layout changes; other versions
// are ignored (and replaced by the next refresh).
const priceCacheVersion = 1

// PriceCache is the on-disk result of `gpuplan prices refresh`.
type PriceCache struct {
	SchemaVersion int    `json:"schema_version"`
	Currency      string `json:"currency"`
	// APIURL is the endpoint the prices came from.
	APIURL     string `json:"api_url"`
	APIVersion string `json:"api_version"`
	// RefreshedAt is when the last refresh finished (RFC 3339).
	RefreshedAt time.Time `json:"refreshed_at"`
	Prices      []Price   `json:"prices"`
}

// PriceCachePath is the cache file for a currency (one NormalizeCurrency
// accepted). Anything that is not an ISO 4217 code is never joined into
// the path: it names a file no refresh writes.
func PriceCachePath(dir, currency string) string {
	c, err := NormalizeCurrency(currency)
	if err != nil || !isCurrencyCode(c) {
		c = "invalid"
	}
	return filepath.Join(dir, "prices-"+c+".json")
}

// maxCacheBytes bounds the cache file read back: a full refresh of every
// catalog size in every region is a few thousand rows (well under 4 MiB).
const maxCacheBytes = 64 << 20

// LoadPriceCache reads the cache for currency. A missing file is not an
// error (found is false); a corrupt or foreign one is.
func LoadPriceCache(dir, currency string) (pc PriceCache, found bool, err error) {
	if _, err := NormalizeCurrency(currency); err != nil {
		return PriceCache{}, false, err
	}
	path := PriceCachePath(dir, currency)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return PriceCache{}, false, nil
	}
	if err != nil {
		return PriceCache{}, false, fmt.Errorf("open price cache: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return PriceCache{}, false, fmt.Errorf("stat price cache %s: %w", path, err)
	}
	if st.Size() > maxCacheBytes {
		return PriceCache{}, false, fmt.Errorf("price cache %s is %d bytes, more than expected; delete it and run `gpuplan prices refresh`", path, st.Size())
	}
	dec := json.NewDecoder(f)
	if err := dec.Decode(&pc); err != nil {
		return PriceCache{}, false, fmt.Errorf("price cache %s is unreadable (%v); delete it and run `gpuplan prices refresh`", path, err)
	}
	if pc.SchemaVersion != priceCacheVersion {
		return PriceCache{}, false, fmt.Errorf("price cache %s has schema version %d (want %d); run `gpuplan prices refresh`", path, pc.SchemaVersion, priceCacheVersion)
	}
	for _, p := range pc.Prices {
		if err := checkPrice(p); err != nil {
			return PriceCache{}, false, fmt.Errorf("price cache %s: %v; run `gpuplan prices refresh`", path, err)
		}
	}
	return pc, true, nil
}

// WritePriceCache writes the cache atomically: to a temporary file in the
// same directory, synced, then renamed over the old one, so a crash or a
// full disk leaves either the old cache or the new one, never half of one.
func WritePriceCache(dir string, pc PriceCache) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create cache directory %s: %w", dir, err)
	}
	cur, err := NormalizeCurrency(pc.Currency)
	if err != nil {
		return err
	}
	pc.Currency = cur
	pc.SchemaVersion = priceCacheVersion
	sortPrices(pc.Prices)
	b, err := json.MarshalIndent(pc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode price cache: %w", err)
	}
	b = append(b, '\n')
	if err := atomicfile.Write(PriceCachePath(dir, pc.Currency), b, 0o644); err != nil {
		return fmt.Errorf("replace price cache: %w", err)
	}
	return nil
}

// RefreshResult summarises a refresh.
type RefreshResult struct {
	Path     string
	Fetched  []Price // rows from this refresh
	Total    int     // rows in the cache afterwards
	Warnings []string
}

// RefreshPrices fetches prices for q from the API and merges them into the
// cache in dir: rows of the fetched sizes (in q.Region, or everywhere when
// q.Region is empty) are replaced, other cached rows are kept. Nothing is
// written unless every page of every size was fetched and parsed. An empty
// q.VMs means every VM size of cat.
func RefreshPrices(ctx context.Context, client *RetailClient, cat *Catalog, dir string, q RetailQuery, now time.Time) (RefreshResult, error) {
	cur, err := NormalizeCurrency(q.Currency)
	if err != nil {
		return RefreshResult{}, err
	}
	q.Currency = cur
	if q.Region != "" {
		r, err := NormalizeRegion(q.Region)
		if err != nil {
			return RefreshResult{}, err
		}
		q.Region = r
	}
	names := map[string]string{}
	if len(q.VMs) == 0 {
		for _, v := range cat.VMSizes() {
			q.VMs = append(q.VMs, v.Name)
		}
	}
	for i, n := range q.VMs {
		v, err := cat.LookupVM(n)
		if err != nil {
			return RefreshResult{}, err
		}
		q.VMs[i] = v.Name
		names[strings.ToLower(v.Name)] = v.Name
	}
	sort.Strings(q.VMs)
	items, err := client.FetchItems(ctx, q)
	if err != nil {
		return RefreshResult{}, fmt.Errorf("refresh prices (cache left unchanged): %w", err)
	}
	source := "retail-prices-api"
	if client.BaseURL != "" && client.BaseURL != DefaultRetailAPI {
		source = client.BaseURL
	}
	fresh, warnings := SelectPrices(items, names, q.Currency, DateOf(now), source)

	// Read, merge and write under the cache's lock: two refreshes at once
	// (say of two regions) each keep the other's rows instead of the last
	// writer dropping the first one's.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return RefreshResult{}, fmt.Errorf("create cache directory %s: %w", dir, err)
	}
	release, err := atomicfile.Lock(ctx, PriceCachePath(dir, q.Currency))
	if err != nil {
		return RefreshResult{}, fmt.Errorf("refresh prices (cache left unchanged): %w", err)
	}
	defer release()
	old, found, err := LoadPriceCache(dir, q.Currency)
	if err != nil {
		warnings = append(warnings, fmt.Sprintf("ignoring the old cache: %v", err))
		found = false
	}
	var kept []Price
	if found {
		for _, p := range old.Prices {
			_, fetched := names[strings.ToLower(p.VM)]
			if fetched && (q.Region == "" || p.Region == q.Region) {
				continue
			}
			kept = append(kept, p)
		}
	}
	pc := PriceCache{Currency: q.Currency, APIURL: client.base(), APIVersion: RetailAPIVersion,
		RefreshedAt: now.UTC().Truncate(time.Second), Prices: append(kept, fresh...)}
	if err := WritePriceCache(dir, pc); err != nil {
		return RefreshResult{}, err
	}
	return RefreshResult{Path: PriceCachePath(dir, q.Currency), Fetched: fresh, Total: len(pc.Prices), Warnings: warnings}, nil
}
