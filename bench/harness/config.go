package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// collectorConfig is what the harness reads of a collector config file to
// write its `yaml:` overrides: the service's extensions, its pipelines
// and the exporters it defines.
type collectorConfig struct {
	Exporters map[string]any `yaml:"exporters"`
	Service   struct {
		Extensions []string            `yaml:"extensions"`
		Pipelines  map[string]pipeline `yaml:"pipelines"`
	} `yaml:"service"`
}

type pipeline struct {
	Receivers  []string `yaml:"receivers"`
	Processors []string `yaml:"processors"`
	Exporters  []string `yaml:"exporters"`
}

func readConfig(path string) (collectorConfig, error) {
	var c collectorConfig
	data, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	if _, ok := c.Service.Pipelines["traces"]; !ok {
		return c, fmt.Errorf("%s: service::pipelines::traces: no traces pipeline to measure", path)
	}
	return c, nil
}

// override is a collector flag pair setting key to a YAML flow value.
func override(key, value string) []string {
	return []string{"--config", "yaml:" + key + ": " + value}
}

func flowList(names []string) string { return "[" + strings.Join(names, ", ") + "]" }

// noArchiveArgs take the forensic exporter (any forensic/<name>) off the
// traces pipeline and, when the load carries log records, off the logs
// pipeline: what remains is the pipeline without the archive.
func noArchiveArgs(c collectorConfig, logs bool) []string {
	signals := []string{"traces"}
	if logs {
		signals = append(signals, "logs")
	}
	var args []string
	for _, s := range signals {
		p, ok := c.Service.Pipelines[s]
		if !ok {
			continue
		}
		kept := slices.DeleteFunc(slices.Clone(p.Exporters), func(e string) bool {
			typ, _, _ := strings.Cut(e, "/")
			return typ == "forensic"
		})
		args = append(args, override("service::pipelines::"+s+"::exporters", flowList(kept))...)
	}
	return args
}

// logsPipelineArgs give a config without a logs pipeline (the passthrough
// and stock references) one for a load with log records: the traces
// pipeline's receivers and processors into the nop exporter, so that log
// records cost their receipt and processing, as spans do, and are not
// refused.
func logsPipelineArgs(c collectorConfig) []string {
	if _, ok := c.Service.Pipelines["logs"]; ok {
		return nil
	}
	t := c.Service.Pipelines["traces"]
	var args []string
	if _, ok := c.Exporters["nop"]; !ok {
		args = append(args, override("exporters::nop", "{}")...)
	}
	args = append(args, override("service::pipelines::logs::receivers", flowList(t.Receivers))...)
	args = append(args, override("service::pipelines::logs::processors", flowList(t.Processors))...)
	return append(args, override("service::pipelines::logs::exporters", "[nop]")...)
}

// pprofArgs add the pprof extension (compiled in: builder-config.yaml) on
// endpoint, beside the config's own extensions.
func pprofArgs(c collectorConfig, endpoint string) []string {
	exts := append(slices.Clone(c.Service.Extensions), "pprof")
	return append(override("extensions::pprof::endpoint", endpoint),
		override("service::extensions", flowList(exts))...)
}
