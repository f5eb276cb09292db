package main

import (
	"strings"
	"testing"
)

// TestOTLPEndpointUsage: a bad --otlp-endpoint stops every server role
// with a usage error (exit 2) that names the flag, before it starts.
func TestOTLPEndpointUsage(t *testing.T) {
	for _, role := range [][]string{
		{"dev", "--data", t.TempDir()},
		{"gateway", "--insecure-no-auth", "--s3-endpoint", "http://127.0.0.1:1"},
		{"runner", "--s3-endpoint", "http://127.0.0.1:1"},
	} {
		for _, bad := range []string{"collector", "ftp://collector:21", "http://u:p@collector:4318"} {
			code, _, errOut := hearthCLI(append(role, "--otlp-endpoint", bad)...)
			if code != exitUsage || !strings.Contains(errOut, "--otlp-endpoint") {
				t.Errorf("hearth %s --otlp-endpoint %s: exit %d, %q; want %d naming the flag", role[0], bad, code, errOut, exitUsage)
			}
		}
	}
}
