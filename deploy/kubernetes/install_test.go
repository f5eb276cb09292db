package kubernetes_test

// TestInstallOnLoopback runs overlays/small without Kubernetes: each pod's
// process as its manifest says, on this machine's loopback. NATS is three
// in-process servers configured by the ConfigMap's nats.conf, MinIO is the
// MinIO binary with its container's args and env, the gateways and the
// runner are the image's hearth binary with their containers' args and
// env, and the Kubernetes API is a stand-in that serves the runner
// Deployment's scale subresource and records what the gateways ask of it.
// Only addresses and paths are changed: Services become the loopback
// ports, volume mounts directories under a temporary root.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/hearthfn/hearth/functions"
	"github.com/hearthfn/hearth/internal/embeds3"
	"github.com/hearthfn/hearth/internal/testutil"
)

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// pod is a container of the install run as a process.
type pod struct {
	name   string
	root   string   // where its volume mounts are, and its working directory
	mounts []string // the mounts' directories under root
	args   []string
	env    []string
	cmd    *exec.Cmd
	log    string
	done   chan error
}

// newPod lays out a container's mounts under a temporary root (Secret and
// ConfigMap volumes written out, emptyDirs and claims as directories) and
// returns its args and env with every mount path moved there and
// $(VAR) expanded; override replaces env values (the Services' addresses).
func newPod(t testing.TB, in *install, w workload, c *corev1.Container, name string, override map[string]string) *pod {
	t.Helper()
	p := &pod{name: name, root: t.TempDir()}
	spec := &w.template.Spec
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		dir := filepath.Join(p.root, m.MountPath)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		mounts[m.MountPath] = dir
		p.mounts = append(p.mounts, dir)
		for _, v := range spec.Volumes {
			if v.Name != m.Name {
				continue
			}
			files := map[string][]byte{}
			switch {
			case v.Secret != nil:
				s := get[*corev1.Secret](t, in, v.Secret.SecretName)
				for _, it := range v.Secret.Items {
					files[it.Path] = s.Data[it.Key]
				}
			case v.ConfigMap != nil:
				cm := get[*corev1.ConfigMap](t, in, v.ConfigMap.Name)
				for k, d := range cm.Data {
					files[k] = []byte(d)
				}
			}
			for f, data := range files {
				if err := os.WriteFile(filepath.Join(dir, f), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	// Longest mount first, so /a/b moves before /a.
	paths := slicesSortedByLen(mounts)
	move := func(s string) string {
		for _, m := range paths {
			if s == m || strings.HasPrefix(s, m+"/") {
				return mounts[m] + strings.TrimPrefix(s, m)
			}
			if i := strings.Index(s, "="+m); i >= 0 && (len(s) == i+1+len(m) || s[i+1+len(m)] == '/') {
				return s[:i+1] + mounts[m] + s[i+1+len(m):]
			}
		}
		return s
	}
	env := containerEnv(t, in, w.namespace, c, name)
	for k, v := range override {
		env[k] = v
	}
	for k, v := range env {
		env[k] = move(v)
		p.env = append(p.env, k+"="+env[k])
	}
	for _, a := range c.Args {
		for _, ref := range varRefs(a) {
			a = strings.ReplaceAll(a, "$("+ref+")", env[ref])
		}
		p.args = append(p.args, move(a))
	}
	slices.Sort(p.env)
	return p
}

func slicesSortedByLen(m map[string]string) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return len(b) - len(a) })
	return keys
}

// replaceArg replaces the value of --name= in p's args.
func (p *pod) replaceArg(t testing.TB, name, value string) {
	t.Helper()
	for i, a := range p.args {
		if strings.HasPrefix(a, "--"+name+"=") {
			p.args[i] = "--" + name + "=" + value
			return
		}
	}
	t.Fatalf("%s: no --%s=", p.name, name)
}

// start runs the pod's process in its own process group, with only its
// environment (plus extra), logging to a file; it is stopped by group when
// the test ends.
func (p *pod) start(t testing.TB, bin string, extra ...string) {
	t.Helper()
	p.log = filepath.Join(p.root, "log")
	f, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(bin, p.args...)
	p.cmd.Dir = p.root
	p.cmd.Env = append(slices.Clone(p.env), extra...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	p.done = make(chan error, 1)
	go func() { p.done <- p.cmd.Wait(); f.Close() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			t.Logf("%s log:\n%s", p.name, tail(string(b), 40))
		}
	})
}

// terminate sends SIGTERM, as the kubelet does after preStop, and returns
// how long the process took to exit.
func (p *pod) terminate(t testing.TB, grace time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("%s exited with %v after SIGTERM", p.name, err)
		}
		p.done <- err
	case <-time.After(grace):
		t.Errorf("%s still running %v after SIGTERM (terminationGracePeriodSeconds)", p.name, grace)
	}
	return time.Since(start)
}

// checkReadOnlyRoot fails the test for any file the process wrote in its
// working directory outside its mounts: in the image the working directory
// is / on a read-only root filesystem.
func (p *pod) checkReadOnlyRoot(t testing.TB) {
	t.Helper()
	_ = filepath.WalkDir(p.root, func(path string, d os.DirEntry, err error) error {
		if err != nil || path == p.root || path == p.log {
			return err
		}
		for _, m := range p.mounts {
			if path == m || strings.HasPrefix(path, m+"/") {
				return filepath.SkipDir
			}
			if strings.HasPrefix(m, path+"/") {
				return nil // a directory on the way to a mount
			}
		}
		t.Errorf("%s wrote %s, outside its volumes: the root filesystem is read-only", p.name, strings.TrimPrefix(path, p.root))
		return nil
	})
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitHTTP waits until GET url answers 200, failing if the pod exits.
func waitHTTP(t testing.TB, url string, p *pod, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		if p != nil {
			select {
			case err := <-p.done:
				p.done <- err
				b, _ := os.ReadFile(p.log)
				t.Fatalf("%s exited (%v) before %s answered:\n%s", p.name, err, url, tail(string(b), 30))
			default:
			}
		}
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond) // polling interval, not a wait for the condition
	}
	t.Fatalf("GET %s: no 200 within %v (last: %s)", url, timeout, last)
}

// fakeKubeAPI serves GET and PUT of deployments/scale for one Deployment
// and records every request as "VERB path".
type fakeKubeAPI struct {
	mu       sync.Mutex
	replicas int32
	requests []string
}

func (f *fakeKubeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	// apis/apps/v1/namespaces/NS/deployments/NAME/scale
	if len(parts) != 8 || parts[0] != "apis" || parts[1] != "apps" || parts[2] != "v1" || parts[3] != "namespaces" || parts[5] != "deployments" || parts[7] != "scale" {
		http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`, http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut:
		// client-go sends protobuf, or JSON.
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
		s, ok := obj.(*autoscalingv1.Scale)
		if err != nil || !ok {
			http.Error(w, fmt.Sprintf("not a Scale (%T): %v", obj, err), http.StatusBadRequest)
			return
		}
		f.replicas = s.Spec.Replicas
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(autoscalingv1.Scale{
		TypeMeta:   metav1.TypeMeta{Kind: "Scale", APIVersion: "autoscaling/v1"},
		ObjectMeta: metav1.ObjectMeta{Namespace: parts[4], Name: parts[6], ResourceVersion: "1"},
		Spec:       autoscalingv1.ScaleSpec{Replicas: f.replicas},
	})
}

func (f *fakeKubeAPI) snapshot() (int32, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.replicas, slices.Clone(f.requests)
}

func TestInstallOnLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("starts NATS, MinIO, two gateways and a runner")
	}
	bin := hearth(t)
	in := buildInstall(t, "overlays/small", nil)
	byName := map[string]workload{}
	for _, w := range workloads(in) {
		byName[w.name] = w
	}

	// NATS: the StatefulSet's three servers from nats.conf, their
	// listeners on loopback.
	ss := get[*appsv1.StatefulSet](t, in, natsName)
	natsC := container(t, &ss.Spec.Template.Spec, "nats")
	n := int(*ss.Spec.Replicas)
	routePorts := make([]int, n)
	var routes []string
	for i := range routePorts {
		routePorts[i] = freePort(t)
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", routePorts[i]))
	}
	var clientURLs []string
	var monitorPorts []int
	for i := range n {
		name := fmt.Sprintf("%s-%d", ss.Name, i)
		opts := natsConf(t, in, name)
		root := t.TempDir()
		moved := func(path string) string {
			for _, m := range natsC.VolumeMounts {
				if strings.HasPrefix(path, m.MountPath+"/") {
					return filepath.Join(root, path)
				}
			}
			t.Fatalf("%s is on no volume of the nats container", path)
			return ""
		}
		opts.Host, opts.Port = "127.0.0.1", freePort(t)
		opts.HTTPHost, opts.HTTPPort = "127.0.0.1", freePort(t)
		opts.Cluster.Host, opts.Cluster.Port = "127.0.0.1", routePorts[i]
		opts.Routes = server.RoutesFromStr(strings.Join(routes, ","))
		opts.StoreDir = moved(opts.StoreDir)
		opts.PidFile = moved(opts.PidFile)
		if err := os.MkdirAll(filepath.Dir(opts.PidFile), 0o755); err != nil {
			t.Fatal(err)
		}
		opts.NoSigs, opts.NoLog = true, true
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s.Start()
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatalf("%s not ready", name)
		}
		clientURLs = append(clientURLs, fmt.Sprintf("nats://127.0.0.1:%d", opts.Port))
		if _, err := os.Stat(opts.PidFile); err != nil {
			t.Errorf("%s: no pid file for preStop: %v", name, err)
		}
		monitorPorts = append(monitorPorts, opts.HTTPPort)
	}
	// The StatefulSet's probes, once the cluster has formed.
	for _, port := range monitorPorts {
		for _, p := range []*corev1.Probe{natsC.StartupProbe, natsC.ReadinessProbe, natsC.LivenessProbe} {
			waitHTTP(t, fmt.Sprintf("http://127.0.0.1:%d%s", port, p.HTTPGet.Path), nil, 60*time.Second)
		}
	}
	natsURL := strings.Join(clientURLs, ",")

	// S3: MinIO with its container's args and env, else (outside CI, with
	// no MinIO binary) the embedded S3 with the same keys.
	s3Endpoint := ""
	if testutil.HaveMinIO(t) {
		mw := byName[minioName]
		mc := container(t, &mw.template.Spec, "minio")
		m := newPod(t, in, mw, mc, "minio-0", nil)
		port := freePort(t)
		m.replaceArg(t, "address", fmt.Sprintf("127.0.0.1:%d", port))
		m.start(t, os.Getenv("HEARTH_MINIO_BIN"), "MINIO_UPDATE=off")
		s3Endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
		for _, p := range []*corev1.Probe{mc.ReadinessProbe, mc.LivenessProbe} {
			waitHTTP(t, s3Endpoint+p.HTTPGet.Path, m, 60*time.Second)
		}
	} else {
		keys := get[*corev1.Secret](t, in, "hearth-s3")
		s3, err := embeds3.Start(embeds3.Config{Dir: t.TempDir(), AccessKey: string(keys.Data["access-key"]), SecretKey: string(keys.Data["secret-key"])})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s3.Close(t.Context()) })
		s3Endpoint = "http://" + s3.Endpoint()
	}
	services := map[string]string{"HEARTH_NATS_URL": natsURL, "HEARTH_S3_ENDPOINT": s3Endpoint}

	// The Kubernetes API, for the gateways' kubernetes provider.
	api := &fakeKubeAPI{}
	apiServer := httptest.NewServer(api)
	t.Cleanup(apiServer.Close)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: %q}}]
users: [{name: gateway, user: {token: service-account-token}}]
contexts: [{name: test, context: {cluster: test, user: gateway}}]
current-context: test
`, apiServer.URL)), 0o600); err != nil {
		t.Fatal(err)
	}

	// Two gateways, as the Deployment has, and a runner.
	gw := byName[gatewayName]
	gwC := container(t, &gw.template.Spec, "gateway")
	var gateways []*pod
	var gatewayURLs []string
	for i := range int(*get[*appsv1.Deployment](t, in, gatewayName).Spec.Replicas) {
		p := newPod(t, in, gw, gwC, fmt.Sprintf("hearth-gateway-%d", i), services)
		port := freePort(t)
		p.replaceArg(t, "listen", fmt.Sprintf("127.0.0.1:%d", port))
		p.start(t, bin, "KUBECONFIG="+kubeconfig)
		url := fmt.Sprintf("http://127.0.0.1:%d", port)
		// Gateways one after the other: two creating the same R3 streams on
		// a new cluster at once can both time out (deploy/local does the
		// same); on Kubernetes the loser restarts.
		waitHTTP(t, url+gwC.ReadinessProbe.HTTPGet.Path, p, 90*time.Second)
		waitHTTP(t, url+gwC.LivenessProbe.HTTPGet.Path, p, 10*time.Second)
		gateways, gatewayURLs = append(gateways, p), append(gatewayURLs, url)
	}
	rw := byName[runnerName]
	runner := newPod(t, in, rw, container(t, &rw.template.Spec, "runner"), "hearth-runner-0", services)
	runner.start(t, bin)

	// Deploy through one gateway and call through the other, with the
	// bootstrap admin key of the Secret.
	adminKey := string(get[*corev1.Secret](t, in, "hearth-keys").Data["admin-key"])
	wasm := filepath.Join(t.TempDir(), "hello.wasm")
	if err := os.WriteFile(wasm, functions.Examples()[1].Wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"HEARTH_API_KEY=" + adminKey, "HOME=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("hearth %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	cli("deploy", "hello", wasm, "--gateway", gatewayURLs[0])
	deadline := time.Now().Add(60 * time.Second)
	for {
		cmd := exec.Command(bin, "invoke", "hello", "--gateway", gatewayURLs[len(gatewayURLs)-1], "--data", "Kubernetes")
		cmd.Env = []string{"HEARTH_API_KEY=" + adminKey, "HOME=" + t.TempDir()}
		out, err := cmd.CombinedOutput()
		if err == nil && strings.Contains(string(out), "Hello, Kubernetes!") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hearth invoke hello: %v\n%s", err, out)
		}
		time.Sleep(500 * time.Millisecond) // the runner may not have joined yet
	}

	// The autoscaler's leader has read and set the runner Deployment's
	// scale (to --min-runners), with calls the Role allows.
	minRunners := int32(atoi(t, flagValue(t, gwC.Args, "min-runners")))
	var requests []string
	for deadline := time.Now().Add(60 * time.Second); ; {
		var replicas int32
		replicas, requests = api.snapshot()
		if replicas == minRunners {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the runner Deployment's scale is %d, want %d (--min-runners); requests: %q", replicas, minRunners, requests)
		}
		time.Sleep(200 * time.Millisecond) // polling interval
	}
	t.Logf("Kubernetes API requests: %q", requests)
	role := get[*rbacv1.Role](t, in, "hearth-runner-scaler")
	verbs := map[string]string{http.MethodGet: "get", http.MethodPut: "update", http.MethodPatch: "patch", http.MethodPost: "create", http.MethodDelete: "delete"}
	runnerD := get[*appsv1.Deployment](t, in, runnerName)
	for _, r := range requests {
		method, path, _ := strings.Cut(r, " ")
		want := fmt.Sprintf("/apis/apps/v1/namespaces/%s/deployments/%s/scale", runnerD.Namespace, runnerD.Name)
		allowed := false
		for _, rule := range role.Rules {
			allowed = allowed || path == want && slices.Contains(rule.APIGroups, "apps") && slices.Contains(rule.Resources, "deployments/scale") &&
				slices.Contains(rule.ResourceNames, runnerD.Name) && slices.Contains(rule.Verbs, verbs[method])
		}
		if !allowed {
			t.Errorf("the gateway asked %s, which Role %s does not allow", r, role.Name)
		}
	}

	// SIGTERM: the runner drains and exits within its grace period, then
	// the gateways within theirs less the preStop sleep.
	d := runner.terminate(t, gracePeriod(t, &rw.template.Spec))
	if d > shutdownTimeout(t) {
		t.Errorf("the runner took %v to drain", d)
	}
	t.Logf("runner drained in %v", d.Round(time.Millisecond))
	runner.checkReadOnlyRoot(t)
	preStop := time.Duration(gwC.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	for _, g := range gateways {
		d := g.terminate(t, gracePeriod(t, &gw.template.Spec)-preStop)
		t.Logf("%s stopped in %v", g.name, d.Round(time.Millisecond))
		g.checkReadOnlyRoot(t)
	}
}
