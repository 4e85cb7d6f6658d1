package memory

import "testing"

// The seed's table (reference seed document, "VRAM Sizing Formula"):
// 7B → 28/14/7/3.5 GB, 13B → 52/26/13/6.5 GB, 70B → 280/140/70/35 GB at
// FP32/FP16/INT8/INT4, plus 20% for the rule's total.
func TestRuleOfThumbTable(t *testing.T) {
	rows, err := RuleOfThumbTable([]string{"7B", "13B", "70B"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][4]float64{
		"7B":  {28, 14, 7, 3.5},
		"13B": {52, 26, 13, 6.5},
		"70B": {280, 140, 70, 35},
	}
	for _, r := range rows {
		w := want[r.Label]
		for i, c := range r.Cells {
			if got := c.Weights.GB(); got != w[i] {
				t.Errorf("%s %s weights = %v GB, want %v", r.Label, RuleOfThumbPrecisions[i], got, w[i])
			}
			if got, exp := c.WithOverhead.GB(), w[i]*1.2; got < exp-1e-9 || got > exp+1e-9 {
				t.Errorf("%s %s with 20%% = %v GB, want %v", r.Label, RuleOfThumbPrecisions[i], got, exp)
			}
		}
	}
	// 70B at INT8: the guide's "84 GB" (70 GB + 20%).
	if got := rows[2].Cells[2].WithOverhead.GB(); got != 84 {
		t.Errorf("70B int8 + 20%% = %v GB, want 84", got)
	}
}

func TestParseParamCount(t *testing.T) {
	for in, want := range map[string]int64{"7B": 7e9, "1.5b": 1.5e9, "500M": 5e8, "405B": 405e9, "123": 123} {
		got, err := ParseParamCount(in)
		if err != nil || got != want {
			t.Errorf("ParseParamCount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "B", "-7B", "7X", "1e20B"} {
		if _, err := ParseParamCount(bad); err == nil {
			t.Errorf("ParseParamCount(%q) succeeded", bad)
		}
	}
}
