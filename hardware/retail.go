package hardware

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gpuplan/gpuplan/internal/termtext"
)

// DefaultRetailAPI is the Azure Retail Prices endpoint (no authentication;
// source key retail-prices-api).
const DefaultRetailAPI = "https://prices.azure.com/api/retail/prices"

// RetailAPIVersion is the API version requested. It is the version that
// carries savings-plan prices; with it, $filter values are case-sensitive
// ("only `Virtual Machines` works"), so filters use Azure's exact spelling.
const RetailAPIVersion = "2023-01-01-preview"

// RetailItem is one row of a Retail Prices page. Only the fields gpuplan
// reads are declared; others are ignored.
type RetailItem struct {
	CurrencyCode         string              `json:"currencyCode"`
	RetailPrice          float64             `json:"retailPrice"`
	UnitPrice            float64             `json:"unitPrice"`
	ArmRegionName        string              `json:"armRegionName"`
	Location             string              `json:"location"`
	EffectiveStartDate   string              `json:"effectiveStartDate"`
	EffectiveEndDate     string              `json:"effectiveEndDate"`
	MeterID              string              `json:"meterId"`
	MeterName            string              `json:"meterName"`
	ProductName          string              `json:"productName"`
	SkuName              string              `json:"skuName"`
	ServiceName          string              `json:"serviceName"`
	UnitOfMeasure        string              `json:"unitOfMeasure"`
	Type                 string              `json:"type"`
	ArmSkuName           string              `json:"armSkuName"`
	ReservationTerm      string              `json:"reservationTerm"`
	IsPrimaryMeterRegion *bool               `json:"isPrimaryMeterRegion"`
	SavingsPlan          []RetailSavingsPlan `json:"savingsPlan"`
}

// RetailSavingsPlan is an entry of a Consumption row's savingsPlan array;
// its prices are hourly (unlike Reservation rows, which state the term).
type RetailSavingsPlan struct {
	UnitPrice   float64 `json:"unitPrice"`
	RetailPrice float64 `json:"retailPrice"`
	Term        string  `json:"term"`
}

// RetailPage is one page of the API's response envelope.
type RetailPage struct {
	BillingCurrency string       `json:"BillingCurrency"`
	Items           []RetailItem `json:"Items"`
	// NextPageLink is the absolute URL of the next page; empty on the last.
	NextPageLink string `json:"NextPageLink"`
}

// MaxRetailPageBytes bounds one page. Pages hold at most 1,000 rows (the
// preview version; 100 before) of about 1 KB each, so 16 MiB is far above
// any real page and still small enough to hold in memory.
const MaxRetailPageBytes = 16 << 20

// ParseRetailPage decodes one page. It rejects bodies that are not a JSON
// object with an Items array, so a changed or truncated response is an
// error rather than an empty price list.
func ParseRetailPage(b []byte) (RetailPage, error) {
	if len(b) > MaxRetailPageBytes {
		return RetailPage{}, fmt.Errorf("page of %d bytes exceeds the %d-byte limit", len(b), MaxRetailPageBytes)
	}
	var env struct {
		BillingCurrency string           `json:"BillingCurrency"`
		Items           *json.RawMessage `json:"Items"`
		NextPageLink    *string          `json:"NextPageLink"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&env); err != nil {
		return RetailPage{}, fmt.Errorf("not a Retail Prices page (invalid JSON): %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return RetailPage{}, fmt.Errorf("not a Retail Prices page: data after the JSON object")
	}
	if env.Items == nil {
		return RetailPage{}, fmt.Errorf("not a Retail Prices page: no Items array (the response shape may have changed)")
	}
	var items []RetailItem
	if err := json.Unmarshal(*env.Items, &items); err != nil {
		return RetailPage{}, fmt.Errorf("the Retail Prices page's Items is not an array of price rows: %w", err)
	}
	p := RetailPage{BillingCurrency: env.BillingCurrency, Items: items}
	if env.NextPageLink != nil {
		p.NextPageLink = strings.TrimSpace(*env.NextPageLink)
	}
	return p, nil
}

// RetailQuery says which prices to fetch.
type RetailQuery struct {
	// VMs are ARM size names; each is fetched with its own filter.
	VMs []string
	// Region is an ARM region name; empty fetches every region.
	Region string
	// Currency is an ISO code the API supports; empty means USD.
	Currency string
}

// RetailProgress reports fetch progress.
type RetailProgress struct {
	VM      string
	VMIndex int // 1-based
	VMCount int
	Page    int // 1-based
	Items   int // rows on this page
	// Retry is set when a page is being retried, with the reason.
	Retry string
	Wait  time.Duration
	// Bytes is the response bytes read so far in this fetch (all sizes).
	Bytes int64
}

// DefaultRetailMaxTotalBytes bounds the bytes one FetchItems reads over
// all pages of all sizes. A full refresh of every catalog size is a few
// MB; a server answering with huge pages once made one size cost 3 GB.
const DefaultRetailMaxTotalBytes = 256 << 20

// RetailClient fetches prices from the Retail Prices API (or a mirror).
// The zero value is usable; fields override the defaults.
type RetailClient struct {
	// BaseURL is the endpoint; DefaultRetailAPI when empty.
	BaseURL string
	// HTTPClient defaults to a client with a 60 s timeout per request.
	HTTPClient *http.Client
	// MaxPages bounds the pages followed per VM size (default 100).
	MaxPages int
	// MaxAttempts bounds tries per page (default 5).
	MaxAttempts int
	// Backoff is the first retry delay, doubled per attempt (default 1 s);
	// MaxBackoff caps it and any Retry-After (default 60 s).
	Backoff, MaxBackoff time.Duration
	// Sleep waits between attempts; tests replace it. It must return the
	// context's error when the context ends first.
	Sleep func(context.Context, time.Duration) error
	// Progress, if set, is called after every page and before every retry.
	Progress func(RetailProgress)
	// MaxTotalBytes bounds the response bytes of one FetchItems (default
	// DefaultRetailMaxTotalBytes); each page is also bounded by
	// MaxRetailPageBytes.
	MaxTotalBytes int64
	// UserAgent is sent with every request.
	UserAgent string
	// Now is the clock for HTTP-date Retry-After headers (time.Now if nil).
	Now func() time.Time
}

func (c *RetailClient) base() string {
	if c.BaseURL == "" {
		return DefaultRetailAPI
	}
	return c.BaseURL
}

func (c *RetailClient) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *RetailClient) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return &http.Client{Timeout: 60 * time.Second}
}

func (c *RetailClient) sleep(ctx context.Context, d time.Duration) error {
	if c.Sleep != nil {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func orDefault[T int | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

// FirstPageURL builds the documented query for one VM size:
// ?api-version=2023-01-01-preview&currencyCode='USD'&$filter=serviceName eq
// 'Virtual Machines' and armSkuName eq '<vm>'[ and armRegionName eq '<r>'].
func (c *RetailClient) FirstPageURL(vm, region, currency string) (string, error) {
	u, err := url.Parse(c.base())
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("price API URL %q: want an absolute http(s) URL", c.base())
	}
	if strings.ContainsAny(vm+region+currency, "'\"&") {
		return "", fmt.Errorf("VM size %q, region %q or currency %q contains a quote or '&'", vm, region, currency)
	}
	if currency == "" {
		currency = "USD"
	}
	filter := fmt.Sprintf("serviceName eq 'Virtual Machines' and armSkuName eq '%s'", vm)
	if region != "" {
		filter += fmt.Sprintf(" and armRegionName eq '%s'", region)
	}
	q := "api-version=" + RetailAPIVersion +
		"&currencyCode=" + escapeQuery("'"+currency+"'") +
		"&$filter=" + escapeQuery(filter)
	if u.RawQuery != "" {
		q = u.RawQuery + "&" + q
	}
	u.RawQuery = q
	return u.String(), nil
}

// escapeQuery percent-encodes a query value with %20 for spaces (OData
// servers do not all read '+' as a space).
func escapeQuery(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// sameOrigin reports whether next may be followed from first: same scheme
// and host, with default ports made explicit (the API's own NextPageLink
// says "prices.azure.com:443").
func sameOrigin(first, next *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if u.Scheme == "https" {
			return "443"
		}
		return "80"
	}
	return first.Scheme == next.Scheme && strings.EqualFold(first.Hostname(), next.Hostname()) && port(first) == port(next)
}

// FetchItems returns every row for every VM size in q, following
// NextPageLink. It fails as a whole: a partial result is never returned.
//
// It stops when ctx ends (the CLI's --deadline) and when the responses
// exceed MaxTotalBytes.
func (c *RetailClient) FetchItems(ctx context.Context, q RetailQuery) ([]RetailItem, error) {
	var all []RetailItem
	f := &fetch{c: c, limit: c.MaxTotalBytes}
	if f.limit <= 0 {
		f.limit = DefaultRetailMaxTotalBytes
	}
	for i, vm := range q.VMs {
		items, err := f.fetchVM(ctx, vm, q.Region, q.Currency, i+1, len(q.VMs))
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
	}
	return all, nil
}

// fetch is one FetchItems: the client and the bytes read so far.
type fetch struct {
	c     *RetailClient
	limit int64
	bytes int64
}

func (f *fetch) fetchVM(ctx context.Context, vm, region, currency string, idx, n int) ([]RetailItem, error) {
	c := f.c
	first, err := c.FirstPageURL(vm, region, currency)
	if err != nil {
		return nil, err
	}
	firstURL, _ := url.Parse(first)
	seen := map[string]int{}
	var items []RetailItem
	next := first
	maxPages := orDefault(c.MaxPages, 100)
	for page := 1; next != ""; page++ {
		if page > maxPages {
			return nil, fmt.Errorf("prices for %s: more than %d pages; stopping (is the API returning an endless NextPageLink chain?)", vm, maxPages)
		}
		if p, ok := seen[next]; ok {
			return nil, fmt.Errorf("prices for %s: NextPageLink of page %d points back to page %d (%s); the API is looping, try again later", vm, page-1, p, next)
		}
		seen[next] = page
		pg, err := f.getPage(ctx, next, vm, idx, n, page)
		if err != nil {
			return nil, fmt.Errorf("prices for %s, page %d: %w", vm, page, err)
		}
		items = append(items, pg.Items...)
		if c.Progress != nil {
			c.Progress(RetailProgress{VM: vm, VMIndex: idx, VMCount: n, Page: page, Items: len(pg.Items), Bytes: f.bytes})
		}
		if pg.NextPageLink == "" {
			break
		}
		nu, err := url.Parse(pg.NextPageLink)
		if err != nil || !nu.IsAbs() {
			return nil, fmt.Errorf("prices for %s, page %d: NextPageLink %q is not an absolute URL", vm, page, pg.NextPageLink)
		}
		if !sameOrigin(firstURL, nu) {
			return nil, fmt.Errorf("prices for %s, page %d: NextPageLink %q leaves %s; refusing to follow it", vm, page, pg.NextPageLink, firstURL.Host)
		}
		next = nu.String()
	}
	return items, nil
}

// retryable marks errors worth another attempt.
type retryable struct {
	err  error
	wait time.Duration // from Retry-After; 0 = use backoff
}

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

func (f *fetch) getPage(ctx context.Context, u, vm string, idx, n, page int) (RetailPage, error) {
	c := f.c
	attempts := orDefault(c.MaxAttempts, 5)
	backoff := orDefault(c.Backoff, time.Second)
	maxBackoff := orDefault(c.MaxBackoff, time.Minute)
	var last error
	for attempt := 1; attempt <= attempts; attempt++ {
		pg, err := f.tryPage(ctx, u)
		if err == nil {
			return pg, nil
		}
		var r *retryable
		if !errors.As(err, &r) {
			return RetailPage{}, err
		}
		last = r.err
		if attempt == attempts {
			break
		}
		wait := backoff << (attempt - 1)
		if r.wait > 0 {
			wait = r.wait
		}
		if wait > maxBackoff || wait <= 0 {
			wait = maxBackoff
		}
		if c.Progress != nil {
			c.Progress(RetailProgress{VM: vm, VMIndex: idx, VMCount: n, Page: page, Retry: r.err.Error(), Wait: wait, Bytes: f.bytes})
		}
		if err := c.sleep(ctx, wait); err != nil {
			return RetailPage{}, fmt.Errorf("interrupted while waiting to retry: %w", err)
		}
	}
	return RetailPage{}, fmt.Errorf("gave up after %d attempts: %w", attempts, last)
}

func (f *fetch) tryPage(ctx context.Context, u string) (RetailPage, error) {
	c := f.c
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return RetailPage{}, err
	}
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return RetailPage{}, ctx.Err()
		}
		var dns *net.DNSError
		if errors.As(err, &dns) && !dns.IsTemporary {
			return RetailPage{}, fmt.Errorf("cannot resolve %s (offline?): %w; the embedded price snapshot still works", dns.Name, err)
		}
		return RetailPage{}, &retryable{err: fmt.Errorf("request failed: %w", err)}
	}
	defer resp.Body.Close()
	// A page may use what is left of the total, and at most a page.
	left := f.limit - f.bytes
	pageLimit := min(int64(MaxRetailPageBytes), left)
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, pageLimit+1))
	f.bytes += int64(len(body))
	if int64(len(body)) > pageLimit && pageLimit < MaxRetailPageBytes {
		return RetailPage{}, fmt.Errorf("the responses exceed %d MiB in all; refusing more (the whole catalog's prices are a few MB; is the server sending huge pages?)", f.limit>>20)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		return RetailPage{}, &retryable{err: fmt.Errorf("HTTP 429 Too Many Requests"), wait: retryAfter(resp.Header.Get("Retry-After"), c.now())}
	case resp.StatusCode >= 500:
		return RetailPage{}, &retryable{err: fmt.Errorf("HTTP %d from the price API", resp.StatusCode), wait: retryAfter(resp.Header.Get("Retry-After"), c.now())}
	case resp.StatusCode != http.StatusOK:
		return RetailPage{}, fmt.Errorf("HTTP %d from the price API: %s", resp.StatusCode, snippet(body))
	}
	if readErr != nil {
		return RetailPage{}, &retryable{err: fmt.Errorf("reading the response: %w", readErr)}
	}
	if len(body) > MaxRetailPageBytes {
		return RetailPage{}, fmt.Errorf("page larger than %d bytes; refusing it", MaxRetailPageBytes)
	}
	pg, err := ParseRetailPage(body)
	if err != nil {
		// A truncated or garbled body is often transient (proxy, reset).
		return RetailPage{}, &retryable{err: err}
	}
	return pg, nil
}

// retryAfter reads a Retry-After header (delay-seconds or HTTP-date).
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		if s > 86400 {
			s = 86400
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// snippet is the start of a remote body for an error message, with
// control characters replaced (a hostile server must not be able to move
// the cursor or clear the user's terminal) and invalid UTF-8 dropped.
func snippet(b []byte) string {
	s := strings.TrimSpace(termtext.Printable(string(b)))
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

// SelectPrices applies the Linux selection rule (listed below; the fields
// are the Retail Prices API's,
// https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices) to
// API rows and returns one Price per (VM, region, kind):
//
//   - only serviceName "Virtual Machines", the requested currency, sizes in
//     vms (matched on armSkuName, case-insensitive), primary meter regions;
//   - no Windows products (productName ending in " Windows"), no "Cloud
//     Services" products, no "Low Priority" meters, no DevTestConsumption;
//   - type Consumption with unitOfMeasure "1 Hour": PAYG, or Spot when the
//     meter or SKU name says "Spot"; a PAYG row's savingsPlan entries are
//     hourly savings-plan prices for "1 Year" and "3 Years";
//   - type Reservation: retailPrice is the whole term, so the hourly price is
//     retailPrice / 8,760 (1 Year) or / 26,280 (3 Years);
//   - rows whose effectiveEndDate is before asOf are dropped; among rows for
//     the same (VM, region, kind) the latest effectiveStartDate wins.
//
// vms maps lower-cased ARM names to their catalog spelling. Rows set aside
// for a reason worth telling the user come back as warnings.
func SelectPrices(items []RetailItem, vms map[string]string, currency string, asOf Date, source string) ([]Price, []string) {
	if currency == "" {
		currency = "USD"
	}
	type cand struct {
		p     Price
		start Date
	}
	best := map[string]cand{}
	var warnings []string
	put := func(p Price, start Date) {
		if err := checkPrice(p); err != nil {
			warnings = append(warnings, "skipped a row: "+err.Error())
			return
		}
		k := p.key()
		if old, ok := best[k]; ok {
			if start.Before(old.start) {
				return
			}
			if !start.After(old.start) && old.p.USDPerHour != p.USDPerHour {
				warnings = append(warnings, fmt.Sprintf("%s %s %s: two rows with the same start date (%s): %v and %v; keeping %v",
					p.VM, p.Region, p.Kind, start, old.p.USDPerHour, p.USDPerHour, old.p.USDPerHour))
				return
			}
		}
		best[k] = cand{p, start}
	}
	for _, it := range items {
		name, ok := vms[strings.ToLower(strings.TrimSpace(it.ArmSkuName))]
		if !ok {
			continue
		}
		if it.ServiceName != "" && it.ServiceName != "Virtual Machines" {
			continue
		}
		if !strings.EqualFold(it.CurrencyCode, currency) {
			continue
		}
		if it.IsPrimaryMeterRegion != nil && !*it.IsPrimaryMeterRegion {
			continue
		}
		if strings.HasSuffix(strings.TrimSpace(it.ProductName), " Windows") || strings.Contains(it.ProductName, "Cloud Services") {
			continue
		}
		meter := it.MeterName + " " + it.SkuName
		if strings.Contains(meter, "Low Priority") {
			continue
		}
		region, err := NormalizeRegion(it.ArmRegionName)
		if err != nil || it.ArmRegionName == "" {
			continue
		}
		start, _ := ParseDate(it.EffectiveStartDate)
		if it.EffectiveEndDate != "" {
			if end, err := ParseDate(it.EffectiveEndDate); err == nil && end.Before(asOf) {
				continue
			}
		}
		if !(it.RetailPrice > 0) || math.IsInf(it.RetailPrice, 0) {
			continue
		}
		base := Price{VM: name, Region: region, Currency: strings.ToUpper(currency), EffectiveFrom: start,
			Meter: it.MeterName, AsOf: asOf, Source: source}
		switch it.Type {
		case "Consumption":
			if it.UnitOfMeasure != "1 Hour" {
				warnings = append(warnings, fmt.Sprintf("%s %s: skipped a row priced per %q, not per hour", name, region, it.UnitOfMeasure))
				continue
			}
			if strings.Contains(meter, "Spot") {
				p := base
				p.Kind, p.USDPerHour = Spot, it.RetailPrice
				put(p, start)
				continue
			}
			p := base
			p.Kind, p.USDPerHour = PAYG, it.RetailPrice
			put(p, start)
			for _, sp := range it.SavingsPlan {
				var kind PriceKind
				switch strings.TrimSpace(sp.Term) {
				case "1 Year":
					kind = SavingsPlan1Y
				case "3 Years":
					kind = SavingsPlan3Y
				default:
					warnings = append(warnings, fmt.Sprintf("%s %s: unknown savings-plan term %q", name, region, sp.Term))
					continue
				}
				if !(sp.RetailPrice > 0) || math.IsInf(sp.RetailPrice, 0) {
					continue
				}
				q := base
				q.Kind, q.USDPerHour = kind, sp.RetailPrice
				put(q, start)
			}
		case "Reservation":
			var kind PriceKind
			var hours int
			switch strings.TrimSpace(it.ReservationTerm) {
			case "1 Year":
				kind, hours = Reserved1Y, hours1Y
			case "3 Years":
				kind, hours = Reserved3Y, hours3Y
			default:
				warnings = append(warnings, fmt.Sprintf("%s %s: unknown reservation term %q", name, region, it.ReservationTerm))
				continue
			}
			p := base
			p.Kind, p.TermTotal, p.TermHours = kind, it.RetailPrice, hours
			p.USDPerHour = it.RetailPrice / float64(hours)
			put(p, start)
		}
	}
	out := make([]Price, 0, len(best))
	for _, c := range best {
		out = append(out, c.p)
	}
	sortPrices(out)
	sort.Strings(warnings)
	return out, warnings
}
