// Package cost turns prices into the figures a serving decision needs:
// self-hosted $/month and $ per million tokens at a load, Azure OpenAI
// pay-as-you-go (PAYG) cost for a monthly token volume, provisioned
// throughput (PTU) sizing with Microsoft's documented formula, the monthly
// PTU cost on each purchase term, and the volume at which PTU and PAYG cost
// the same.
//
// Money values carry their currency, the date of the oldest price they were
// computed from, whether any of those prices is a third-party (unverified)
// figure, and the sources. A price no source states is never guessed: the
// functions return an *UnknownPriceError that names the --catalog entry
// which supplies it.
//
// The PTU parameters and Azure OpenAI prices are embedded (data/*.yaml),
// each row with a source and an as_of date; Default returns them and
// Book.Merge overlays a user's --catalog section "azure_openai". The
// formulas, conventions and sources are documented in docs/cost.md.
//
// Conventions: a month is 730 hours (hardware.HoursPerMonth, Azure's
// pricing calculator month), so a month has 730/24 = 30.42 days; token
// prices are per million tokens; fractions (cache rate) are 0–1.
//
// PTUReport (NewPTUReport) is the comparison laid out as `gpuplan ptu`
// prints it with -o json and the HTTP API answers it.
package cost
