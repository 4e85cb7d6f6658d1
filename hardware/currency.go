package hardware

import (
	"fmt"
	"slices"
	"strings"
)

// RetailCurrencies are the currencyCode values the Azure Retail Prices API
// accepts (Microsoft Learn, "Azure Retail Prices REST API", section
// "Supported currencies":
// https://learn.microsoft.com/en-us/rest/api/cost-management/retail-prices/azure-retail-prices#supported-currencies).
// USD is the pricing currency; the others are conversions.
var RetailCurrencies = []string{
	"AUD", "BRL", "CAD", "CHF", "CNY", "DKK", "EUR", "GBP", "INR",
	"JPY", "KRW", "NOK", "NZD", "RUB", "SEK", "TWD", "USD",
}

// NormalizeCurrency checks a currency code given by a user or a client and
// returns it upper-cased: an ISO 4217 alphabetic code the Retail Prices API
// supports. It is the one check every path takes before a currency names
// a cache file or goes into a query (`prices?currency=/../../X` once read
// any X.json on the server). Empty means USD.
func NormalizeCurrency(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if c == "" {
		return "USD", nil
	}
	if slices.Contains(RetailCurrencies, c) {
		return c, nil
	}
	shown := s
	if len(shown) > 16 {
		shown = shown[:16] + "…"
	}
	return "", fmt.Errorf("currency %q is not one the Azure Retail Prices API supports; use an ISO 4217 code: %s", shown, strings.Join(RetailCurrencies, ", "))
}

// isCurrencyCode reports whether s is three ASCII upper-case letters, the
// shape of an ISO 4217 alphabetic code.
func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}
