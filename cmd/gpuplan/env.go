package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/gpuplan/gpuplan/cachedir"
	"github.com/gpuplan/gpuplan/catalog"
	"github.com/gpuplan/gpuplan/cost"
	"github.com/gpuplan/gpuplan/hardware"
	"github.com/gpuplan/gpuplan/model"
	"github.com/gpuplan/gpuplan/model/hfhub"
)

// catalogs holds the embedded catalogs with the --catalog overlay applied,
// loaded once per run.
type catalogs struct {
	once sync.Once
	err  error
	c    catalog.Catalogs
}

func (a *app) loadAll() (catalog.Catalogs, error) {
	a.cats.once.Do(func() {
		mc, err := model.EmbeddedCatalog()
		if err != nil {
			a.cats.err = fmt.Errorf("load the embedded model catalog: %w", err)
			return
		}
		c := catalog.Catalogs{Models: mc, Hardware: hardware.Default(), Costs: cost.Default()}
		if a.catalogFile != "" {
			f, err := catalog.Load(a.catalogFile)
			if err != nil {
				a.cats.err = usageErr(err)
				return
			}
			if c, err = f.Apply(c, a.Now()); err != nil {
				a.cats.err = usageErr(err)
				return
			}
		}
		a.cats.c = c
	})
	return a.cats.c, a.cats.err
}

func (a *app) loadCatalogs() (*model.Catalog, *hardware.Catalog, error) {
	c, err := a.loadAll()
	return c.Models, c.Hardware, err
}

// costBook is the Azure OpenAI PTU/PAYG book with the --catalog file's
// azure_openai section merged.
func (a *app) costBook() (*cost.Book, error) {
	c, err := a.loadAll()
	return c.Costs, err
}

// cacheDir is this run's cache directory (package cachedir decides it
// from the run's environment).
func (a *app) cacheDir() (string, error) {
	return cachedir.Dir(a.Getenv)
}

// hubClient is the Hugging Face client of this run, caching under
// dir/hf. For an API request it keeps the Hub's own error text out of
// messages, which the server relays to its clients.
func (a *app) hubClient(dir string) *hfhub.Client {
	hub := hfhub.FromEnv(a.Getenv, filepath.Join(dir, "hf"))
	hub.OmitServerMessages = a.api
	hub.Warn = func(msg string) { fmt.Fprintln(a.Stderr, "Warning:", msg) }
	return hub
}

// apiMaxHeaderBytes bounds the safetensors header bytes one API request
// may read (all shards together): several times the largest public
// checkpoints' headers (DeepSeek-V3's ~92k tensor entries take about
// 11 MB), so every real model is served, and small enough
// that the default two slots cannot be made to hold gigabytes.
const apiMaxHeaderBytes = 64 << 20

// maxHeaderBytes is the header budget of one resolution: bounded for API
// requests, the library default for the CLI.
func (a *app) maxHeaderBytes() int64 {
	if a.api {
		return apiMaxHeaderBytes
	}
	return 0
}

// resolveModel turns the MODEL argument into a Spec: catalog, local file or
// directory, GGUF URL, or Hugging Face id (config and safetensors headers by
// range requests, cached on disk so a second run works offline).
func (a *app) resolveModel(ctx context.Context, ref string) (*model.Spec, error) {
	mc, _, err := a.loadCatalogs()
	if err != nil {
		return nil, err
	}
	dir, err := a.cacheDir()
	if err != nil {
		return nil, err
	}
	hub := a.hubClient(dir)
	spec, err := model.Resolve(ctx, ref, model.ResolveOptions{Catalog: mc, Hub: hub, Offline: a.offline, ReadHeaders: true, CatalogAndHubOnly: a.api, MaxHeaderBytes: a.maxHeaderBytes()})
	if err != nil {
		if errors.Is(err, model.ErrNotInCatalog) {
			return nil, usageErr(err)
		}
		return nil, err
	}
	return spec, nil
}
