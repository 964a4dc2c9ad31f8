package registry_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPluginsImportOnlySDK keeps the plugin boundary: our plugins and the SDK
// examples are built the way a vendor builds, against sdk/ only.
func TestPluginsImportOnlySDK(t *testing.T) {
	const mod = "github.com/sipstreams/sipstreams/"
	out, err := exec.Command("go", "list", "-deps", "../plugins/...", "../sdk/...").CombinedOutput()
	if err != nil && !strings.Contains(string(out), "matched no packages") {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list printed nothing")
	}
	sawSDK := false
	for _, d := range deps {
		if d == mod+"sdk" {
			sawSDK = true
		}
		for _, host := range []string{"framework", "registry", "cmd"} {
			if d == mod+host || strings.HasPrefix(d, mod+host+"/") {
				t.Errorf("plugins or sdk depend on host package %s", d)
			}
		}
	}
	if !sawSDK {
		t.Errorf("the sdk package is not among the dependencies: %v", deps)
	}
}
