package hardware

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// priceCSV is the embedded GPU price snapshot: one row per VM size and
// region with Linux pay-as-you-go and spot USD per hour, each row with the
// public URL of the file it was read from and that file's date. It was
// compiled from a bot-maintained catalog of the Azure Retail Prices API
// (and, for a few rows, older SkyPilot catalogs); docs/cost.md says how and
// what the caveats are. data/prices.yaml lays newer-dated observations of
// the same values over it.
const priceCSV = "data/azure-gpu-prices.csv"

// NoSpotDiscountNote marks a spot row whose price equals pay-as-you-go:
// the source's Spot meter carries the on-demand price (every H200 and
// GB200 row, some older H100 rows), so no spot discount is known.
const NoSpotDiscountNote = "no spot discount known (the spot meter equals pay-as-you-go)"

// priceCSVColumns is the header the loader insists on, so a reordered file
// fails the tests instead of swapping prices.
var priceCSVColumns = []string{"vm_size", "region", "payg_usd_per_hour", "spot_usd_per_hour", "source", "as_of", "note"}

// parsePriceCSV reads the embedded price table into PAYG and spot rows.
func parsePriceCSV(b []byte) ([]Price, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = len(priceCSVColumns)
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", priceCSV, err)
	}
	if strings.Join(head, ",") != strings.Join(priceCSVColumns, ",") {
		return nil, fmt.Errorf("%s: header %v, want %v", priceCSV, head, priceCSVColumns)
	}
	var out []Price
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", priceCSV, err)
		}
		asOf, err := ParseDate(rec[5])
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", priceCSV, line, err)
		}
		base := Price{VM: rec[0], Region: rec[1], Currency: "USD", AsOf: asOf, Source: rec[4], Note: rec[6]}
		var payg float64
		for i, kind := range []PriceKind{PAYG, Spot} {
			cell := strings.TrimSpace(rec[2+i])
			if cell == "" {
				continue
			}
			v, err := strconv.ParseFloat(cell, 64)
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %s price %q: %w", priceCSV, line, kind, cell, err)
			}
			p := base
			p.Kind, p.USDPerHour = kind, v
			if kind == PAYG {
				payg = v
			} else if v == payg {
				p.Note = NoSpotDiscountNote + "; " + p.Note
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// NoSpotDiscount reports whether a spot price is known not to be a
// discount: its meter equals pay-as-you-go.
func (p Price) NoSpotDiscount() bool {
	return p.Kind == Spot && strings.HasPrefix(p.Note, NoSpotDiscountNote)
}
