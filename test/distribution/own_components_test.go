package distribution

// ownComponentTypes maps each sandwatch component import path in
// builder-config.yaml to the type it registers. A component added to the
// builder config without an entry here fails TestComponentsMatchBuilderConfig.
var ownComponentTypes = map[string]string{
	"github.com/sandwatch/sandwatch/extension/socketguardextension": "socket_guard",
}
