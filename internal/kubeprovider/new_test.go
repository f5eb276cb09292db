package kubeprovider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
)

// noPod makes the test look as if it ran outside a cluster, even on a CI
// runner that is a pod.
func noPod(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
}

func TestNewBadConfig(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-kubeconfig")
	tests := []struct {
		name       string
		pod        bool   // KUBERNETES_SERVICE_HOST/PORT set
		kubeconfig string // $KUBECONFIG
		cfg        Config
		want       error    // errors.Is
		says       []string // in the message
	}{
		{
			name: "no deployment",
			cfg:  Config{Namespace: "hearth"},
			want: ErrNoDeployment,
			says: []string{"Config.Deployment", "--k8s-deployment"},
		},
		{
			name:       "no cluster config",
			kubeconfig: missing,
			cfg:        Config{Deployment: "runner"},
			want:       ErrNoCluster,
			says:       []string{"KUBERNETES_SERVICE_HOST", "--kubeconfig", "$KUBECONFIG"},
		},
		{
			name: "kubeconfig file missing",
			cfg:  Config{Deployment: "runner", Kubeconfig: missing},
			want: os.ErrNotExist,
			says: []string{missing},
		},
		{
			name:       "pod without a service account",
			pod:        true,
			kubeconfig: missing,
			cfg:        Config{Deployment: "runner"},
			want:       ErrNoCluster,
			says:       []string{"in-cluster", "--kubeconfig"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			noPod(t)
			if tt.pod {
				if _, err := os.Stat("/var/run/secrets/kubernetes.io/serviceaccount/token"); err == nil {
					t.Skip("this machine has a service account token")
				}
				t.Setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
				t.Setenv("KUBERNETES_SERVICE_PORT", "443")
			}
			t.Setenv("KUBECONFIG", tt.kubeconfig)
			k, err := New(tt.cfg)
			if !errors.Is(err, tt.want) {
				t.Fatalf("New(%+v) = %v, %v; want an error wrapping %v", tt.cfg, k, err, tt.want)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

// TestNewFromKubeconfig: New reaches the cluster a kubeconfig names, given
// as Config.Kubeconfig or as $KUBECONFIG, with its credentials, and scales
// the Deployment through the scale subresource.
func TestNewFromKubeconfig(t *testing.T) {
	for _, how := range []string{"Config.Kubeconfig", "$KUBECONFIG"} {
		t.Run(how, func(t *testing.T) {
			noPod(t)
			api := newScaleServer(t, "hearth", "runner", 2)
			file := writeKubeconfig(t, api, "s3cret")
			cfg := Config{Deployment: "runner", Namespace: "hearth"}
			if how == "$KUBECONFIG" {
				t.Setenv("KUBECONFIG", file)
			} else {
				t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "not-this-one"))
				cfg.Kubeconfig = file
			}
			k, err := New(cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			ctx := context.Background()
			if n, err := k.Runners(ctx); n != 2 || err != nil {
				t.Fatalf("Runners() = %d, %v; want 2, nil", n, err)
			}
			if err := k.Scale(ctx, 5); err != nil {
				t.Fatalf("Scale(5): %v", err)
			}
			if got := api.replicas(); got != 5 {
				t.Errorf("after Scale(5) the API server holds %d replicas", got)
			}
			if n, err := k.Runners(ctx); n != 5 || err != nil {
				t.Errorf("Runners() after Scale(5) = %d, %v", n, err)
			}
			if got := api.token(); got != "Bearer s3cret" {
				t.Errorf("Authorization = %q, want the kubeconfig's token", got)
			}
		})
	}
}

// writeKubeconfig writes a kubeconfig for api, trusting its certificate.
func writeKubeconfig(t *testing.T, api *scaleServer, token string) string {
	t.Helper()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw})
	file := filepath.Join(t.TempDir(), "kubeconfig")
	text := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: %s
    certificate-authority-data: %s
contexts:
- name: test
  context:
    cluster: test
    user: test
users:
- name: test
  user:
    token: %s
current-context: test
`, api.URL, base64.StdEncoding.EncodeToString(ca), token)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// scaleServer is the part of a Kubernetes API server the provider uses: the
// scale subresource of one Deployment.
type scaleServer struct {
	*httptest.Server
	mu      sync.Mutex
	n       int32
	version int
	auth    string
}

func newScaleServer(t *testing.T, ns, name string, replicas int32) *scaleServer {
	s := &scaleServer{n: replicas, version: 1}
	path := fmt.Sprintf("/apis/apps/v1/namespaces/%s/deployments/%s/scale", ns, name)
	reply := func(w http.ResponseWriter) { // holds s.mu
		sc := autoscalingv1.Scale{
			TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: fmt.Sprint(s.version)},
			Spec:       autoscalingv1.ScaleSpec{Replicas: s.n},
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(sc)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.auth = r.Header.Get("Authorization")
		reply(w)
	})
	mux.HandleFunc("PUT "+path, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.auth = r.Header.Get("Authorization")
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// client-go sends protobuf; its scheme's deserializer reads that or JSON.
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
		sc, ok := obj.(*autoscalingv1.Scale)
		if err != nil || !ok {
			t.Errorf("PUT %s (%s): %T, %v; want a Scale", r.URL.Path, r.Header.Get("Content-Type"), obj, err)
			http.Error(w, "want a Scale", http.StatusBadRequest)
			return
		}
		s.n = sc.Spec.Replicas
		s.version++
		reply(w)
	})
	s.Server = httptest.NewTLSServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *scaleServer) replicas() int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *scaleServer) token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auth
}
