package distribution

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/sandwatch/sandwatch/test/testutil"
)

type builderEntry struct {
	GoMod  string `yaml:"gomod"`
	Import string `yaml:"import"`
}

type builderConfig struct {
	Receivers  []builderEntry `yaml:"receivers"`
	Processors []builderEntry `yaml:"processors"`
	Exporters  []builderEntry `yaml:"exporters"`
	Connectors []builderEntry `yaml:"connectors"`
	Extensions []builderEntry `yaml:"extensions"`
	Providers  []builderEntry `yaml:"providers"`
}

type listed struct {
	Name   string `yaml:"name"`
	Module string `yaml:"module"`
}

type componentsOutput struct {
	Receivers  []listed `yaml:"receivers"`
	Processors []listed `yaml:"processors"`
	Exporters  []listed `yaml:"exporters"`
	Connectors []listed `yaml:"connectors"`
	Extensions []listed `yaml:"extensions"`
	Providers  []listed `yaml:"providers"`
}

// The binary's component list and builder-config.yaml must agree: every
// module the config names is compiled in, nothing else is, and every
// sandwatch component the config imports registers its type.
func TestComponentsMatchBuilderConfig(t *testing.T) {
	bin := testutil.Binary(t, "SANDWATCH_BIN")
	raw, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "builder-config.yaml"))
	require.NoError(t, err)
	var cfg builderConfig
	require.NoError(t, yaml.Unmarshal(raw, &cfg))

	out, err := exec.Command(bin, "components").Output()
	require.NoError(t, err)
	var got componentsOutput
	require.NoError(t, yaml.Unmarshal(out, &got))

	sections := []struct {
		name   string
		want   []builderEntry
		listed []listed
	}{
		{"receivers", cfg.Receivers, got.Receivers},
		{"processors", cfg.Processors, got.Processors},
		{"exporters", cfg.Exporters, got.Exporters},
		{"connectors", cfg.Connectors, got.Connectors},
		{"extensions", cfg.Extensions, got.Extensions},
		{"providers", cfg.Providers, got.Providers},
	}
	for _, s := range sections {
		var want, have []string
		for _, e := range s.want {
			want = append(want, strings.Join(strings.Fields(e.GoMod), " "))
		}
		for _, l := range s.listed {
			have = append(have, l.Module)
		}
		slices.Sort(want)
		want = slices.Compact(want)
		slices.Sort(have)
		have = slices.Compact(have)
		assert.Equal(t, want, have, "%s: builder-config.yaml and `sandwatch components` disagree", s.name)

		// Each of our own components appears under its type.
		var names []string
		for _, l := range s.listed {
			names = append(names, l.Name)
		}
		for _, e := range s.want {
			if e.Import == "" {
				continue
			}
			typ, ok := ownComponentTypes[e.Import]
			if !assert.True(t, ok, "%s: add %s to ownComponentTypes", s.name, e.Import) {
				continue
			}
			assert.Contains(t, names, typ, "%s: %s not in the binary", s.name, typ)
		}
	}
	// The stock components a team relies on are in.
	for _, typ := range []string{"otlp", "prometheus"} {
		assert.Contains(t, namesOf(got.Receivers), typ)
	}
	for _, typ := range []string{"batch", "memory_limiter", "redaction", "resource", "groupbyattrs", "delta_to_cumulative"} {
		assert.Contains(t, namesOf(got.Processors), typ)
	}
	for _, typ := range []string{"otlp_grpc", "otlp_http", "debug", "prometheus", "prometheus_remote_write"} {
		assert.Contains(t, namesOf(got.Exporters), typ)
	}
	for _, typ := range []string{"forward", "span_metrics"} {
		assert.Contains(t, namesOf(got.Connectors), typ)
	}
	for _, typ := range []string{"file_storage", "health_check", "pprof", "zpages", "bearertokenauth", "basicauth"} {
		assert.Contains(t, namesOf(got.Extensions), typ)
	}
}

func namesOf(ls []listed) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Name)
	}
	return out
}
