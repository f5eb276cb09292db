package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestProviderFlags: the gateway's --provider and its companions are
// checked before anything starts; a Kubernetes provider without a cluster
// to reach says what to set.
func TestProviderFlags(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	t.Setenv("HEARTH_PROVIDER", "")
	base := []string{"gateway", "--nats", "nats://127.0.0.1:1", "--s3-endpoint", "http://127.0.0.1:1"}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--provider", "nomad", "--autoscale", "predictive"}, 2, "use process or kubernetes"},
		{[]string{"--provider", "kubernetes", "--k8s-deployment", "runners"}, 2, "needs --autoscale"},
		{[]string{"--provider", "kubernetes", "--autoscale", "predictive"}, 2, "--k8s-deployment"},
		{[]string{"--k8s-deployment", "runners"}, 2, "needs --provider kubernetes"},
		{[]string{"--provider", "process", "--autoscale", "predictive", "--min-runners", "3", "--max-runners", "2"}, 2, "above --max-runners"},
		{[]string{"--provider", "kubernetes", "--autoscale", "predictive", "--k8s-deployment", "runners",
			"--kubeconfig", filepath.Join(t.TempDir(), "missing")}, 1, "missing"},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), append(append([]string{}, base...), c.args...), &bytes.Buffer{}, &stderr)
		if code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, stderr.String(), c.code, c.want)
		}
	}
}
