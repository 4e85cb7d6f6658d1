package bench

import (
	"time"
)

// ReportSchemaVersion is the version of Report's JSON.
const ReportSchemaVersion = 1

// Report is the whole outcome of `gpuplan bench`, as printed with -o json
// and rendered by WriteHTML.
type Report struct {
	SchemaVersion int            `json:"schema_version"`
	StartedAt     time.Time      `json:"started_at"`
	Target        ReportTarget   `json:"target"`
	Workload      ReportWorkload `json:"workload"`
	SLO           *SLO           `json:"slo,omitempty"`
	Levels        []LevelResult  `json:"levels"`
	// Comparison sets measurements next to the plan's predictions
	// (--plan); Plan identifies the deployment the plan was for.
	Comparison []Comparison    `json:"comparison,omitempty"`
	Plan       *CalibrationKey `json:"plan,omitempty"`
	Notes      []string        `json:"notes,omitempty"`
	// Interrupted is true when the run was stopped early; the levels hold
	// everything that completed.
	Interrupted bool `json:"interrupted,omitempty"`
	// Predictions are kept for the report's charts.
	Predictions []Prediction `json:"-"`
}

// ReportTarget describes the endpoint (never the credential).
type ReportTarget struct {
	Endpoint string `json:"endpoint"`
	API      API    `json:"api"`
	Model    string `json:"model"`
	Stream   bool   `json:"stream"`
	Azure    bool   `json:"azure,omitempty"`
}

// ReportWorkload describes what was sent.
type ReportWorkload struct {
	// Prompts is "synthetic" or the prompts file's name.
	Prompts string `json:"prompts"`
	// InputTokens is the requested synthetic prompt length; TokenCounting
	// says how lengths were obtained.
	InputTokens   int    `json:"input_tokens,omitempty"`
	OutputTokens  int    `json:"output_tokens"`
	TokenCounting string `json:"token_counting"`
	// ForceOutputLength tells whether ignore_eos/min_tokens were sent.
	ForceOutputLength bool    `json:"force_output_length"`
	RequestsPerLevel  int     `json:"requests_per_level"`
	DurationS         float64 `json:"max_duration_per_level_s"`
	Warmup            int     `json:"warmup_requests_per_level"`
	TimeoutS          float64 `json:"request_timeout_s"`
	Seed              uint64  `json:"seed"`
}
