package kubernetes_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hearthfn/hearth/internal/jsopen"

	"github.com/nats-io/nats-server/v2/server"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	k8sresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/hearthfn/hearth/gateway/secrets"
	"github.com/hearthfn/hearth/internal/kubeprovider"
	"github.com/hearthfn/hearth/internal/limits"
)

// Names the checks rely on: the workloads of base/.
const (
	gatewayName = "hearth-gateway"
	runnerName  = "hearth-runner"
	natsName    = "nats"
	minioName   = "minio"
)

// install is an overlay built in a copy of deploy/kubernetes, with the
// secret files its generate.sh wrote there.
type install struct {
	dir string // the copy of deploy/kubernetes
	res []resource
}

// copyTree copies deploy/kubernetes to dst, leaving out the secret files
// an operator may have made in the working tree.
func copyTree(t testing.TB, dst string) {
	t.Helper()
	src, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if filepath.Base(filepath.Dir(path)) == "secrets" && d.Name() != "generate.sh" && d.Name() != ".gitignore" {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// buildInstall copies deploy/kubernetes, lets edit change the copy, runs
// the overlay's secrets/generate.sh and builds the overlay.
func buildInstall(t testing.TB, overlay string, edit func(dir string)) *install {
	t.Helper()
	dir := t.TempDir()
	copyTree(t, dir)
	if edit != nil {
		edit(dir)
	}
	gen := filepath.Join(dir, overlay, "secrets/generate.sh")
	if out, err := exec.Command("sh", gen).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", gen, err, out)
	}
	res, err := build(filepath.Join(dir, overlay))
	if err != nil {
		t.Fatal(err)
	}
	return &install{dir: dir, res: res}
}

// get returns the object of type T named name, failing the test without it.
func get[T runtime.Object](t testing.TB, in *install, name string) T {
	t.Helper()
	for _, r := range in.res {
		if o, ok := r.obj.(T); ok && r.meta().GetName() == name {
			return o
		}
	}
	var zero T
	t.Fatalf("no %T %s in the build", zero, name)
	return zero
}

// all returns the objects of type T.
func all[T runtime.Object](in *install) []T {
	var out []T
	for _, r := range in.res {
		if o, ok := r.obj.(T); ok {
			out = append(out, o)
		}
	}
	return out
}

// workload is a Deployment or StatefulSet, seen through what the checks use.
type workload struct {
	kind, name, namespace string
	selector              *metav1.LabelSelector
	template              *corev1.PodTemplateSpec
	replicas              *int32
}

func workloads(in *install) []workload {
	var out []workload
	for _, d := range all[*appsv1.Deployment](in) {
		out = append(out, workload{"Deployment", d.Name, d.Namespace, d.Spec.Selector, &d.Spec.Template, d.Spec.Replicas})
	}
	for _, s := range all[*appsv1.StatefulSet](in) {
		out = append(out, workload{"StatefulSet", s.Name, s.Namespace, s.Spec.Selector, &s.Spec.Template, s.Spec.Replicas})
	}
	return out
}

// selected returns the workloads whose pods sel selects in namespace ns.
func selected(t testing.TB, in *install, ns string, sel *metav1.LabelSelector) []workload {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatal(err)
	}
	var out []workload
	for _, w := range workloads(in) {
		if w.namespace == ns && s.Matches(labels.Set(w.template.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

func container(t testing.TB, spec *corev1.PodSpec, name string) *corev1.Container {
	t.Helper()
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	t.Fatalf("no container %s", name)
	return nil
}

// flagValue returns the value of --name=value in args.
func flagValue(t testing.TB, args []string, name string) string {
	t.Helper()
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v
		}
	}
	t.Fatalf("no --%s= in %q", name, args)
	return ""
}

// containerPort resolves a probe's or a Service's port (a number or a
// name) among a container's ports.
func containerPort(t testing.TB, c *corev1.Container, p intstr.IntOrString) int32 {
	t.Helper()
	for _, cp := range c.Ports {
		if (p.Type == intstr.String && cp.Name == p.StrVal) || (p.Type == intstr.Int && cp.ContainerPort == p.IntVal) {
			return cp.ContainerPort
		}
	}
	t.Fatalf("container %s has no port %s", c.Name, p.String())
	return 0
}

func portOf(t testing.TB, hostport string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatalf("%q: %v", hostport, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return int32(n)
}

// shutdownTimeout reads cmd/hearth's shutdownTimeout, the longest a role
// drains after SIGTERM, from its source.
func shutdownTimeout(t testing.TB) time.Duration {
	t.Helper()
	path := filepath.Join(repoRoot(t), "cmd/hearth/roles.go")
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var d time.Duration
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "shutdownTimeout" || len(vs.Values) != 1 {
			return true
		}
		// N * time.Second
		if b, ok := vs.Values[0].(*ast.BinaryExpr); ok && b.Op == token.MUL {
			lit, ok1 := b.X.(*ast.BasicLit)
			sel, ok2 := b.Y.(*ast.SelectorExpr)
			units := map[string]time.Duration{"Second": time.Second, "Minute": time.Minute}
			if ok1 && ok2 && units[sel.Sel.Name] != 0 {
				n, _ := strconv.Atoi(lit.Value)
				d = time.Duration(n) * units[sel.Sel.Name]
			}
		}
		return false
	})
	if d == 0 {
		t.Fatalf("%s: no shutdownTimeout = N * time.Second|Minute", path)
	}
	return d
}

// TestManifestsDecode decodes every manifest of deploy/kubernetes, patches
// included, strictly into the types of k8s.io/api (an unknown or
// misspelt field fails), and builds base/, which needs no secrets.
func TestManifestsDecode(t *testing.T) {
	n := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".yaml" || d.Name() == "kustomization.yaml" {
			return err
		}
		res, err := decodeFile(path)
		if err != nil {
			t.Error(err)
		}
		if len(res) == 0 {
			t.Errorf("%s: no objects", path)
		}
		n += len(res)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Errorf("decoded %d objects, expected the whole install", n)
	}
	if _, err := build("base"); err != nil {
		t.Fatal(err)
	}
}

// TestGenerateSecrets runs overlays/small/secrets/generate.sh and checks
// each value is one the role that reads it accepts, and that a second run
// keeps them.
func TestGenerateSecrets(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	gen := filepath.Join(dir, "overlays/small/secrets/generate.sh")
	read := func() map[string]string {
		m := map[string]string{}
		for _, name := range []string{"admin-key", "secrets-key", "nats-password", "s3-access-key", "s3-secret-key"} {
			path := filepath.Join(filepath.Dir(gen), name)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm()&0o077 != 0 {
				t.Errorf("%s: mode %v, want readable by its owner only", name, fi.Mode().Perm())
			}
			m[name] = string(b)
		}
		return m
	}
	if out, err := exec.Command("sh", gen).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	first := read()
	alnum := regexp.MustCompile(`^[0-9a-f]+$`)
	for name, v := range first {
		if strings.ContainsAny(v, " \n\r\t") {
			t.Errorf("%s %q has blanks or a newline: the env var would carry them", name, v)
		}
	}
	if len(first["admin-key"]) < 32 {
		t.Errorf("admin-key has %d characters, the gateway wants at least 32", len(first["admin-key"]))
	}
	if _, err := secrets.ParseKey(first["secrets-key"]); err != nil {
		t.Errorf("secrets-key: %v", err)
	}
	for _, name := range []string{"nats-password", "s3-secret-key"} {
		if v := first[name]; len(v) < 16 || !alnum.MatchString(v) {
			t.Errorf("%s %q: want 16 or more hex characters", name, v)
		}
	}
	if len(first["s3-access-key"]) < 3 {
		t.Errorf("s3-access-key %q: MinIO wants at least 3 characters", first["s3-access-key"])
	}
	if out, err := exec.Command("sh", gen).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if again := read(); !maps.Equal(first, again) {
		t.Error("a second run changed the keys")
	}
}

// TestSmallOverlay checks the wiring of overlays/small.
func TestSmallOverlay(t *testing.T) {
	in := buildInstall(t, "overlays/small", nil)
	checkInstall(t, in, true)
	if d := get[*appsv1.Deployment](t, in, runnerName); d.Spec.Replicas != nil {
		t.Errorf("the runner Deployment sets replicas %d: kubectl apply would undo the autoscaler's", *d.Spec.Replicas)
	}
	// Small means small: fewer calls per runner and fewer runners than base.
	b := buildInstall(t, "overlays/small", withoutPatches(t))
	conc := func(in *install) string {
		return flagValue(t, container(t, &get[*appsv1.Deployment](t, in, runnerName).Spec.Template.Spec, "runner").Args, "concurrency")
	}
	maxRunners := func(in *install) string {
		return flagValue(t, container(t, &get[*appsv1.Deployment](t, in, gatewayName).Spec.Template.Spec, "gateway").Args, "max-runners")
	}
	if c, bc := conc(in), conc(b); atoi(t, c) >= atoi(t, bc) {
		t.Errorf("small runs %s calls per runner, base %s", c, bc)
	}
	if m, bm := maxRunners(in), maxRunners(b); atoi(t, m) >= atoi(t, bm) {
		t.Errorf("small has up to %s runners, base %s", m, bm)
	}
}

// withoutPatches edits a copy of deploy/kubernetes: overlays/small without
// its patches, which is base/ as it is, with the overlay's namespace,
// MinIO and secrets.
func withoutPatches(t testing.TB) func(dir string) {
	return func(dir string) {
		t.Helper()
		k := filepath.Join(dir, "overlays/small/kustomization.yaml")
		data, err := os.ReadFile(k)
		if err != nil {
			t.Fatal(err)
		}
		s := regexp.MustCompile(`(?m)^patches:\n(  - path: .*\n)+`).ReplaceAllString(string(data), "")
		if s == string(data) {
			t.Fatal("no patches: in overlays/small/kustomization.yaml")
		}
		if err := os.WriteFile(k, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBase checks the wiring of base/ itself, unpatched (the overlay's
// patches replace whole argument lists, which would hide base's).
func TestBase(t *testing.T) {
	checkInstall(t, buildInstall(t, "overlays/small", withoutPatches(t)), true)
}

// TestExternalS3 does what docs/operations.md says for an external S3:
// the overlay without components/minio, and hearth-config's s3-endpoint
// patched. Nothing may then refer to MinIO.
func TestExternalS3(t *testing.T) {
	const endpoint = "https://s3.example.com"
	in := buildInstall(t, "overlays/small", func(dir string) {
		k := filepath.Join(dir, "overlays/small/kustomization.yaml")
		data, err := os.ReadFile(k)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.Replace(string(data), "  - ../../components/minio\n", "", 1)
		s = strings.Replace(s, "patches:\n", "patches:\n  - path: s3.yaml\n", 1)
		if s == string(data) {
			t.Fatal("kustomization.yaml no longer has the lines docs/operations.md says to change")
		}
		patch := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hearth-config\ndata:\n  s3-endpoint: " + endpoint + "\n"
		for path, content := range map[string]string{k: s, filepath.Join(dir, "overlays/small/s3.yaml"): patch} {
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	for _, r := range in.res {
		if strings.Contains(r.meta().GetName(), "minio") {
			t.Errorf("%s is still there", r.key())
		}
	}
	if got := get[*corev1.ConfigMap](t, in, "hearth-config").Data["s3-endpoint"]; got != endpoint {
		t.Errorf("s3-endpoint %q", got)
	}
	checkInstall(t, in, false)
}

func atoi(t testing.TB, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// checkInstall checks everything that must hold of a complete install.
func checkInstall(t *testing.T, in *install, withMinIO bool) {
	t.Run("Selectors", func(t *testing.T) { checkSelectors(t, in) })
	t.Run("Services", func(t *testing.T) { checkServices(t, in) })
	t.Run("References", func(t *testing.T) { checkReferences(t, in) })
	t.Run("Gateway", func(t *testing.T) { checkGateway(t, in) })
	t.Run("Runner", func(t *testing.T) { checkRunner(t, in) })
	t.Run("RunnerSizing", func(t *testing.T) { checkRunnerSizing(t, in) })
	t.Run("RBAC", func(t *testing.T) { checkRBAC(t, in) })
	t.Run("NATS", func(t *testing.T) { checkNATS(t, in) })
	t.Run("Connections", func(t *testing.T) { checkConnections(t, in, withMinIO) })
	t.Run("Security", func(t *testing.T) { checkSecurity(t, in) })
	t.Run("Flags", func(t *testing.T) { checkFlags(t, in) })
	t.Run("Scraping", func(t *testing.T) { checkScraping(t, in) })
}

// checkSelectors: every workload's selector selects its own pods and no
// other workload's; every PDB and NetworkPolicy selects a workload.
func checkSelectors(t *testing.T, in *install) {
	for _, w := range workloads(in) {
		got := selected(t, in, w.namespace, w.selector)
		if len(got) != 1 || got[0].name != w.name || got[0].kind != w.kind {
			t.Errorf("%s %s: its selector selects %v", w.kind, w.name, names(got))
		}
	}
	for _, p := range all[*policyv1.PodDisruptionBudget](in) {
		got := selected(t, in, p.Namespace, p.Spec.Selector)
		if len(got) != 1 {
			t.Errorf("PodDisruptionBudget %s selects %v, want one workload", p.Name, names(got))
			continue
		}
		if r := got[0].replicas; r != nil && p.Spec.MinAvailable != nil && p.Spec.MinAvailable.IntValue() >= int(*r) {
			t.Errorf("PodDisruptionBudget %s: minAvailable %s of %d replicas blocks every eviction", p.Name, p.Spec.MinAvailable, *r)
		}
	}
	for _, np := range all[*networkingv1.NetworkPolicy](in) {
		if got := selected(t, in, np.Namespace, &np.Spec.PodSelector); len(got) != 1 {
			t.Errorf("NetworkPolicy %s applies to %v, want one workload", np.Name, names(got))
		}
		for _, rule := range np.Spec.Ingress {
			for _, peer := range rule.From {
				if peer.PodSelector != nil && len(selected(t, in, np.Namespace, peer.PodSelector)) == 0 {
					t.Errorf("NetworkPolicy %s: a rule admits pods that no workload runs", np.Name)
				}
			}
		}
	}
	if d := get[*appsv1.Deployment](t, in, gatewayName); d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("gateway replicas %s, want 2", optional32(d.Spec.Replicas))
	}
}

func names(ws []workload) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.kind+" "+w.name)
	}
	return out
}

// checkServices: each Service selects exactly one workload, whose first
// container has every targetPort; a StatefulSet's serviceName exists.
func checkServices(t *testing.T, in *install) {
	for _, s := range all[*corev1.Service](in) {
		got := selected(t, in, s.Namespace, &metav1.LabelSelector{MatchLabels: s.Spec.Selector})
		if len(got) != 1 {
			t.Errorf("Service %s selects %v, want one workload", s.Name, names(got))
			continue
		}
		c := &got[0].template.Spec.Containers[0]
		for _, p := range s.Spec.Ports {
			target := p.TargetPort
			if target.Type == intstr.Int && target.IntVal == 0 {
				target = intstr.FromInt32(p.Port)
			}
			containerPort(t, c, target)
		}
	}
	for _, ss := range all[*appsv1.StatefulSet](in) {
		get[*corev1.Service](t, in, ss.Spec.ServiceName)
	}
}

// checkReferences: every ConfigMap, Secret and key a pod names exists in
// the build (optional ones too: the overlay makes them), every mount has
// its volume, and every $(VAR) in args is a variable the container sets.
func checkReferences(t *testing.T, in *install) {
	configMap := func(name, key string) bool {
		for _, c := range all[*corev1.ConfigMap](in) {
			if c.Name == name {
				_, ok := c.Data[key]
				return ok || key == ""
			}
		}
		return false
	}
	secret := func(name, key string) bool {
		for _, s := range all[*corev1.Secret](in) {
			if s.Name == name {
				_, ok := s.Data[key]
				return ok || key == ""
			}
		}
		return false
	}
	for _, w := range workloads(in) {
		spec := &w.template.Spec
		where := w.kind + " " + w.name
		volumes := map[string]bool{}
		for _, v := range spec.Volumes {
			volumes[v.Name] = true
			if v.ConfigMap != nil {
				for _, it := range append(v.ConfigMap.Items, corev1.KeyToPath{}) {
					if !configMap(v.ConfigMap.Name, it.Key) {
						t.Errorf("%s: volume %s: no ConfigMap %s key %q", where, v.Name, v.ConfigMap.Name, it.Key)
					}
				}
			}
			if v.Secret != nil {
				for _, it := range append(v.Secret.Items, corev1.KeyToPath{}) {
					if !secret(v.Secret.SecretName, it.Key) {
						t.Errorf("%s: volume %s: no Secret %s key %q", where, v.Name, v.Secret.SecretName, it.Key)
					}
				}
			}
		}
		claims := map[string]bool{}
		if ss, ok := findStatefulSet(in, w); ok {
			for _, c := range ss.Spec.VolumeClaimTemplates {
				claims[c.Name] = true
			}
		}
		used := map[string]bool{}
		for _, c := range spec.Containers {
			defined := map[string]bool{}
			for _, e := range c.Env {
				if e.ValueFrom != nil {
					if r := e.ValueFrom.ConfigMapKeyRef; r != nil && !configMap(r.Name, r.Key) {
						t.Errorf("%s: env %s: no ConfigMap %s key %s", where, e.Name, r.Name, r.Key)
					}
					if r := e.ValueFrom.SecretKeyRef; r != nil && !secret(r.Name, r.Key) {
						t.Errorf("%s: env %s: no Secret %s key %s", where, e.Name, r.Name, r.Key)
					}
				}
				for _, ref := range varRefs(e.Value) {
					if !defined[ref] {
						t.Errorf("%s: env %s uses $(%s), not set before it", where, e.Name, ref)
					}
				}
				defined[e.Name] = true
			}
			for _, a := range slices.Concat(c.Command, c.Args) {
				for _, ref := range varRefs(a) {
					if !defined[ref] {
						t.Errorf("%s: %q uses $(%s), which the container does not set", where, a, ref)
					}
				}
			}
			for _, m := range c.VolumeMounts {
				used[m.Name] = true
				if !volumes[m.Name] && !claims[m.Name] {
					t.Errorf("%s: mount %s has no volume", where, m.Name)
				}
			}
		}
		for v := range volumes {
			if !used[v] {
				t.Errorf("%s: volume %s is mounted nowhere", where, v)
			}
		}
	}
}

func findStatefulSet(in *install, w workload) (*appsv1.StatefulSet, bool) {
	for _, ss := range all[*appsv1.StatefulSet](in) {
		if w.kind == "StatefulSet" && ss.Name == w.name {
			return ss, true
		}
	}
	return nil, false
}

// varRefs returns the $(VAR) references Kubernetes expands in s.
func varRefs(s string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`).FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// checkGateway: --listen is the container's http port, the Service's
// target; the probes hit /readyz and /healthz there; termination waits
// for preStop and the drain; --replicas matches the NATS cluster.
func checkGateway(t *testing.T, in *install) {
	d := get[*appsv1.Deployment](t, in, gatewayName)
	spec := &d.Spec.Template.Spec
	c := container(t, spec, "gateway")
	if len(c.Args) == 0 || c.Args[0] != "gateway" {
		t.Fatalf("gateway container args %q", c.Args)
	}
	listen := portOf(t, flagValue(t, c.Args, "listen"))
	if p := containerPort(t, c, intstr.FromString("http")); p != listen {
		t.Errorf("container port http %d, --listen port %d", p, listen)
	}
	svc := get[*corev1.Service](t, in, gatewayName)
	if p := containerPort(t, c, svc.Spec.Ports[0].TargetPort); p != listen {
		t.Errorf("Service targets port %d, the gateway listens on %d", p, listen)
	}
	probe := func(name string, p *corev1.Probe, path string) {
		if p == nil || p.HTTPGet == nil {
			t.Errorf("no %s HTTP probe", name)
			return
		}
		if p.HTTPGet.Path != path {
			t.Errorf("%s probe path %s, want %s", name, p.HTTPGet.Path, path)
		}
		if port := containerPort(t, c, p.HTTPGet.Port); port != listen {
			t.Errorf("%s probe on port %d, the gateway listens on %d", name, port, listen)
		}
	}
	probe("readiness", c.ReadinessProbe, "/readyz")
	probe("liveness", c.LivenessProbe, "/healthz")
	probe("startup", c.StartupProbe, "/healthz")
	// The first start on a new NATS cluster: every store retries opening
	// for up to jsopen.Timeout while the cluster elects its leaders, and two
	// gateways starting in step took ~35 s here; liveness must not restart
	// a gateway meanwhile.
	if p := c.StartupProbe; p != nil {
		if budget := time.Duration(p.PeriodSeconds*p.FailureThreshold) * time.Second; budget < 2*jsopen.Timeout {
			t.Errorf("the startup probe allows %s, less than twice jsopen.Timeout (%s)", budget, jsopen.Timeout)
		}
	}

	drain := shutdownTimeout(t)
	var preStop time.Duration
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	grace := gracePeriod(t, spec)
	if grace < 40*time.Second || grace <= preStop+drain {
		t.Errorf("gateway terminationGracePeriodSeconds %v: want at least 40 s and more than preStop %v + drain %v", grace, preStop, drain)
	}
	if got, want := flagValue(t, c.Args, "replicas"), "3"; got != want {
		t.Errorf("--replicas=%s, want %s", got, want)
	}
	ss := get[*appsv1.StatefulSet](t, in, natsName)
	if r := flagValue(t, c.Args, "replicas"); ss.Spec.Replicas == nil || strconv.Itoa(int(*ss.Spec.Replicas)) != r {
		t.Errorf("--replicas=%s on a NATS cluster of %s servers", r, optional32(ss.Spec.Replicas))
	}
}

func gracePeriod(t testing.TB, spec *corev1.PodSpec) time.Duration {
	t.Helper()
	if spec.TerminationGracePeriodSeconds == nil {
		return 30 * time.Second // the API server's default
	}
	return time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
}

// checkRunner: the runner outlives its drain, keeps its cache on an
// emptyDir, and has no Kubernetes credentials.
func checkRunner(t *testing.T, in *install) {
	d := get[*appsv1.Deployment](t, in, runnerName)
	spec := &d.Spec.Template.Spec
	c := container(t, spec, "runner")
	if len(c.Args) == 0 || c.Args[0] != "runner" {
		t.Fatalf("runner container args %q", c.Args)
	}
	if grace, drain := gracePeriod(t, spec), shutdownTimeout(t); grace <= drain {
		t.Errorf("runner terminationGracePeriodSeconds %v, not above the drain %v", grace, drain)
	}
	cache := flagValue(t, c.Args, "cache-dir")
	mount := ""
	for _, m := range c.VolumeMounts {
		if m.MountPath == cache {
			mount = m.Name
		}
	}
	ok := false
	for _, v := range spec.Volumes {
		ok = ok || v.Name == mount && v.EmptyDir != nil
	}
	if !ok {
		t.Errorf("--cache-dir=%s is not on an emptyDir volume", cache)
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Error("runner pods get a service account token; they never use the Kubernetes API")
	}
	if p, listen := containerPort(t, c, intstr.FromString("metrics")), portOf(t, flagValue(t, c.Args, "metrics-listen")); p != listen {
		t.Errorf("container port metrics %d, --metrics-listen port %d", p, listen)
	}
}

// checkScraping: each job of deploy/prometheus/kubernetes.yml keeps the
// pods of a workload here by their app.kubernetes.io/name label, and those
// pods have a container port of the name the job keeps; a renamed label
// or port would leave a role unscraped without an error anywhere.
func checkScraping(t *testing.T, in *install) {
	data, err := os.ReadFile("../prometheus/kubernetes.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ScrapeConfigs []struct {
			JobName        string `json:"job_name"`
			RelabelConfigs []struct {
				SourceLabels []string `json:"source_labels"`
				Regex        string   `json:"regex"`
				Action       string   `json:"action"`
			} `json:"relabel_configs"`
		} `json:"scrape_configs"`
	}
	if err := sigsyaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.ScrapeConfigs) == 0 {
		t.Fatal("no scrape_configs in deploy/prometheus/kubernetes.yml")
	}
	for _, job := range cfg.ScrapeConfigs {
		var app, port string
		for _, rc := range job.RelabelConfigs {
			if rc.Action != "keep" || len(rc.SourceLabels) != 1 {
				continue
			}
			switch rc.SourceLabels[0] {
			case "__meta_kubernetes_pod_label_app_kubernetes_io_name":
				app = rc.Regex
			case "__meta_kubernetes_pod_container_port_name":
				port = rc.Regex
			}
		}
		found := false
		for _, w := range workloads(in) {
			if w.template.Labels["app.kubernetes.io/name"] != app {
				continue
			}
			found = true
			ok := false
			for _, c := range w.template.Spec.Containers {
				for _, cp := range c.Ports {
					ok = ok || cp.Name == port
				}
			}
			if !ok {
				t.Errorf("job %s scrapes port %q; %s %s has no container port of that name", job.JobName, port, w.kind, w.name)
			}
		}
		if !found {
			t.Errorf("job %s keeps pods labelled app.kubernetes.io/name=%q; no workload has them", job.JobName, app)
		}
	}
}

// checkRunnerSizing: the rule of docs/operations.md, for --concurrency=N:
// cpu request N/16, limit twice that; memory request = limit =
// N × the default memory_mb + 256Mi.
func checkRunnerSizing(t *testing.T, in *install) {
	c := container(t, &get[*appsv1.Deployment](t, in, runnerName).Spec.Template.Spec, "runner")
	n := int64(atoi(t, flagValue(t, c.Args, "concurrency")))
	cpu := k8sresource.NewMilliQuantity(n*1000/16, k8sresource.DecimalSI)
	cpuLimit := k8sresource.NewMilliQuantity(2*n*1000/16, k8sresource.DecimalSI)
	mem := k8sresource.NewQuantity((n*int64(limits.DefaultMemoryMB)+256)<<20, k8sresource.BinarySI)
	want := map[string]*k8sresource.Quantity{
		"requests.cpu": cpu, "limits.cpu": cpuLimit,
		"requests.memory": mem, "limits.memory": mem,
	}
	got := map[string]k8sresource.Quantity{
		"requests.cpu": c.Resources.Requests[corev1.ResourceCPU], "limits.cpu": c.Resources.Limits[corev1.ResourceCPU],
		"requests.memory": c.Resources.Requests[corev1.ResourceMemory], "limits.memory": c.Resources.Limits[corev1.ResourceMemory],
	}
	for k, w := range want {
		if g := got[k]; g.Cmp(*w) != 0 {
			t.Errorf("--concurrency=%d: %s is %s, the rule says %s", n, k, g.String(), w.String())
		}
	}
}

// kubeproviderCalls runs internal/kubeprovider against client-go's fake
// clientset, reading and changing the scale of a Deployment, and returns
// what it asked the API for: "group resource/subresource verb name".
func kubeproviderCalls(t testing.TB, namespace, deployment string) map[string]bool {
	t.Helper()
	replicas := int32(1)
	client := fake.NewClientset(&appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: deployment},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas},
	})
	// The fake's tracker does not serve the scale subresource: answer it
	// from a counter, as the API server would from the Deployment.
	conflicts := 1
	client.PrependReactor("*", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		switch a := a.(type) {
		case k8stesting.GetAction:
			return true, &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: a.GetName()}, Spec: autoscalingv1.ScaleSpec{Replicas: replicas}}, nil
		case k8stesting.UpdateAction:
			if conflicts > 0 { // make it retry, as after a concurrent change
				conflicts--
				return true, nil, conflictError(deployment)
			}
			replicas = a.GetObject().(*autoscalingv1.Scale).Spec.Replicas
			return true, a.GetObject(), nil
		}
		return false, nil, nil
	})
	k := kubeprovider.NewWithClient(client, kubeprovider.Config{Deployment: deployment, Namespace: namespace})
	ctx := context.Background()
	if _, err := k.Runners(ctx); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 3, 0} {
		if err := k.Scale(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if replicas != 0 {
		t.Fatalf("replicas %d after Scale(0)", replicas)
	}
	calls := map[string]bool{}
	for _, a := range client.Actions() {
		if a.GetNamespace() != namespace {
			t.Errorf("%s in namespace %s", a.GetVerb(), a.GetNamespace())
		}
		r := a.GetResource().Resource
		if a.GetSubresource() != "" {
			r += "/" + a.GetSubresource()
		}
		name := ""
		switch a := a.(type) {
		case k8stesting.GetAction:
			name = a.GetName()
		case k8stesting.UpdateAction:
			name, _ = metaName(a.GetObject())
		}
		calls[fmt.Sprintf("%s %s %s %s", a.GetResource().Group, r, a.GetVerb(), name)] = true
	}
	return calls
}

func metaName(obj runtime.Object) (string, bool) {
	m, err := metaOf(obj)
	if err != nil {
		return "", false
	}
	return m.GetName(), true
}

// checkRBAC: the gateway's service account may do exactly what
// kubeprovider does, on the runner Deployment only, and nothing else.
func checkRBAC(t *testing.T, in *install) {
	gw := get[*appsv1.Deployment](t, in, gatewayName)
	runner := get[*appsv1.Deployment](t, in, runnerName)
	spec := &gw.Spec.Template.Spec
	c := container(t, spec, "gateway")
	if got := flagValue(t, c.Args, "k8s-deployment"); got != runner.Name {
		t.Errorf("--k8s-deployment=%s, the runner Deployment is %s", got, runner.Name)
	}
	// --k8s-namespace is the pod's own namespace, through the downward API.
	ns := flagValue(t, c.Args, "k8s-namespace")
	for _, ref := range varRefs(ns) {
		for _, e := range c.Env {
			if e.Name == ref {
				if e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.namespace" {
					t.Errorf("--k8s-namespace=%s: %s is not the pod's namespace", ns, ref)
				}
				ns = strings.ReplaceAll(ns, "$("+ref+")", gw.Namespace)
			}
		}
	}
	if ns != runner.Namespace {
		t.Errorf("--k8s-namespace is %q, the runners are in %q", ns, runner.Namespace)
	}
	if spec.ServiceAccountName == "" || (spec.AutomountServiceAccountToken != nil && !*spec.AutomountServiceAccountToken) {
		t.Fatalf("the gateway pods have no service account token (serviceAccountName %q)", spec.ServiceAccountName)
	}
	sa := get[*corev1.ServiceAccount](t, in, spec.ServiceAccountName)
	if sa.AutomountServiceAccountToken != nil && !*sa.AutomountServiceAccountToken && spec.AutomountServiceAccountToken == nil {
		t.Errorf("ServiceAccount %s turns the token off", sa.Name)
	}

	// What the bindings give the gateway's account.
	granted := map[string]bool{}
	for _, rb := range all[*rbacv1.RoleBinding](in) {
		bound := false
		for _, s := range rb.Subjects {
			subjectNS := s.Namespace
			if subjectNS == "" {
				subjectNS = rb.Namespace
			}
			bound = bound || s.Kind == "ServiceAccount" && s.Name == sa.Name && subjectNS == sa.Namespace
		}
		if !bound {
			continue
		}
		if rb.RoleRef.Kind != "Role" || rb.RoleRef.APIGroup != rbacv1.GroupName {
			t.Errorf("RoleBinding %s binds %s %s, want a Role", rb.Name, rb.RoleRef.APIGroup, rb.RoleRef.Kind)
			continue
		}
		role := get[*rbacv1.Role](t, in, rb.RoleRef.Name)
		if role.Namespace != runner.Namespace {
			t.Errorf("Role %s is in %s, the runners in %s", role.Name, role.Namespace, runner.Namespace)
		}
		for _, rule := range role.Rules {
			if len(rule.ResourceNames) == 0 {
				t.Errorf("Role %s: a rule without resourceNames reaches every %q", role.Name, rule.Resources)
			}
			for _, g := range rule.APIGroups {
				for _, r := range rule.Resources {
					for _, v := range rule.Verbs {
						for _, n := range rule.ResourceNames {
							granted[fmt.Sprintf("%s %s %s %s", g, r, v, n)] = true
						}
					}
				}
			}
		}
	}
	for _, crb := range all[*rbacv1.ClusterRoleBinding](in) {
		t.Errorf("ClusterRoleBinding %s: the gateway needs nothing cluster-wide", crb.Name)
	}
	calls := kubeproviderCalls(t, runner.Namespace, runner.Name)
	if !maps.Equal(granted, calls) {
		t.Errorf("the gateway may\n\t%s\nkubeprovider does\n\t%s", strings.Join(slices.Sorted(maps.Keys(granted)), "\n\t"), strings.Join(slices.Sorted(maps.Keys(calls)), "\n\t"))
	}
}

// natsConf parses the nats.conf of the nats-config ConfigMap with
// nats-server's own parser, as the server in pod podName would.
func natsConf(t testing.TB, in *install, podName string) *server.Options {
	t.Helper()
	cm := get[*corev1.ConfigMap](t, in, "nats-config")
	ss := get[*appsv1.StatefulSet](t, in, natsName)
	c := container(t, &ss.Spec.Template.Spec, "nats")
	file := ""
	for i, a := range c.Args {
		if (a == "--config" || a == "-c") && i+1 < len(c.Args) {
			file = c.Args[i+1]
		}
	}
	key := ""
	for _, m := range c.VolumeMounts {
		for _, v := range ss.Spec.Template.Spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil && v.ConfigMap.Name == cm.Name && filepath.Dir(file) == m.MountPath {
				key = filepath.Base(file)
			}
		}
	}
	text, ok := cm.Data[key]
	if !ok {
		t.Fatalf("--config %s is not a key of ConfigMap %s mounted in the nats container", file, cm.Name)
	}
	path := filepath.Join(t.TempDir(), key)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, value := range containerEnv(t, in, ss.Namespace, c, podName) {
		t.Setenv(name, value)
	}
	opts, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("nats.conf: %v", err)
	}
	return opts
}

// containerEnv resolves a container's environment as the kubelet would for
// pod podName: values, ConfigMap and Secret keys, the pod's name and
// namespace, and $(VAR) references.
func containerEnv(t testing.TB, in *install, namespace string, c *corev1.Container, podName string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, e := range c.Env {
		v := e.Value
		for _, ref := range varRefs(v) {
			v = strings.ReplaceAll(v, "$("+ref+")", env[ref])
		}
		if f := e.ValueFrom; f != nil {
			switch {
			case f.FieldRef != nil && f.FieldRef.FieldPath == "metadata.name":
				v = podName
			case f.FieldRef != nil && f.FieldRef.FieldPath == "metadata.namespace":
				v = namespace
			case f.ConfigMapKeyRef != nil:
				v = get[*corev1.ConfigMap](t, in, f.ConfigMapKeyRef.Name).Data[f.ConfigMapKeyRef.Key]
			case f.SecretKeyRef != nil:
				v = string(get[*corev1.Secret](t, in, f.SecretKeyRef.Name).Data[f.SecretKeyRef.Key])
			default:
				t.Fatalf("env %s: a source this test does not resolve", e.Name)
			}
		}
		env[e.Name] = v
	}
	return env
}

// checkNATS: the configuration parses, each server is named after its pod,
// JetStream stores on the persistent volume within its size, the routes
// are the StatefulSet's pods through the headless Service, the ports are
// the container's, the probes use the monitoring port, and the pods
// outlive lame duck mode.
func checkNATS(t *testing.T, in *install) {
	ss := get[*appsv1.StatefulSet](t, in, natsName)
	spec := &ss.Spec.Template.Spec
	c := container(t, spec, "nats")
	if ss.Spec.Replicas == nil || *ss.Spec.Replicas != 3 {
		t.Fatalf("NATS replicas %s, want 3", optional32(ss.Spec.Replicas))
	}
	if ss.Spec.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Error("podManagementPolicy is not Parallel: JetStream needs two servers before the first is ready")
	}
	headless := get[*corev1.Service](t, in, ss.Spec.ServiceName)
	if headless.Spec.ClusterIP != corev1.ClusterIPNone || !headless.Spec.PublishNotReadyAddresses {
		t.Errorf("Service %s: want headless with publishNotReadyAddresses", headless.Name)
	}
	var wantRoutes []string
	for i := range *ss.Spec.Replicas {
		wantRoutes = append(wantRoutes, fmt.Sprintf("%s-%d.%s:%d", ss.Name, i, headless.Name, containerPort(t, c, intstr.FromString("cluster"))))
	}
	user := get[*corev1.ConfigMap](t, in, "hearth-config").Data["nats-user"]
	password := string(get[*corev1.Secret](t, in, "hearth-nats").Data["password"])
	seen := map[string]bool{}
	for i := range *ss.Spec.Replicas {
		pod := fmt.Sprintf("%s-%d", ss.Name, i)
		opts := natsConf(t, in, pod)
		if opts.ServerName != pod || seen[opts.ServerName] {
			t.Errorf("pod %s: server_name %q", pod, opts.ServerName)
		}
		seen[opts.ServerName] = true
		if !opts.JetStream {
			t.Fatal("JetStream is off")
		}
		if opts.Username != user || opts.Password != password {
			t.Errorf("nats.conf authorization is %q/%q, the roles log in as %q with the hearth-nats password", opts.Username, opts.Password, user)
		}
		var routes []string
		for _, r := range opts.Routes {
			routes = append(routes, r.Host)
		}
		if !slices.Equal(routes, wantRoutes) {
			t.Errorf("routes %q, want %q", routes, wantRoutes)
		}
		if opts.Cluster.Name == "" || int32(opts.Cluster.Port) != containerPort(t, c, intstr.FromString("cluster")) {
			t.Errorf("cluster %q on port %d", opts.Cluster.Name, opts.Cluster.Port)
		}
		if int32(opts.Port) != containerPort(t, c, intstr.FromString("nats")) || int32(opts.HTTPPort) != containerPort(t, c, intstr.FromString("monitor")) {
			t.Errorf("client port %d, monitor port %d: not the container's", opts.Port, opts.HTTPPort)
		}
		if opts.MaxPayload < 8<<20 {
			t.Errorf("max_payload %d: Hearth's inline limit assumes 8 MiB", opts.MaxPayload)
		}
		// The store on the claim, below its size.
		claim := ""
		for _, m := range c.VolumeMounts {
			if strings.HasPrefix(opts.StoreDir, m.MountPath+"/") || opts.StoreDir == m.MountPath {
				claim = m.Name
			}
		}
		found := false
		for _, vct := range ss.Spec.VolumeClaimTemplates {
			if vct.Name == claim {
				found = true
				size := vct.Spec.Resources.Requests[corev1.ResourceStorage]
				if opts.JetStreamMaxStore <= 0 || opts.JetStreamMaxStore >= size.Value() {
					t.Errorf("max_file_store %d on a %s volume", opts.JetStreamMaxStore, size.String())
				}
			}
		}
		if !found {
			t.Errorf("store_dir %s is not on a volumeClaimTemplate", opts.StoreDir)
		}
		// preStop signals the pid file's process; the pid file is on a mount.
		pre := c.Lifecycle.PreStop
		if pre == nil || pre.Exec == nil || !slices.Contains(pre.Exec.Command, "ldm="+opts.PidFile) {
			t.Errorf("preStop does not put the server (pid file %s) in lame duck mode", opts.PidFile)
		}
		if grace := gracePeriod(t, spec); grace <= opts.LameDuckDuration+opts.LameDuckGracePeriod {
			t.Errorf("terminationGracePeriodSeconds %v, lame duck mode takes %v + %v", grace, opts.LameDuckDuration, opts.LameDuckGracePeriod)
		}
	}
	for name, p := range map[string]*corev1.Probe{"startup": c.StartupProbe, "liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || !strings.HasPrefix(p.HTTPGet.Path, "/healthz") || containerPort(t, c, p.HTTPGet.Port) != containerPort(t, c, intstr.FromString("monitor")) {
			t.Errorf("%s probe: want /healthz on the monitoring port", name)
		}
	}
	mem := c.Resources.Limits[corev1.ResourceMemory]
	env := containerEnv(t, in, ss.Namespace, c, ss.Name+"-0")
	if v, ok := env["GOMEMLIMIT"]; ok {
		q, err := k8sresource.ParseQuantity(strings.TrimSuffix(v, "B"))
		if err != nil || mem.IsZero() || q.Cmp(mem) >= 0 {
			t.Errorf("GOMEMLIMIT %s with a memory limit of %s", v, mem.String())
		}
	}
}

// checkConnections: hearth-config's NATS URL and S3 endpoint name Services
// of the install and their ports (MinIO's only with the component), and
// the NetworkPolicies let the gateways and runners reach them.
func checkConnections(t *testing.T, in *install, withMinIO bool) {
	cfg := get[*corev1.ConfigMap](t, in, "hearth-config")
	target := func(rawURL string) (*corev1.Service, int32) {
		u, err := url.Parse(rawURL)
		if err != nil {
			t.Fatalf("%q: %v", rawURL, err)
		}
		for _, s := range all[*corev1.Service](in) {
			if s.Name == u.Hostname() {
				for _, p := range s.Spec.Ports {
					if strconv.Itoa(int(p.Port)) == u.Port() {
						got := selected(t, in, s.Namespace, &metav1.LabelSelector{MatchLabels: s.Spec.Selector})
						return s, containerPort(t, &got[0].template.Spec.Containers[0], p.TargetPort)
					}
				}
				t.Errorf("%s: Service %s has no port %s", rawURL, s.Name, u.Port())
			}
		}
		return nil, 0
	}
	natsSvc, natsPort := target(cfg.Data["nats-url"])
	if natsSvc == nil || selected(t, in, natsSvc.Namespace, &metav1.LabelSelector{MatchLabels: natsSvc.Spec.Selector})[0].name != natsName {
		t.Errorf("nats-url %s is not the NATS StatefulSet's Service", cfg.Data["nats-url"])
	}
	s3Svc, s3Port := target(cfg.Data["s3-endpoint"])
	if withMinIO {
		if s3Svc == nil || s3Svc.Name != minioName {
			t.Errorf("s3-endpoint %s is not MinIO's Service", cfg.Data["s3-endpoint"])
		} else {
			mc := container(t, &get[*appsv1.StatefulSet](t, in, minioName).Spec.Template.Spec, "minio")
			if addr := flagValue(t, mc.Args, "address"); portOf(t, addr) != s3Port {
				t.Errorf("MinIO listens on %s, its Service targets %d", addr, s3Port)
			}
			for name, p := range map[string]*corev1.Probe{"readiness": mc.ReadinessProbe, "liveness": mc.LivenessProbe} {
				if p == nil || p.HTTPGet == nil || !strings.HasPrefix(p.HTTPGet.Path, "/minio/health/") || containerPort(t, mc, p.HTTPGet.Port) != s3Port {
					t.Errorf("MinIO %s probe: want /minio/health/… on its S3 port", name)
				}
			}
		}
	} else if s3Svc != nil {
		t.Errorf("s3-endpoint %s is a Service of the install", cfg.Data["s3-endpoint"])
	}
	// Who may reach what, by the NetworkPolicies.
	allowed := func(from workload, to workload, port int32) bool {
		policies := 0
		for _, np := range all[*networkingv1.NetworkPolicy](in) {
			if got := selected(t, in, np.Namespace, &np.Spec.PodSelector); len(got) != 1 || got[0].name != to.name {
				continue
			}
			policies++
			for _, rule := range np.Spec.Ingress {
				portOK := len(rule.Ports) == 0
				for _, p := range rule.Ports {
					portOK = portOK || p.Port != nil && containerPort(t, &to.template.Spec.Containers[0], *p.Port) == port
				}
				for _, peer := range rule.From {
					s, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
					if err == nil && peer.PodSelector != nil && s.Matches(labels.Set(from.template.Labels)) && portOK {
						return true
					}
				}
				if len(rule.From) == 0 && portOK {
					return true
				}
			}
		}
		return policies == 0
	}
	byName := map[string]workload{}
	for _, w := range workloads(in) {
		byName[w.name] = w
	}
	for _, client := range []string{gatewayName, runnerName} {
		if !allowed(byName[client], byName[natsName], natsPort) {
			t.Errorf("%s may not reach NATS on %d", client, natsPort)
		}
		if withMinIO && !allowed(byName[client], byName[minioName], s3Port) {
			t.Errorf("%s may not reach MinIO on %d", client, s3Port)
		}
	}
	natsC := container(t, &byName[natsName].template.Spec, "nats")
	if clusterPort := containerPort(t, natsC, intstr.FromString("cluster")); !allowed(byName[natsName], byName[natsName], clusterPort) {
		t.Errorf("NATS servers may not reach each other's routes on %d", clusterPort)
	}
}

// checkSecurity: every pod meets the restricted Pod Security Standard that
// the namespace enforces, hearth runs as the image's user, and only the
// gateway has a service account token.
func checkSecurity(t *testing.T, in *install) {
	uid, gid := imageUser(t)
	for _, ns := range all[*corev1.Namespace](in) {
		if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
			t.Errorf("Namespace %s does not enforce the restricted Pod Security Standard", ns.Name)
		}
	}
	for _, w := range workloads(in) {
		spec := &w.template.Spec
		where := w.kind + " " + w.name
		psc := spec.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: want runAsNonRoot and the RuntimeDefault seccomp profile", where)
		}
		if psc != nil && (psc.RunAsUser == nil || *psc.RunAsUser == 0) {
			t.Errorf("%s: no non-zero runAsUser", where)
		}
		if spec.HostNetwork || spec.HostPID || spec.HostIPC {
			t.Errorf("%s: uses the host's namespaces", where)
		}
		if w.name != gatewayName && (spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken) {
			t.Errorf("%s: mounts a service account token it does not need", where)
		}
		for _, v := range spec.Volumes {
			if v.HostPath != nil {
				t.Errorf("%s: hostPath volume %s", where, v.Name)
			}
		}
		for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
			sc := c.SecurityContext
			if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
				sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 ||
				(sc.Privileged != nil && *sc.Privileged) {
				t.Errorf("%s container %s: want allowPrivilegeEscalation false, a read-only root filesystem and every capability dropped", where, c.Name)
			}
			if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Memory().IsZero() {
				t.Errorf("%s container %s: no memory request or limit", where, c.Name)
			}
			if isHearth(c) && (psc.RunAsUser == nil || *psc.RunAsUser != uid || psc.RunAsGroup == nil || *psc.RunAsGroup != gid) {
				t.Errorf("%s: runs hearth as %s:%s, the image's user is %d:%d", where, optional(psc.RunAsUser), optional(psc.RunAsGroup), uid, gid)
			}
		}
	}
}

func optional(p *int64) string {
	if p == nil {
		return "unset"
	}
	return strconv.FormatInt(*p, 10)
}

func optional32(p *int32) string {
	if p == nil {
		return "unset"
	}
	return strconv.Itoa(int(*p))
}

func isHearth(c corev1.Container) bool {
	name, _, _ := splitImage(c.Image)
	return name == "hearth" || strings.HasSuffix(name, "/hearth")
}

// checkFlags: every flag the hearth containers pass exists in that role of
// the binary the image builds, with a value exactly when it takes one, and
// every HEARTH_ variable they set is one the role reads.
func checkFlags(t *testing.T, in *install) {
	for _, w := range workloads(in) {
		for _, c := range w.template.Spec.Containers {
			if !isHearth(c) {
				continue
			}
			if len(c.Command) > 0 {
				t.Errorf("%s: command %q replaces the image's entrypoint", w.name, c.Command)
			}
			role := c.Args[0]
			flags, help := helpFlags(t, role)
			for _, a := range c.Args[1:] {
				name, value, hasValue := strings.Cut(strings.TrimPrefix(a, "--"), "=")
				takes, ok := flags[name]
				switch {
				case !strings.HasPrefix(a, "--"):
					t.Errorf("%s: %q is not a --flag", w.name, a)
				case !ok:
					t.Errorf("%s: hearth %s has no flag --%s", w.name, role, name)
				case takes && !hasValue:
					t.Errorf("%s: --%s takes a value: write --%s=VALUE", w.name, name, name)
				case !takes && hasValue && value != "true" && value != "false":
					t.Errorf("%s: --%s is a boolean", w.name, name)
				}
			}
			referenced := map[string]bool{}
			for _, a := range c.Args {
				for _, r := range varRefs(a) {
					referenced[r] = true
				}
			}
			for _, e := range c.Env {
				if strings.HasPrefix(e.Name, "HEARTH_") && !regexp.MustCompile(`\b`+e.Name+`\b`).MatchString(help) {
					t.Errorf("%s: hearth %s reads no %s", w.name, role, e.Name)
				}
				if !strings.HasPrefix(e.Name, "HEARTH_") && !referenced[e.Name] {
					t.Errorf("%s: %s is neither read by hearth nor used in its args", w.name, e.Name)
				}
			}
		}
	}
}

// TestKubeproviderCalls pins what checkRBAC compares the Role with: the
// provider reads and updates the scale subresource, nothing more.
func TestKubeproviderCalls(t *testing.T) {
	got := slices.Sorted(maps.Keys(kubeproviderCalls(t, "ns", "runners")))
	want := []string{"apps deployments/scale get runners", "apps deployments/scale update runners"}
	if !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}

// conflictError is the API server's answer to an update of a stale scale.
func conflictError(name string) error {
	return apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, name, errors.New("the object has been modified"))
}
