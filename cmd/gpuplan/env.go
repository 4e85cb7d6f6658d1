package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/gpuplan/gpuplan/catalog"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
)

// catalogs holds the embedded catalogs with the --catalog overlay applied,
// loaded once per run.
type catalogs struct {
	once     sync.Once
	err      error
	models   *model.Catalog
	hardware *hardware.Catalog
}

func (a *app) loadCatalogs() (*model.Catalog, *hardware.Catalog, error) {
	a.cats.once.Do(func() {
		mc, err := model.EmbeddedCatalog()
		if err != nil {
			a.cats.err = fmt.Errorf("load the embedded model catalog: %w", err)
			return
		}
		hc := hardware.Default()
		if a.catalogFile != "" {
			f, err := catalog.Load(a.catalogFile)
			if err != nil {
				a.cats.err = usageErr(err)
				return
			}
			if mc, hc, err = f.Apply(mc, hc, a.Now()); err != nil {
				a.cats.err = usageErr(err)
				return
			}
		}
		a.cats.models, a.cats.hardware = mc, hc
	})
	return a.cats.models, a.cats.hardware, a.cats.err
}

// cacheDir is GPUPLAN_CACHE_DIR, else os.UserCacheDir()/gpuplan.
func (a *app) cacheDir() (string, error) {
	if d := a.Getenv("GPUPLAN_CACHE_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a cache directory (set GPUPLAN_CACHE_DIR): %w", err)
	}
	return filepath.Join(base, "gpuplan"), nil
}

// resolveModel turns the MODEL argument into a Spec.
func (a *app) resolveModel(ctx context.Context, ref string) (*model.Spec, error) {
	mc, _, err := a.loadCatalogs()
	if err != nil {
		return nil, err
	}
	spec, _, err := mc.Lookup(ref)
	if err != nil {
		return nil, usageErr(err)
	}
	return spec, nil
}
