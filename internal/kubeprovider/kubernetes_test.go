package kubeprovider

import (
	"context"
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/hearthfn/hearth/gateway/autoscaler"
)

var _ autoscaler.Scaler = (*Kubernetes)(nil)

func runnerDeployment(ns, name string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       appsv1.DeploymentSpec{Replicas: &replicas},
	}
}

func TestKubernetesScale(t *testing.T) {
	ctx := context.Background()
	client := newFakeClientset(runnerDeployment("hearth", "runner", 2))
	k := NewWithClient(client, Config{Namespace: "hearth", Deployment: "runner"})
	if k.Name() != "kubernetes" {
		t.Errorf("Name() = %q, want kubernetes", k.Name())
	}
	if n, err := k.Runners(ctx); n != 2 || err != nil {
		t.Fatalf("Runners() = %d, %v; want 2, nil", n, err)
	}
	for _, want := range []int{5, 1, 1, 0, 3} {
		if err := k.Scale(ctx, want); err != nil {
			t.Fatalf("Scale(%d): %v", want, err)
		}
		s, err := client.AppsV1().Deployments("hearth").GetScale(ctx, "runner", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("GetScale: %v", err)
		}
		if s.Spec.Replicas != int32(want) {
			t.Errorf("after Scale(%d): scale replicas = %d", want, s.Spec.Replicas)
		}
		d, err := client.AppsV1().Deployments("hearth").Get(ctx, "runner", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if *d.Spec.Replicas != int32(want) {
			t.Errorf("after Scale(%d): deployment replicas = %d", want, *d.Spec.Replicas)
		}
		if n, err := k.Runners(ctx); n != want || err != nil {
			t.Errorf("after Scale(%d): Runners() = %d, %v", want, n, err)
		}
	}
}

func TestKubernetesErrors(t *testing.T) {
	ctx := context.Background()
	client := newFakeClientset(runnerDeployment("hearth", "runner", 2))

	missing := NewWithClient(client, Config{Namespace: "hearth", Deployment: "runners"})
	err := missing.Scale(ctx, 3)
	if !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), "deployment hearth/runners not found") {
		t.Errorf("Scale on a missing deployment = %v, want a not-found error naming hearth/runners", err)
	}
	if _, err := missing.Runners(ctx); !apierrors.IsNotFound(err) {
		t.Errorf("Runners on a missing deployment = %v, want not found", err)
	}

	wrongNS := NewWithClient(client, Config{Deployment: "runner"}) // "default"
	if err := wrongNS.Scale(ctx, 3); !apierrors.IsNotFound(err) || !strings.Contains(err.Error(), "default/runner") {
		t.Errorf("Scale in the wrong namespace = %v, want not found naming default/runner", err)
	}

	k := NewWithClient(client, Config{Namespace: "hearth", Deployment: "runner"})
	if err := k.Scale(ctx, -1); !errors.Is(err, ErrNegative) {
		t.Errorf("Scale(-1) = %v, want ErrNegative", err)
	}
	if n, _ := k.Runners(ctx); n != 2 {
		t.Errorf("Runners() after failed scales = %d, want 2", n)
	}
}

// TestKubernetesScaleRetriesConflict: when another writer changes the scale
// between read and write, Scale reads again and retries.
func TestKubernetesScaleRetriesConflict(t *testing.T) {
	ctx := context.Background()
	client := newFakeClientset(runnerDeployment("hearth", "runner", 2))
	conflicts := 0
	client.PrependReactor("update", "deployments", func(action k8stesting.Action) (bool, runtime.Object, error) {
		if action.GetSubresource() != "scale" || conflicts > 0 {
			return false, nil, nil
		}
		conflicts++
		return true, nil, apierrors.NewConflict(schema.GroupResource{Group: "apps", Resource: "deployments"}, "runner", errors.New("the object has been modified"))
	})
	k := NewWithClient(client, Config{Namespace: "hearth", Deployment: "runner"})
	if err := k.Scale(ctx, 4); err != nil {
		t.Fatalf("Scale(4) after a conflict: %v", err)
	}
	if conflicts != 1 {
		t.Errorf("conflicts injected = %d, want 1", conflicts)
	}
	if n, err := k.Runners(ctx); n != 4 || err != nil {
		t.Errorf("Runners() = %d, %v; want 4, nil", n, err)
	}
}
