package main

import (
	"context"
	"strings"

	"github.com/spf13/pflag"

	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/perf"
	"github.com/gpuplan/gpuplan/plan"
)

// bigFlags are the flags of large deployments: the VM size whose fabric
// joins the GPUs, MoE expert and attention-data parallelism, speculative
// decoding.
type bigFlags struct {
	vm          string
	ep          int
	dpAttention bool
	speculative string
	specTokens  int
	acceptance  float64
}

func addMoEFlags(fl *pflag.FlagSet, f *bigFlags) {
	fl.IntVar(&f.ep, "ep", 1, "expert-parallel degree of an MoE model (1: experts split by TP); vLLM --enable-expert-parallel, SGLang --ep-size")
	fl.BoolVar(&f.dpAttention, "dp-attention", false, "run attention data-parallel across the TP group (vLLM --data-parallel-size, SGLang --enable-dp-attention)")
}

func addSpecFlags(fl *pflag.FlagSet, f *bigFlags) {
	fl.StringVar(&f.speculative, "speculative", "", "speculative decoding: draft:MODEL, eagle, eagle:MODEL or mtp")
	fl.IntVar(&f.specTokens, "spec-tokens", 3, "tokens proposed per step with --speculative (1-16)")
	fl.Float64Var(&f.acceptance, "acceptance-rate", -1, "per-token acceptance probability with --speculative (0-1; required with it)")
}

// applyPerf sets req's fabric, MoE layout and speculative decoding from
// the flags; resolve looks up a draft model.
func (f bigFlags) applyPerf(ctx context.Context, resolve func(context.Context, string) (*model.Spec, error), req *perf.Request) error {
	req.EP, req.DPAttention = f.ep, f.dpAttention
	if f.vm != "" {
		v, err := hardware.LookupVM(f.vm)
		if err != nil {
			return usageErr(err)
		}
		if v.GPU != req.GPU.ID {
			return usageErrf("--vm %s carries %s GPUs, not --gpu %s", v.Name, v.GPU, req.GPU.ID)
		}
		fab, ok := hardware.LookupFabric(v.Name)
		if !ok {
			return usageErrf("--vm %s has no stated GPU-to-GPU and VM-to-VM links (hardware/data/fabrics.yaml lists the sizes that have)", v.Name)
		}
		req.Fabric, req.GPUsPerVM = &fab, v.GPUCount
	}
	if f.speculative == "" {
		if f.acceptance >= 0 {
			return usageErrf("--acceptance-rate needs --speculative")
		}
		return nil
	}
	if !(f.acceptance >= 0 && f.acceptance <= 1) {
		return usageErrf("--speculative needs --acceptance-rate between 0 and 1 (the probability that each proposed token is accepted)")
	}
	method, ref, _ := strings.Cut(f.speculative, ":")
	s := &perf.Speculative{Method: strings.ToLower(method), Tokens: f.specTokens, AcceptanceRate: f.acceptance}
	switch s.Method {
	case perf.SpecDraft, perf.SpecEAGLE:
		if ref == "" && s.Method == perf.SpecDraft {
			return usageErrf("--speculative draft:MODEL needs the draft model's id")
		}
		if ref != "" {
			m, err := resolve(ctx, ref)
			if err != nil {
				return err
			}
			s.Draft = m
		}
	case perf.SpecMTP:
		if ref != "" {
			return usageErrf("--speculative mtp takes no model: the target's own MTP layers propose")
		}
	default:
		return usageErrf("--speculative %q: want draft:MODEL, eagle, eagle:MODEL or mtp", f.speculative)
	}
	req.Speculative = s
	return nil
}

// applyPlan sets a plan request's MoE layout and speculative decoding from
// the flags (the planner then searches the other layouts only when neither
// --ep nor --dp-attention is given).
func (f bigFlags) applyPlan(ctx context.Context, resolve func(context.Context, string) (*model.Spec, error), req *plan.Request) error {
	var pr perf.Request
	if err := f.applyPerf(ctx, resolve, &pr); err != nil {
		return err
	}
	if pr.EP > 1 {
		req.EP = pr.EP
	}
	req.DPAttention, req.Speculative = pr.DPAttention, pr.Speculative
	return nil
}
