package baselineconnector

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/sandwatch/sandwatch/connector/baselineconnector/internal/detect"
)

// processCache reads the sandbox host process of a resource (the
// semantic-convention attributes host.name and process.pid) once per
// resource: a batch holds many spans under one resource.
type processCache struct {
	res pcommon.Resource
	pr  detect.Process
	ok  bool
	set bool
}

func (c *processCache) of(res pcommon.Resource) (detect.Process, bool) {
	if c.set && c.res == res {
		return c.pr, c.ok
	}
	c.res, c.set, c.pr, c.ok = res, true, detect.Process{}, false
	attrs := res.Attributes()
	pid, ok := attrs.Get("process.pid")
	if !ok {
		return c.pr, false
	}
	host, _ := attrs.Get("host.name")
	switch pid.Type() {
	case pcommon.ValueTypeInt:
		c.pr.PID = pid.Int()
	case pcommon.ValueTypeDouble:
		c.pr.PID = int64(pid.Double())
	case pcommon.ValueTypeStr:
		for _, ch := range []byte(pid.Str()) {
			if ch < '0' || ch > '9' || c.pr.PID > 1<<40 {
				c.pr.PID = 0
				break
			}
			c.pr.PID = c.pr.PID*10 + int64(ch-'0')
		}
	}
	c.pr.Host = host.AsString()
	c.ok = c.pr.PID > 0
	return c.pr, c.ok
}
