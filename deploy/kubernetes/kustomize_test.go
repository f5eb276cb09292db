package kubernetes_test

// The part of kustomize these manifests use, so that the tests build each
// overlay here, offline, without adding kustomize to go.mod: resources
// (files and directories), components, namespace, images, patches
// (strategic merge, through apimachinery's strategicpatch, the same merge
// kubectl uses), secretGenerator from files and literals, and
// generatorOptions.disableNameSuffixHash. A kustomization that uses
// anything else is refused (its fields are decoded strictly), so a new
// feature cannot be silently ignored: extend this file with it.
//
// TestBuildMatchesKustomize compares the result with a real kustomize build
// wherever one is installed.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	serjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
)

// kustomization is the subset of kustomize.config.k8s.io's Kustomization
// (and Component) that build understands.
type kustomization struct {
	APIVersion       string            `json:"apiVersion"`
	Kind             string            `json:"kind"`
	Namespace        string            `json:"namespace,omitempty"`
	Resources        []string          `json:"resources,omitempty"`
	Components       []string          `json:"components,omitempty"`
	Images           []image           `json:"images,omitempty"`
	Patches          []patch           `json:"patches,omitempty"`
	SecretGenerator  []secretGenerator `json:"secretGenerator,omitempty"`
	GeneratorOptions *struct {
		DisableNameSuffixHash bool `json:"disableNameSuffixHash"`
	} `json:"generatorOptions,omitempty"`
}

type image struct {
	Name    string `json:"name"`
	NewName string `json:"newName,omitempty"`
	NewTag  string `json:"newTag,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

type patch struct {
	Path string `json:"path"`
}

type secretGenerator struct {
	Name     string   `json:"name"`
	Type     string   `json:"type,omitempty"`
	Files    []string `json:"files,omitempty"`
	Literals []string `json:"literals,omitempty"`
}

// resource is one object of a build: its typed form and the file it came
// from, for messages.
type resource struct {
	obj    runtime.Object
	source string
}

func (r resource) meta() metav1.Object {
	m, err := metaOf(r.obj)
	if err != nil {
		panic(err)
	}
	return m
}

func (r resource) gvk() schema.GroupVersionKind { return r.obj.GetObjectKind().GroupVersionKind() }

// key names a resource as kustomize's resource ids do.
func (r resource) key() string {
	m := r.meta()
	return fmt.Sprintf("%s %s/%s", r.gvk().GroupKind(), m.GetNamespace(), m.GetName())
}

func metaOf(obj runtime.Object) (metav1.Object, error) {
	a, ok := obj.(metav1.Object)
	if !ok {
		return nil, fmt.Errorf("%T has no metadata", obj)
	}
	return a, nil
}

// strictDecoder decodes YAML or JSON into the typed objects of client-go's
// scheme, refusing unknown and duplicate fields (case-sensitively), as the
// API server's strict field validation does.
var strictDecoder = serjson.NewSerializerWithOptions(serjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
	serjson.SerializerOptions{Yaml: true, Strict: true})

// decodeObject decodes one document into a typed Kubernetes object.
func decodeObject(doc []byte, source string) (runtime.Object, error) {
	obj, gvk, err := strictDecoder.Decode(doc, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	obj.GetObjectKind().SetGroupVersionKind(*gvk)
	return obj, nil
}

// splitDocuments returns the non-empty YAML documents of data.
func splitDocuments(data []byte) ([][]byte, error) {
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		docs = append(docs, doc)
	}
}

// stripComments drops whole-line comments, to tell an empty document (only
// comments) from a real one.
func stripComments(doc []byte) []byte {
	var out []byte
	for line := range bytes.Lines(doc) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] == '#' || bytes.Equal(t, []byte("---")) {
			continue
		}
		out = append(out, line...)
	}
	return out
}

// decodeFile decodes every document of a manifest file.
func decodeFile(path string) ([]resource, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []resource
	for i, doc := range docs {
		source := fmt.Sprintf("%s (document %d)", path, i+1)
		obj, err := decodeObject(doc, source)
		if err != nil {
			return nil, err
		}
		out = append(out, resource{obj, source})
	}
	return out, nil
}

// readKustomization reads dir/kustomization.yaml strictly.
func readKustomization(dir string) (*kustomization, error) {
	path := filepath.Join(dir, "kustomization.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	js, err := k8syaml.ToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	var k kustomization
	if err := dec.Decode(&k); err != nil {
		return nil, fmt.Errorf("%s: %w (a field this test's kustomize subset does not support? extend kustomize_test.go)", path, err)
	}
	return &k, nil
}

// build builds the kustomization in dir, as `kustomize build dir` would.
func build(dir string) ([]resource, error) {
	return buildKind(dir, "Kustomization")
}

func buildKind(dir, kind string) ([]resource, error) {
	k, err := readKustomization(dir)
	if err != nil {
		return nil, err
	}
	wantAPI := map[string]string{
		"Kustomization": "kustomize.config.k8s.io/v1beta1",
		"Component":     "kustomize.config.k8s.io/v1alpha1",
	}[kind]
	if k.Kind != kind || k.APIVersion != wantAPI {
		return nil, fmt.Errorf("%s: %s %s, want %s %s", dir, k.APIVersion, k.Kind, wantAPI, kind)
	}
	var res []resource
	for _, r := range k.Resources {
		path := filepath.Join(dir, r)
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		var more []resource
		if fi.IsDir() {
			more, err = build(path)
		} else {
			more, err = decodeFile(path)
		}
		if err != nil {
			return nil, err
		}
		res = append(res, more...)
	}
	for _, c := range k.Components {
		comp, err := buildKind(filepath.Join(dir, c), "Component")
		if err != nil {
			return nil, err
		}
		res = append(res, comp...)
	}
	for _, g := range k.SecretGenerator {
		s, err := generateSecret(dir, g, k.GeneratorOptions != nil && k.GeneratorOptions.DisableNameSuffixHash)
		if err != nil {
			return nil, err
		}
		res = append(res, s)
	}
	for _, p := range k.Patches {
		if res, err = applyPatch(res, filepath.Join(dir, p.Path)); err != nil {
			return nil, err
		}
	}
	if k.Namespace != "" {
		setNamespace(res, k.Namespace)
	}
	for _, img := range k.Images {
		setImage(res, img)
	}
	seen := map[string]string{}
	for _, r := range res {
		if prev, ok := seen[r.key()]; ok {
			return nil, fmt.Errorf("%s: %s is defined twice: %s and %s", dir, r.key(), prev, r.source)
		}
		seen[r.key()] = r.source
	}
	return res, nil
}

// generateSecret makes a secretGenerator's Secret. Without
// disableNameSuffixHash kustomize would append a content hash to its name
// and rewrite the references; these manifests turn that off, and so does
// this subset.
func generateSecret(dir string, g secretGenerator, noHash bool) (resource, error) {
	if !noHash {
		return resource{}, fmt.Errorf("%s: secretGenerator %s: name suffix hashes are not supported here; set generatorOptions.disableNameSuffixHash", dir, g.Name)
	}
	data := map[string][]byte{}
	add := func(key string, value []byte) error {
		if _, dup := data[key]; dup {
			return fmt.Errorf("%s: secretGenerator %s: key %s twice", dir, g.Name, key)
		}
		data[key] = value
		return nil
	}
	for _, f := range g.Files {
		key, path, ok := strings.Cut(f, "=")
		if !ok {
			key, path = filepath.Base(f), f
		}
		b, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil {
			return resource{}, fmt.Errorf("secretGenerator %s: %w", g.Name, err)
		}
		if err := add(key, b); err != nil {
			return resource{}, err
		}
	}
	for _, l := range g.Literals {
		key, value, ok := strings.Cut(l, "=")
		if !ok {
			return resource{}, fmt.Errorf("%s: secretGenerator %s: literal %q has no =", dir, g.Name, l)
		}
		if err := add(key, []byte(value)); err != nil {
			return resource{}, err
		}
	}
	typ := g.Type
	if typ == "" {
		typ = "Opaque"
	}
	doc, err := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": g.Name},
		"type":     typ,
		"data":     encodeData(data),
	})
	if err != nil {
		return resource{}, err
	}
	source := filepath.Join(dir, "kustomization.yaml") + " secretGenerator " + g.Name
	obj, err := decodeObject(doc, source)
	return resource{obj, source}, err
}

func encodeData(data map[string][]byte) map[string]string {
	out := map[string]string{}
	for k, v := range data {
		out[k] = base64.StdEncoding.EncodeToString(v)
	}
	return out
}

// applyPatch applies a strategic-merge patch file to the resource it names
// (by group, kind and name, as kustomize finds a patch's target when the
// patch has no explicit target), or deletes it for `$patch: delete`.
func applyPatch(res []resource, path string) ([]resource, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	docs, err := splitDocuments(data)
	if err != nil {
		return nil, err
	}
	for _, doc := range docs {
		patchJSON, err := k8syaml.ToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
			Patch string `json:"$patch"`
		}
		if err := json.Unmarshal(patchJSON, &head); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		gv, err := schema.ParseGroupVersion(head.APIVersion)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		i := slices.IndexFunc(res, func(r resource) bool {
			return r.gvk().Group == gv.Group && r.gvk().Kind == head.Kind && r.meta().GetName() == head.Metadata.Name &&
				(head.Metadata.Namespace == "" || head.Metadata.Namespace == r.meta().GetNamespace())
		})
		if i < 0 {
			return nil, fmt.Errorf("%s: no %s %s to patch", path, head.Kind, head.Metadata.Name)
		}
		if head.Patch == "delete" {
			res = slices.Delete(res, i, i+1)
			continue
		}
		orig, err := json.Marshal(res[i].obj)
		if err != nil {
			return nil, err
		}
		typed, err := scheme.Scheme.New(res[i].gvk())
		if err != nil {
			return nil, err
		}
		merged, err := strategicpatch.StrategicMergePatch(orig, patchJSON, typed)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		source := res[i].source + " patched by " + path
		obj, err := decodeObject(merged, source)
		if err != nil {
			return nil, err
		}
		res[i] = resource{obj, source}
	}
	return res, nil
}

// clusterScoped are the kinds of these manifests that have no namespace.
var clusterScoped = map[string]bool{"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true}

// setNamespace is kustomize's namespace transformer for these manifests:
// every namespaced object moves to ns, and a RoleBinding's ServiceAccount
// subjects follow the ServiceAccount they name.
func setNamespace(res []resource, ns string) {
	for _, r := range res {
		if !clusterScoped[r.gvk().Kind] {
			r.meta().SetNamespace(ns)
		}
	}
	accounts := map[string]string{}
	for _, r := range res {
		if r.gvk().Kind == "ServiceAccount" {
			accounts[r.meta().GetName()] = r.meta().GetNamespace()
		}
	}
	for _, r := range res {
		for _, s := range subjectsOf(r.obj) {
			if s.Kind == "ServiceAccount" {
				if sa, ok := accounts[s.Name]; ok {
					s.Namespace = sa
				}
			}
		}
	}
}

// setImage is kustomize's image transformer: containers whose image is
// img.Name (with any tag or digest) get the new name, tag or digest.
func setImage(res []resource, img image) {
	for _, r := range res {
		spec := podSpecOf(r.obj)
		if spec == nil {
			continue
		}
		for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
			for i := range cs {
				cs[i].Image = retag(cs[i].Image, img)
			}
		}
	}
}

func retag(ref string, img image) string {
	name, tag, digest := splitImage(ref)
	if name != img.Name {
		return ref
	}
	if img.NewName != "" {
		name = img.NewName
	}
	switch {
	case img.Digest != "":
		return name + "@" + img.Digest
	case img.NewTag != "":
		return name + ":" + img.NewTag
	case digest != "":
		return name + "@" + digest
	case tag != "":
		return name + ":" + tag
	}
	return name
}

// splitImage splits an image reference into its name, tag and digest.
func splitImage(ref string) (name, tag, digest string) {
	if n, d, ok := strings.Cut(ref, "@"); ok {
		ref, digest = n, d
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i+1:], digest
	}
	return ref, "", digest
}

// podSpecOf returns the pod template's spec of a workload, nil for other
// objects.
func podSpecOf(obj runtime.Object) *corev1.PodSpec {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template.Spec
	case *appsv1.StatefulSet:
		return &o.Spec.Template.Spec
	case *appsv1.DaemonSet:
		return &o.Spec.Template.Spec
	case *corev1.Pod:
		return &o.Spec
	}
	return nil
}

// subjectsOf returns the subjects of a (Cluster)RoleBinding.
func subjectsOf(obj runtime.Object) []*rbacv1.Subject {
	var subjects []rbacv1.Subject
	switch o := obj.(type) {
	case *rbacv1.RoleBinding:
		subjects = o.Subjects
	case *rbacv1.ClusterRoleBinding:
		subjects = o.Subjects
	}
	out := make([]*rbacv1.Subject, len(subjects))
	for i := range subjects {
		out[i] = &subjects[i]
	}
	return out
}

// kustomizeCommand finds a real kustomize: $HEARTH_KUSTOMIZE (a kustomize
// binary), else kustomize on PATH (both run as `kustomize build DIR`), else
// `kubectl kustomize DIR`. None is installed here (no network for their
// binaries), so the comparison runs where one is.
func kustomizeCommand() []string {
	if k := os.Getenv("HEARTH_KUSTOMIZE"); k != "" {
		return []string{k, "build"}
	}
	if k, err := exec.LookPath("kustomize"); err == nil {
		return []string{k, "build"}
	}
	if k, err := exec.LookPath("kubectl"); err == nil {
		return []string{k, "kustomize"}
	}
	return nil
}

// TestBuildMatchesKustomize builds base/ and overlays/small with a real
// kustomize and with build, and wants the same objects, field for field.
func TestBuildMatchesKustomize(t *testing.T) {
	kz := kustomizeCommand()
	if kz == nil {
		t.Skip("no kustomize or kubectl: set HEARTH_KUSTOMIZE to a kustomize binary to compare build with it")
	}
	in := buildInstall(t, "overlays/small", nil)
	for _, dir := range []string{"base", "overlays/small"} {
		t.Run(dir, func(t *testing.T) {
			path := filepath.Join(in.dir, dir)
			out, err := exec.Command(kz[0], append(kz[1:], path)...).Output()
			if err != nil {
				t.Fatalf("%q: %v", kz, err)
			}
			docs, err := splitDocuments(out)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			for i, doc := range docs {
				obj, err := decodeObject(doc, fmt.Sprintf("kustomize output document %d", i+1))
				if err != nil {
					t.Fatal(err)
				}
				r := resource{obj: obj}
				want[r.key()] = canonical(t, obj)
			}
			res, err := build(path)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, r := range res {
				got[r.key()] = canonical(t, r.obj)
			}
			for k, w := range want {
				switch g, ok := got[k]; {
				case !ok:
					t.Errorf("kustomize makes %s, build does not", k)
				case g != w:
					t.Errorf("%s differs:\nbuild:     %s\nkustomize: %s", k, g, w)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("build makes %s, kustomize does not", k)
				}
			}
		})
	}
}

// canonical is an object's JSON with map keys sorted and each container's
// env sorted by name: a strategic merge keeps a patched variable where it
// was, kustomize's moves it first, and which comes first changes nothing
// unless a value refers to another with $(VAR), which checkReferences
// checks in build's order.
func canonical(t testing.TB, obj runtime.Object) string {
	t.Helper()
	obj = obj.DeepCopyObject()
	if spec := podSpecOf(obj); spec != nil {
		for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
			for i := range cs {
				slices.SortStableFunc(cs[i].Env, func(a, b corev1.EnvVar) int { return strings.Compare(a.Name, b.Name) })
			}
		}
	}
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	b, err = json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
