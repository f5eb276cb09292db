package provider

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// KubernetesConfig names the runner Deployment a Kubernetes provider scales.
type KubernetesConfig struct {
	Namespace  string // empty means "default"
	Deployment string
}

// Kubernetes scales a Deployment of runners by setting its replicas through
// the scale subresource, the same call `kubectl scale` makes, so it needs
// only get and update on deployments/scale.
//
// Kubernetes does the draining: it sends SIGTERM to the pods it removes and
// waits terminationGracePeriodSeconds, which must cover the runner's 30s
// drain.
type Kubernetes struct {
	client kubernetes.Interface
	cfg    KubernetesConfig
}

// NewKubernetes returns a provider that scales cfg.Deployment through client.
func NewKubernetes(client kubernetes.Interface, cfg KubernetesConfig) *Kubernetes {
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	return &Kubernetes{client: client, cfg: cfg}
}

// Name returns "kubernetes".
func (k *Kubernetes) Name() string { return "kubernetes" }

// Runners returns the Deployment's desired replicas. Pods may still be
// starting or draining; the scheduler's runner table says which take work.
func (k *Kubernetes) Runners(ctx context.Context) (int, error) {
	s, err := k.client.AppsV1().Deployments(k.cfg.Namespace).GetScale(ctx, k.cfg.Deployment, metav1.GetOptions{})
	if err != nil {
		return 0, k.wrap("read replicas", err)
	}
	return int(s.Spec.Replicas), nil
}

// Scale sets the Deployment's replicas to n, retrying when another writer
// changed the scale in between.
func (k *Kubernetes) Scale(ctx context.Context, n int) error {
	if err := checkCount(n); err != nil {
		return err
	}
	deployments := k.client.AppsV1().Deployments(k.cfg.Namespace)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, err := deployments.GetScale(ctx, k.cfg.Deployment, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if int(s.Spec.Replicas) == n {
			return nil
		}
		s.Spec.Replicas = int32(n)
		_, err = deployments.UpdateScale(ctx, k.cfg.Deployment, s, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return k.wrap(fmt.Sprintf("scale to %d", n), err)
	}
	return nil
}

func (k *Kubernetes) wrap(op string, err error) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s: deployment %s/%s not found (check KubernetesConfig.Namespace and Deployment): %w",
			op, k.cfg.Namespace, k.cfg.Deployment, err)
	}
	return fmt.Errorf("%s: deployment %s/%s: %w", op, k.cfg.Namespace, k.cfg.Deployment, err)
}
