package provider

import (
	"strings"
	"testing"
)

// TestChildEnvironHasNoGatewayKeys: runners the process provider starts do
// not inherit the keys only a gateway uses.
func TestChildEnvironHasNoGatewayKeys(t *testing.T) {
	t.Setenv("HEARTH_ADMIN_KEY", "admin-key-value")
	t.Setenv("HEARTH_SECRETS_KEY", "secrets-key-value")
	t.Setenv("HEARTH_API_KEY", "api-key-value")
	t.Setenv("HEARTH_S3_ENDPOINT", "http://127.0.0.1:1")
	env := strings.Join(childEnviron(), "\n")
	for _, v := range []string{"admin-key-value", "secrets-key-value", "api-key-value"} {
		if strings.Contains(env, v) {
			t.Errorf("a runner would inherit %s", v)
		}
	}
	if !strings.Contains(env, "HEARTH_S3_ENDPOINT=http://127.0.0.1:1") {
		t.Error("a runner would not inherit the rest of the environment")
	}
}
