package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gpuplan/gpuplan/hardware"
)

// priceBook is the effective price book for currency: the embedded
// snapshot, the refresh cache, then --catalog prices (hardware's
// PricesWithCache). Problems reading the cache come back as warnings.
func (a *app) priceBook(hc *hardware.Catalog, currency string) (hardware.PriceBook, []string) {
	dir, err := a.cacheDir()
	if err != nil {
		return hc.Prices(), []string{err.Error()}
	}
	book, _, warnings := hc.LoadPrices(dir, currency)
	return book, warnings
}

func newPricesCmd(a *app) *cobra.Command {
	var (
		output   outputFormat
		region   enumFlag
		vm       string
		currency string
	)
	cmd := &cobra.Command{
		Use:   "prices",
		Short: "Show the dated price book; `prices refresh` updates it from the Azure Retail Prices API",
		Long: `Show every known price of the catalog's Azure GPU VM sizes: Linux pay-as-you-go,
spot, 1- and 3-year reservations (hourly over the whole term) and savings plans,
each with its source and the day it was observed. Prices come from the embedded
snapshot, the cache written by 'gpuplan prices refresh', and --catalog (last wins).
When the prices shown are older than 90 days, one line says so: run
'gpuplan prices refresh'. Spot rows whose meter equals pay-as-you-go are
marked "spot (=payg)": no spot discount is known for them. Sizes with no known price are listed as unpriced;
unknown prices are never guessed.`,
		Example: `  gpuplan prices
  gpuplan prices --region eastus --vm Standard_ND96isr_H100_v5
  gpuplan prices refresh --region eastus`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, hc, err := a.loadCatalogs()
			if err != nil {
				return err
			}
			var vmName string
			if vm != "" {
				v, err := hc.LookupVM(vm)
				if err != nil {
					return usageErr(err)
				}
				vmName = v.Name
			}
			cur, err := hardware.NormalizeCurrency(currency)
			if err != nil {
				return usageErrf("--currency: %v", err)
			}
			book, warnings := a.priceBook(hc, cur)
			reg, err := resolveRegion(&region, "", hc, book)
			if err != nil {
				return err
			}
			var cache *hardware.PriceCacheInfo
			if dir, err := a.cacheDir(); err == nil {
				if pc, found, err := hardware.LoadPriceCache(dir, cur); err == nil && found {
					path := hardware.PriceCachePath(dir, cur)
					if a.api {
						path = filepath.Base(path) // the server's directories are not the client's business
					}
					cache = &hardware.PriceCacheInfo{Path: path, RefreshedAt: pc.RefreshedAt.UTC().Format(time.RFC3339), APIURL: pc.APIURL, Rows: len(pc.Prices)}
				}
			}
			out := hardware.NewPricesReport(hc, book, cur, vmName, reg, a.Now(), cache, warnings)
			for _, w := range out.Warnings {
				fmt.Fprintln(a.Stderr, "warning:", w)
			}
			width := a.tableWidth(a.Stdout)
			return render(a.Stdout, output, out, func(w *tabwriter.Writer) error { return printPrices(w, hc, out, reg, width) })
		},
	}
	addOutputFlag(cmd, &output)
	addEnumFlag(cmd.Flags(), &region, regionEnum, "region", "", "only prices in this Azure region (ARM name such as eastus, or \"East US\")")
	cmd.Flags().StringVar(&vm, "vm", "", "only prices of this VM size (Standard_ND96isr_H100_v5; case-insensitive, Standard_ optional)")
	cmd.Flags().StringVar(&currency, "currency", "USD", "currency of the cached prices to show (refresh with the same --currency first)")
	cmd.AddCommand(newPricesRefreshCmd(a))
	return cmd
}

// printPrices prints the price table for width (0: every column; see
// tableWidth). Sources are numbered and listed below the table (JSON
// carries each row's source).
func printPrices(w io.Writer, hc *hardware.Catalog, out hardware.PricesReport, reg string, width int) error {
	cur := out.Currency
	pw := proseWidth(width)
	noDiscount := 0
	var sources []string
	sourceNo := map[string]int{}
	if len(out.Prices) == 0 {
		fmt.Fprint(w, wrapLine(fmt.Sprintf("No known %s price matches. Run `gpuplan prices refresh` or supply prices with --catalog.", cur), width, 2))
	} else {
		hasTerm := false
		for _, r := range out.Prices {
			hasTerm = hasTerm || r.TermTotal != nil
		}
		t := textTable{Header: []string{"VM SIZE (Standard_…)", "REGION", "KIND", cur + "/HOUR", cur + "/GPU-HOUR", cur + "/MONTH"}}
		if hasTerm {
			t.Header = append(t.Header, "TERM TOTAL")
		}
		t.Header = append(t.Header, "AS OF", "SRC")
		// The date and the derived figures go first; the size, region,
		// kind and hourly price stay.
		for _, name := range []string{"AS OF", cur + "/GPU-HOUR", "TERM TOTAL", cur + "/MONTH", "SRC", "REGION"} {
			if i := slices.Index(t.Header, name); i >= 0 {
				t.Drop = append(t.Drop, i)
			}
		}
		for _, r := range out.Prices {
			hour := r.USDPerHour
			gpu := r.USDPerGPUHour
			if hour == nil {
				hour, gpu = r.PerHour, r.PerGPUHour
			}
			month := "-"
			if r.USDPerMonth != nil {
				month = fmt.Sprintf("%.2f", *r.USDPerMonth)
			}
			kind := r.Kind
			if r.NoSpotDiscount {
				kind += " (=payg)"
				noDiscount++
			}
			if sourceNo[r.Source] == 0 {
				sources = append(sources, r.Source)
				sourceNo[r.Source] = len(sources)
			}
			row := []string{strings.TrimPrefix(r.VM, "Standard_"), r.Region, kind, hwMoney(hour), hwMoney(gpu), month}
			if hasTerm {
				term := "-"
				if r.TermTotal != nil {
					term = fmt.Sprintf("%s / %d h", hwMoney(r.TermTotal), r.TermHours)
				}
				row = append(row, term)
			}
			t.Rows = append(t.Rows, append(row, r.PriceAsOf, fmt.Sprintf("[%d]", sourceNo[r.Source])))
		}
		if err := t.write(w, width); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	for i, src := range sources {
		fmt.Fprintln(w, wrapText(fmt.Sprintf("[%d] %s", i+1, src), pw, "    "))
	}
	if noDiscount > 0 {
		fmt.Fprint(w, wrapLine(fmt.Sprintf("spot (=payg): %s on %d rows; price with --pricing payg.", hardware.NoSpotDiscountNote, noDiscount), width, 2))
	}
	if out.PricesAsOf != nil {
		fmt.Fprintln(w, wrapText(fmt.Sprintf("Oldest price as of %s. Linux prices; a month is %d hours; reservations are the term total spread over its hours.", *out.PricesAsOf, hardware.HoursPerMonth), pw, "  "))
	}
	if out.Cache != nil {
		fmt.Fprint(w, wrapLine(fmt.Sprintf("Cache: %s (refreshed %s from %s, %d rows).", out.Cache.Path, out.Cache.RefreshedAt, out.Cache.APIURL, out.Cache.Rows), width, 2))
	} else {
		fmt.Fprint(w, wrapLine("No refreshed prices cached; showing the embedded snapshot. Run `gpuplan prices refresh` to fetch current prices.", width, 2))
	}
	if len(out.Unpriced) > 0 {
		where := "any region"
		if reg != "" {
			where = reg
		}
		fmt.Fprintln(w, wrapText(fmt.Sprintf("No pay-as-you-go price known in %s for %d sizes: %s. Supply one with `gpuplan prices refresh` or a --catalog prices row (docs/catalog.md).", where, len(out.Unpriced), strings.Join(out.Unpriced, ", ")), pw, "  "))
	}
	writePriceSourceKeys(w, hc, out.Prices, pw)
	return nil
}

// writePriceSourceKeys explains the source keys the rows cite.
func writePriceSourceKeys(w io.Writer, hc *hardware.Catalog, rows []hardware.PriceRow, width int) {
	seen := map[string]bool{}
	var keys []string
	for _, r := range rows {
		for _, part := range strings.Split(r.Source, ";") {
			k := strings.TrimSpace(part)
			if _, ok := hc.Source(k); ok && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return
	}
	fmt.Fprintln(w, "\nSource keys:")
	for _, k := range keys {
		s, _ := hc.Source(k)
		fmt.Fprintln(w, wrapText(fmt.Sprintf("  %s (%s): %s", k, s.Tier, s.Title), width, "    "))
	}
}

func newPricesRefreshCmd(a *app) *cobra.Command {
	var (
		region   string
		currency string
		apiURL   string
		vms      []string
		timeout  time.Duration
		deadline time.Duration
	)
	cmd := &cobra.Command{
		Use:   "refresh",
		Short: "Fetch current prices from the Azure Retail Prices API into the cache",
		Long: `Query the Azure Retail Prices API (api-version ` + hardware.RetailAPIVersion + `) for every VM size in
the catalog (or --vm), following NextPageLink, and keep the Linux prices:
pay-as-you-go, spot, 1- and 3-year reservations and savings plans. Pages that
fail (HTTP 429 with Retry-After, 5xx, malformed or truncated JSON) are retried
with backoff; if any page still fails, nothing is written. The cache file is
replaced atomically in $GPUPLAN_CACHE_DIR (default: the user cache directory
/gpuplan). Other regions' cached rows are kept when --region is given.`,
		Example: `  gpuplan prices refresh --region eastus
  gpuplan prices refresh --vm Standard_NC40ads_H100_v5 --vm Standard_ND96isr_H100_v5
  gpuplan prices refresh --api-url http://mirror.example/api/retail/prices`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.offline {
				return usageErrf("prices refresh needs the network; drop --offline (the embedded snapshot and cache work offline)")
			}
			_, hc, err := a.loadCatalogs()
			if err != nil {
				return err
			}
			cur, err := hardware.NormalizeCurrency(currency)
			if err != nil {
				return usageErrf("--currency: %v", err)
			}
			q := hardware.RetailQuery{VMs: vms, Currency: cur}
			if region != "" {
				if q.Region, err = hardware.NormalizeRegion(region); err != nil {
					return usageErr(err)
				}
			}
			for _, v := range vms {
				if _, err := hc.LookupVM(v); err != nil {
					return usageErr(err)
				}
			}
			dir, err := a.cacheDir()
			if err != nil {
				return err
			}
			if deadline <= 0 {
				return usageErrf("--deadline %s: give a positive duration such as 10m", deadline)
			}
			if timeout <= 0 {
				return usageErrf("--timeout %s: give a positive duration such as 60s", timeout)
			}
			// Wall time for the progress line; the injected clock stays
			// pinned in tests.
			started := time.Now()
			client := &hardware.RetailClient{
				BaseURL:    apiURL,
				HTTPClient: &http.Client{Timeout: timeout},
				UserAgent:  "gpuplan/" + version,
				Now:        a.Now,
				Progress: func(p hardware.RetailProgress) {
					if p.Retry != "" {
						fmt.Fprintf(a.Stderr, "prices: %s page %d: %s; retrying in %s\n", p.VM, p.Page, p.Retry, p.Wait)
						return
					}
					fmt.Fprintf(a.Stderr, "prices: [%d/%d] %s page %d: %d rows (%.1f MB read, %s of --deadline %s)\n",
						p.VMIndex, p.VMCount, p.VM, p.Page, p.Items, float64(p.Bytes)/1e6, time.Since(started).Round(time.Second), deadline)
				},
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), deadline)
			defer cancel()
			res, err := hardware.RefreshPrices(ctx, client, hc, dir, q, a.Now())
			if err != nil {
				if errors.Is(err, context.DeadlineExceeded) && cmd.Context().Err() == nil {
					return fmt.Errorf("prices refresh did not finish within --deadline %s (cache left unchanged); refresh fewer sizes (--vm, --region) or raise --deadline: %w", deadline, err)
				}
				return err
			}
			for _, w := range res.Warnings {
				fmt.Fprintln(a.Stderr, "warning:", w)
			}
			kinds := map[hardware.PriceKind]int{}
			for _, p := range res.Fetched {
				kinds[p.Kind]++
			}
			var parts []string
			for _, k := range hardware.PriceKinds {
				if kinds[k] > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", kinds[k], k))
				}
			}
			summary := "none"
			if len(parts) > 0 {
				summary = strings.Join(parts, ", ")
			}
			fmt.Fprintf(a.Stdout, "Fetched %d Linux prices (%s) as of %s.\nCache: %s (%d rows).\n",
				len(res.Fetched), summary, hardware.DateOf(a.Now()), res.Path, res.Total)
			return nil
		},
	}
	cmd.Flags().StringVar(&region, "region", "", "only this Azure region (ARM name such as eastus); default: every region")
	cmd.Flags().StringVar(&currency, "currency", "USD", "currency code the API converts to (USD is the pricing currency; others are for reference)")
	cmd.Flags().StringVar(&apiURL, "api-url", hardware.DefaultRetailAPI, "Retail Prices endpoint (a mirror or a test server)")
	cmd.Flags().StringSliceVar(&vms, "vm", nil, "only these VM sizes (repeatable); default: every catalog size")
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "timeout per HTTP request")
	cmd.Flags().DurationVar(&deadline, "deadline", 10*time.Minute, "longest the whole refresh may take; nothing is written if it is reached")
	return cmd
}
