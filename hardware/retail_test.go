package hardware

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// pageServer is a loopback Retail Prices API. Each VM size (taken from the
// $filter) has a script of responses, one per request in order; a response
// body may contain {{NEXT}}, replaced with the URL of the next scripted page
// of the same size.
type pageServer struct {
	t       *testing.T
	mu      sync.Mutex
	srv     *httptest.Server
	scripts map[string][]response
	served  map[string]int
	queries []url.Values
}

type response struct {
	status  int
	header  map[string]string
	body    string
	next    string // overrides {{NEXT}} when set
	chunked bool   // claim more bytes than sent (a truncated body)
}

func newPageServer(t *testing.T, scripts map[string][]response) *pageServer {
	s := &pageServer{t: t, scripts: scripts, served: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *pageServer) url() string { return s.srv.URL + "/api/retail/prices" }

// skuOf pulls armSkuName out of the documented $filter.
func skuOf(filter string) string {
	const k = "armSkuName eq '"
	i := strings.Index(filter, k)
	if i < 0 {
		return ""
	}
	rest := filter[i+len(k):]
	return rest[:strings.Index(rest, "'")]
}

func (s *pageServer) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := r.URL.Query()
	s.queries = append(s.queries, q)
	sku := skuOf(q.Get("$filter"))
	script := s.scripts[sku]
	n := s.served[sku]
	s.served[sku]++
	if n >= len(script) {
		http.Error(w, "test server: script exhausted for "+sku, http.StatusTeapot)
		return
	}
	resp := script[n]
	body := resp.body
	next := resp.next
	if next == "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("$skip", fmt.Sprint(n+1))
		next = s.url() + "?" + nq.Encode()
	}
	body = strings.ReplaceAll(body, "{{NEXT}}", next)
	for k, v := range resp.header {
		w.Header().Set(k, v)
	}
	status := resp.status
	if status == 0 {
		status = http.StatusOK
	}
	if resp.chunked {
		// Promise the whole body, send half and hang up: the client sees an
		// unexpected EOF.
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(status)
		w.Write([]byte(body[:len(body)/2]))
		w.(http.Flusher).Flush()
		hj, ok := w.(http.Hijacker)
		if !ok {
			s.t.Fatal("test server cannot hijack")
		}
		conn, _, err := hj.Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	w.WriteHeader(status)
	w.Write([]byte(body))
}

func readPage(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "retail", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testClient never really sleeps; it records the waits.
func testClient(base string, waits *[]time.Duration) *RetailClient {
	return &RetailClient{
		BaseURL: base,
		Sleep: func(ctx context.Context, d time.Duration) error {
			*waits = append(*waits, d)
			return ctx.Err()
		},
	}
}

var refreshDay = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// expectedNC24 is the price book the three nc24 pages must produce, each
// figure worked out by hand (see testdata/retail/README.md).
func expectedNC24(source string) []Price {
	asOf := MustDate("2026-11-27")
	eff := MustDate("2023-06-01")
	row := func(region string, kind PriceKind, perHour float64, meter string) Price {
		return Price{VM: "Standard_NC24ads_A100_v4", Region: region, Kind: kind, USDPerHour: perHour, Currency: "USD",
			EffectiveFrom: eff, Meter: meter, AsOf: asOf, Source: source}
	}
	r1 := row("eastus", Reserved1Y, 2.0, "NC24ads A100 v4") // 17520 / 8760 h
	r1.TermTotal, r1.TermHours = 17520, 8760
	r3 := row("eastus", Reserved3Y, 1.5, "NC24ads A100 v4") // 39420 / 26280 h
	r3.TermTotal, r3.TermHours = 39420, 26280
	return []Price{
		row("eastus", PAYG, 3.673, "NC24ads A100 v4"),
		row("eastus", Spot, 0.7345, "NC24ads A100 v4 Spot"),
		r1,
		r3,
		row("eastus", SavingsPlan1Y, 2.6446, "NC24ads A100 v4"), // hourly as given
		row("eastus", SavingsPlan3Y, 1.8365, "NC24ads A100 v4"),
		row("westus3", PAYG, 3.9, "NC24ads A100 v4"),
	}
}

func nc24Script(t *testing.T) []response {
	return []response{{body: readPage(t, "nc24-page1.json")}, {body: readPage(t, "nc24-page2.json")}, {body: readPage(t, "nc24-page3.json")}}
}

func TestRefreshMultiPageProducesExactBook(t *testing.T) {
	srv := newPageServer(t, map[string][]response{"Standard_NC24ads_A100_v4": nc24Script(t)})
	var waits []time.Duration
	client := testClient(srv.url(), &waits)
	var progress []RetailProgress
	client.Progress = func(p RetailProgress) { progress = append(progress, p) }
	dir := t.TempDir()
	res, err := RefreshPrices(context.Background(), client, Default(), dir, RetailQuery{VMs: []string{"standard_nc24ads_a100_v4"}}, refreshDay)
	if err != nil {
		t.Fatal(err)
	}
	want := expectedNC24(srv.url())
	if diff := cmp.Diff(want, res.Fetched, cmp.AllowUnexported(Date{})); diff != "" {
		t.Errorf("fetched prices (-want +got):\n%s", diff)
	}
	if len(waits) != 0 {
		t.Errorf("no retries expected, waited %v", waits)
	}
	if len(progress) != 3 || progress[2].Page != 3 || progress[0].Items != 4 || progress[1].Items != 6 || progress[2].Items != 0 {
		t.Errorf("progress = %+v, want pages 1..3 with 4, 6, 0 rows", progress)
	}
	// The documented query: api-version, quoted currency, case-exact filter.
	q := srv.queries[0]
	if q.Get("api-version") != "2023-01-01-preview" || q.Get("currencyCode") != "'USD'" ||
		q.Get("$filter") != "serviceName eq 'Virtual Machines' and armSkuName eq 'Standard_NC24ads_A100_v4'" {
		t.Errorf("first query = %v", q)
	}
	// The cache holds exactly the book, and reads back identically.
	pc, found, err := LoadPriceCache(dir, "USD")
	if err != nil || !found {
		t.Fatalf("LoadPriceCache: found=%v err=%v", found, err)
	}
	if diff := cmp.Diff(want, pc.Prices, cmp.AllowUnexported(Date{})); diff != "" {
		t.Errorf("cached prices (-want +got):\n%s", diff)
	}
	if pc.APIVersion != RetailAPIVersion || !pc.RefreshedAt.Equal(refreshDay) {
		t.Errorf("cache header = %+v", pc)
	}
	if res.Total != 7 {
		t.Errorf("Total = %d, want 7", res.Total)
	}
}

func TestRefreshRegionKeepsOtherRegionsAndSizes(t *testing.T) {
	dir := t.TempDir()
	old := PriceCache{Currency: "USD", Prices: []Price{
		{VM: "Standard_NC24ads_A100_v4", Region: "eastus", Kind: PAYG, USDPerHour: 9.99, Currency: "USD", AsOf: MustDate("2026-01-01"), Source: "retail-prices-api"},
		{VM: "Standard_NC24ads_A100_v4", Region: "westus3", Kind: PAYG, USDPerHour: 3.8, Currency: "USD", AsOf: MustDate("2026-01-01"), Source: "retail-prices-api"},
		{VM: "Standard_ND96isr_H100_v5", Region: "eastus", Kind: PAYG, USDPerHour: 98.32, Currency: "USD", AsOf: MustDate("2026-01-01"), Source: "retail-prices-api"},
	}}
	if err := WritePriceCache(dir, old); err != nil {
		t.Fatal(err)
	}
	page := `{"Items":[{"currencyCode":"USD","retailPrice":3.5,"armRegionName":"eastus","meterName":"NC24ads A100 v4","productName":"Virtual Machines NCadsv4 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","isPrimaryMeterRegion":true,"armSkuName":"Standard_NC24ads_A100_v4"}],"NextPageLink":null}`
	srv := newPageServer(t, map[string][]response{"Standard_NC24ads_A100_v4": {{body: page}}})
	var waits []time.Duration
	if _, err := RefreshPrices(context.Background(), testClient(srv.url(), &waits), Default(), dir,
		RetailQuery{VMs: []string{"Standard_NC24ads_A100_v4"}, Region: "East US"}, refreshDay); err != nil {
		t.Fatal(err)
	}
	if f := srv.queries[0].Get("$filter"); !strings.HasSuffix(f, " and armRegionName eq 'eastus'") {
		t.Errorf("filter %q lacks the region clause", f)
	}
	pc, _, err := LoadPriceCache(dir, "USD")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, p := range pc.Prices {
		got[p.VM+"/"+p.Region] = p.USDPerHour
	}
	want := map[string]float64{
		"Standard_NC24ads_A100_v4/eastus":  3.5,   // replaced
		"Standard_NC24ads_A100_v4/westus3": 3.8,   // other region kept
		"Standard_ND96isr_H100_v5/eastus":  98.32, // other size kept
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cache after regional refresh (-want +got):\n%s", diff)
	}
}

func TestRetryTransientFailures(t *testing.T) {
	p1, p2, p3 := readPage(t, "nc24-page1.json"), readPage(t, "nc24-page2.json"), readPage(t, "nc24-page3.json")
	script := []response{
		{status: 429, header: map[string]string{"Retry-After": "7"}, body: "slow down"},
		{status: 503, body: "unavailable"},
		{body: `{"Items": [ {"currencyCode": "USD", `}, // malformed (cut) JSON
		{body: p1},
		{body: p2, chunked: true}, // truncated transfer
		{body: p2},
		{status: 500, body: "oops"},
		{body: p3},
	}
	srv := newPageServer(t, map[string][]response{"Standard_NC24ads_A100_v4": script})
	var waits []time.Duration
	client := testClient(srv.url(), &waits)
	var retries []string
	client.Progress = func(p RetailProgress) {
		if p.Retry != "" {
			retries = append(retries, p.Retry)
		}
	}
	res, err := RefreshPrices(context.Background(), client, Default(), t.TempDir(), RetailQuery{VMs: []string{"Standard_NC24ads_A100_v4"}}, refreshDay)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(expectedNC24(srv.url()), res.Fetched, cmp.AllowUnexported(Date{})); diff != "" {
		t.Errorf("prices after retries (-want +got):\n%s", diff)
	}
	// Page 1: Retry-After 7 s, then backoff 2 s (attempt 2), 4 s (attempt 3).
	// Page 2: truncated body, backoff 1 s. Page 3: HTTP 500, backoff 1 s.
	want := []time.Duration{7 * time.Second, 2 * time.Second, 4 * time.Second, time.Second, time.Second}
	if diff := cmp.Diff(want, waits); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
	if len(retries) != 5 || !strings.Contains(retries[0], "429") || !strings.Contains(retries[1], "503") || !strings.Contains(retries[2], "invalid JSON") {
		t.Errorf("retry reasons = %q", retries)
	}
}

// cacheSnapshot returns the cache directory's files and contents.
func cacheSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func TestBadPagesNeverTouchTheCache(t *testing.T) {
	p1 := readPage(t, "nc24-page1.json")
	cases := []struct {
		name    string
		script  []response
		wantErr string
	}{
		{"persistent 5xx", []response{{status: 502}, {status: 502}, {status: 502}, {status: 502}, {status: 502}}, "gave up after 5 attempts: HTTP 502"},
		{"persistent malformed JSON", []response{{body: "<html>"}, {body: "<html>"}, {body: "<html>"}, {body: "<html>"}, {body: "<html>"}}, "invalid JSON"},
		{"no Items array", []response{{body: `{"Count":0}`}, {body: `{"Count":0}`}, {body: `{"Count":0}`}, {body: `{"Count":0}`}, {body: `{"Count":0}`}}, "no Items array"},
		{"HTTP 400 is not retried", []response{{status: 400, body: "bad filter"}}, "HTTP 400 from the price API: bad filter"},
		{"NextPageLink loop", []response{{body: p1, next: "SELF"}, {body: p1, next: "SELF"}}, "points back to page 1"},
		{"NextPageLink to another host", []response{{body: p1, next: "https://evil.example/api/retail/prices?x=1"}}, "refusing to follow"},
		{"good first page, failing second", []response{{body: p1}, {status: 503}, {status: 503}, {status: 503}, {status: 503}, {status: 503}}, "page 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newPageServer(t, map[string][]response{"Standard_NC24ads_A100_v4": tc.script})
			for i := range tc.script {
				if tc.script[i].next == "SELF" {
					// Point back at the first page's exact URL.
					c := &RetailClient{BaseURL: srv.url()}
					u, _ := c.FirstPageURL("Standard_NC24ads_A100_v4", "", "USD")
					tc.script[i].next = u
				}
			}
			dir := t.TempDir()
			if err := WritePriceCache(dir, PriceCache{Currency: "USD", Prices: []Price{
				{VM: "Standard_NC24ads_A100_v4", Region: "eastus", Kind: PAYG, USDPerHour: 3.0, Currency: "USD", AsOf: MustDate("2026-10-01"), Source: "retail-prices-api"}}}); err != nil {
				t.Fatal(err)
			}
			before := cacheSnapshot(t, dir)
			var waits []time.Duration
			_, err := RefreshPrices(context.Background(), testClient(srv.url(), &waits), Default(), dir, RetailQuery{VMs: []string{"Standard_NC24ads_A100_v4"}}, refreshDay)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), "cache left unchanged") {
				t.Errorf("error %q does not say the cache is unchanged", err)
			}
			if diff := cmp.Diff(before, cacheSnapshot(t, dir)); diff != "" {
				t.Errorf("cache directory changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestRetryAfterForms(t *testing.T) {
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"soon", 0},
		{"Fri, 27 Nov 2026 10:00:30 GMT", 30 * time.Second},
		{"Fri, 27 Nov 2026 09:00:00 GMT", 0}, // in the past
		{"999999", 86400 * time.Second},      // capped at a day (the client caps further)
	}
	for _, c := range cases {
		if got := retryAfter(c.in, now); got != c.want {
			t.Errorf("retryAfter(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestRetryAfterIsCappedByMaxBackoff(t *testing.T) {
	srv := newPageServer(t, map[string][]response{"Standard_NC24ads_A100_v4": {
		{status: 429, header: map[string]string{"Retry-After": "3600"}},
		{body: readPage(t, "nc24-page3.json")},
	}})
	var waits []time.Duration
	c := testClient(srv.url(), &waits)
	c.MaxBackoff = 30 * time.Second
	if _, err := c.FetchItems(context.Background(), RetailQuery{VMs: []string{"Standard_NC24ads_A100_v4"}}); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 1 || waits[0] != 30*time.Second {
		t.Errorf("waits = %v, want [30s]", waits)
	}
}

func TestContextCancelStopsRetrying(t *testing.T) {
	srv := newPageServer(t, map[string][]response{"Standard_NC24ads_A100_v4": {{status: 503}, {status: 503}}})
	ctx, cancel := context.WithCancel(context.Background())
	c := &RetailClient{BaseURL: srv.url(), Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }}
	_, err := c.FetchItems(ctx, RetailQuery{VMs: []string{"Standard_NC24ads_A100_v4"}})
	if err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("err = %v, want an interruption", err)
	}
}

func TestSelectPricesRules(t *testing.T) {
	vms := map[string]string{"standard_nd96isr_h100_v5": "Standard_ND96isr_H100_v5"}
	asOf := MustDate("2026-11-27")
	base := RetailItem{CurrencyCode: "USD", ArmRegionName: "eastus", ArmSkuName: "Standard_ND96isr_H100_v5", ServiceName: "Virtual Machines",
		ProductName: "Virtual Machines NDsr H100 v5 Series", MeterName: "ND96isrH100v5", UnitOfMeasure: "1 Hour", Type: "Consumption"}
	with := func(f func(*RetailItem)) RetailItem { it := base; f(&it); return it }
	cases := []struct {
		name  string
		items []RetailItem
		want  map[PriceKind]float64
	}{
		// The live-captured shape (price-check-fixture, docs/sources.md): Linux and
		// Windows share the meter name; only productName differs.
		{"linux vs windows vs spot vs low priority", []RetailItem{
			with(func(i *RetailItem) { i.RetailPrice = 98.32 }),
			with(func(i *RetailItem) { i.RetailPrice = 102.736; i.ProductName += " Windows" }),
			with(func(i *RetailItem) { i.RetailPrice = 18.169536; i.MeterName += " Spot" }),
			with(func(i *RetailItem) {
				i.RetailPrice = 41.094
				i.MeterName += " Low Priority"
				i.ProductName += " Windows"
			}),
		}, map[PriceKind]float64{PAYG: 98.32, Spot: 18.169536}},
		{"later effective start wins", []RetailItem{
			with(func(i *RetailItem) { i.RetailPrice = 90; i.EffectiveStartDate = "2024-01-01T00:00:00Z" }),
			with(func(i *RetailItem) { i.RetailPrice = 98.32; i.EffectiveStartDate = "2025-01-01T00:00:00Z" }),
			with(func(i *RetailItem) { i.RetailPrice = 80; i.EffectiveStartDate = "2023-01-01T00:00:00Z" }),
		}, map[PriceKind]float64{PAYG: 98.32}},
		{"expired row dropped", []RetailItem{
			with(func(i *RetailItem) { i.RetailPrice = 70; i.EffectiveEndDate = "2026-01-01T00:00:00Z" }),
		}, map[PriceKind]float64{}},
		{"other currency, unit, sku, zero price dropped", []RetailItem{
			with(func(i *RetailItem) { i.RetailPrice = 90; i.CurrencyCode = "EUR" }),
			with(func(i *RetailItem) { i.RetailPrice = 90; i.UnitOfMeasure = "1/Month" }),
			with(func(i *RetailItem) { i.RetailPrice = 90; i.ArmSkuName = "Standard_D2s_v5" }),
			with(func(i *RetailItem) { i.RetailPrice = 0 }),
			with(func(i *RetailItem) { i.RetailPrice = 5; i.ServiceName = "Virtual Machines Licenses" }),
		}, map[PriceKind]float64{}},
		{"reservation term divided by its hours", []RetailItem{
			with(func(i *RetailItem) { i.Type = "Reservation"; i.ReservationTerm = "1 Year"; i.RetailPrice = 876000 }),
			with(func(i *RetailItem) { i.Type = "Reservation"; i.ReservationTerm = "3 Years"; i.RetailPrice = 1314000 }),
			with(func(i *RetailItem) { i.Type = "Reservation"; i.ReservationTerm = "5 Years"; i.RetailPrice = 1 }),
		}, map[PriceKind]float64{Reserved1Y: 100, Reserved3Y: 50}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps, _ := SelectPrices(c.items, vms, "USD", asOf, "retail-prices-api")
			got := map[PriceKind]float64{}
			for _, p := range ps {
				got[p.Kind] = p.USDPerHour
			}
			if diff := cmp.Diff(c.want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestMSSampleItemIsNeverKept(t *testing.T) {
	pg, err := ParseRetailPage([]byte(readPage(t, "ms-sample-item.json")))
	if err != nil {
		t.Fatal(err)
	}
	if len(pg.Items) != 1 || pg.Items[0].RetailPrice != 0.176346 || pg.NextPageLink != "" {
		t.Fatalf("parsed %+v", pg)
	}
	ps, _ := SelectPrices(pg.Items, map[string]string{"standard_f16s": "Standard_F16s"}, "USD", MustDate("2026-11-27"), "x")
	if len(ps) != 0 {
		t.Errorf("a Windows DevTest spot row was kept: %+v", ps)
	}
}

func TestParseRetailPageRejects(t *testing.T) {
	for _, in := range []string{"", "null", "[]", `{"Items": null}`, `{"Items": 3}`, `{"Items": []} {"Items": []}`, `{"Items": [1]}`, `{"Items": [], "NextPageLink": 5}`} {
		if _, err := ParseRetailPage([]byte(in)); err == nil {
			t.Errorf("ParseRetailPage(%q) accepted", in)
		}
	}
	big := bytes.Repeat([]byte(" "), MaxRetailPageBytes+1)
	if _, err := ParseRetailPage(big); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("oversized page: err = %v", err)
	}
}

// FuzzParseRetailPage feeds arbitrary bytes to the page parser and the
// selection rule: they must never panic, and every price they keep must be
// a valid, finite, positive hourly row.
func FuzzParseRetailPage(f *testing.F) {
	for _, name := range []string{"nc24-page1.json", "nc24-page2.json", "nc24-page3.json", "ms-sample-item.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", "retail", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.ReplaceAll(b, []byte("{{NEXT}}"), []byte("https://prices.azure.com/api/retail/prices?$skip=100")))
	}
	f.Add([]byte(`{"Items":[{"armSkuName":"Standard_NC24ads_A100_v4","type":"Reservation","reservationTerm":"1 Year","retailPrice":1e308,"currencyCode":"USD","armRegionName":"eastus"}]}`))
	f.Add([]byte(`{"Items":[{"armSkuName":"Standard_NC24ads_A100_v4","type":"Consumption","unitOfMeasure":"1 Hour","retailPrice":-1,"currencyCode":"USD","armRegionName":"East US"}]}`))
	f.Add([]byte(`{"Items": [`))
	vms := map[string]string{"standard_nc24ads_a100_v4": "Standard_NC24ads_A100_v4"}
	f.Fuzz(func(t *testing.T, b []byte) {
		pg, err := ParseRetailPage(b)
		if err != nil {
			return
		}
		ps, _ := SelectPrices(pg.Items, vms, "USD", MustDate("2026-11-27"), "retail-prices-api")
		for _, p := range ps {
			if err := checkPrice(p); err != nil {
				t.Errorf("kept an invalid row %+v: %v", p, err)
			}
			if math.IsNaN(p.USDPerHour) || math.IsInf(p.USDPerHour, 0) || p.USDPerHour <= 0 {
				t.Errorf("kept a non-finite or non-positive price %+v", p)
			}
		}
	})
}

// TestRetailTotalBytesCap: pages within the per-page cap that add up past
// MaxTotalBytes stop the fetch (one size once cost 3 GB).
func TestRetailTotalBytesCap(t *testing.T) {
	p1 := readPage(t, "nc24-page1.json")
	// Valid pages padded with spaces to ~1 MB each, chained forever.
	big := p1 + strings.Repeat(" ", 1<<20)
	script := make([]response, 40)
	for i := range script {
		script[i] = response{body: big}
	}
	srv := newPageServer(t, map[string][]response{"Standard_NC24ads_A100_v4": script})
	var progress []RetailProgress
	c := &RetailClient{BaseURL: srv.url(), MaxTotalBytes: 5 << 20, Progress: func(p RetailProgress) { progress = append(progress, p) }}
	_, err := c.FetchItems(context.Background(), RetailQuery{VMs: []string{"Standard_NC24ads_A100_v4"}})
	if err == nil || !strings.Contains(err.Error(), "exceed 5 MiB in all") {
		t.Fatalf("err = %v, want the total cap", err)
	}
	if n := len(progress); n == 0 || n > 5 {
		t.Errorf("%d pages reported before stopping, want 1 to 5", n)
	}
	if last := progress[len(progress)-1]; last.Bytes <= 0 || last.Bytes > 5<<20 {
		t.Errorf("progress bytes %d, want within the cap", last.Bytes)
	}
}

// TestRetailErrorBodyIsPrintable: a hostile error body cannot put control
// sequences on the user's terminal through the error message.
func TestRetailErrorBodyIsPrintable(t *testing.T) {
	srv := newPageServer(t, map[string][]response{"Standard_NC24ads_A100_v4": {{status: 400, body: "bad\x1b[2J\x1b]0;pwned\x07filter\nFAKE: done\u202e"}}})
	c := &RetailClient{BaseURL: srv.url()}
	_, err := c.FetchItems(context.Background(), RetailQuery{VMs: []string{"Standard_NC24ads_A100_v4"}})
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.ContainsAny(err.Error(), "\x1b\x07\n\u202e") {
		t.Errorf("error carries control characters: %q", err)
	}
	if !strings.Contains(err.Error(), "bad [2J ]0;pwned filter FAKE: done") {
		t.Errorf("error = %q", err)
	}
}

// TestConcurrentRefreshesKeepBothRegions runs two regional refreshes at
// once, ten times: each must keep the other's rows (without the cache lock
// the last writer dropped the first one's region in 6 of 10 trials).
func TestConcurrentRefreshesKeepBothRegions(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := r.URL.Query().Get("$filter")
		_, region, _ := strings.Cut(f, "armRegionName eq '")
		region = strings.TrimSuffix(region, "'")
		fmt.Fprintf(w, `{"Items":[{"currencyCode":"USD","retailPrice":3.5,"armRegionName":%q,"meterName":"NC24ads A100 v4","productName":"Virtual Machines NCadsv4 Series","serviceName":"Virtual Machines","unitOfMeasure":"1 Hour","type":"Consumption","isPrimaryMeterRegion":true,"armSkuName":"Standard_NC24ads_A100_v4"}],"NextPageLink":null}`, region)
	}))
	defer srv.Close()
	for trial := range 10 {
		dir := t.TempDir()
		var wg sync.WaitGroup
		for _, region := range []string{"eastus", "westus3"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &RetailClient{BaseURL: srv.URL}
				if _, err := RefreshPrices(context.Background(), c, Default(), dir, RetailQuery{VMs: []string{"Standard_NC24ads_A100_v4"}, Region: region}, refreshDay); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		pc, _, err := LoadPriceCache(dir, "USD")
		if err != nil {
			t.Fatal(err)
		}
		regions := map[string]bool{}
		for _, p := range pc.Prices {
			regions[p.Region] = true
		}
		if !regions["eastus"] || !regions["westus3"] {
			t.Errorf("trial %d: cache holds regions %v, want eastus and westus3", trial, regions)
		}
	}
}
