package distribution

// ownComponentTypes maps each sandwatch component import path in
// builder-config.yaml to the type it registers. A component added to the
// builder config without an entry here fails TestComponentsMatchBuilderConfig.
var ownComponentTypes = map[string]string{
	"github.com/sandwatch/sandwatch/extension/socketguardextension":    "socket_guard",
	"github.com/sandwatch/sandwatch/processor/scrubprocessor":          "scrub",
	"github.com/sandwatch/sandwatch/processor/identityprocessor":       "identity",
	"github.com/sandwatch/sandwatch/processor/classifyonceprocessor":   "classify_once",
	"github.com/sandwatch/sandwatch/connector/sandboxmetricsconnector": "sandbox_metrics",
	"github.com/sandwatch/sandwatch/connector/baselineconnector":       "baseline",
	"github.com/sandwatch/sandwatch/exporter/forensicexporter":         "forensic",
	"github.com/sandwatch/sandwatch/extension/forensicqueryextension":  "forensic_query",
}
