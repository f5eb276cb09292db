package kubeprovider

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
)

// Config names the runner Deployment a Kubernetes provider scales and
// where its cluster is.
type Config struct {
	// Deployment is the runner Deployment to scale. Required.
	Deployment string
	// Namespace is the Deployment's namespace; empty means "default".
	Namespace string
	// Kubeconfig is a kubeconfig file to reach the cluster with. Empty
	// means the pod's service account when running in a cluster, else
	// $KUBECONFIG, else ~/.kube/config. New only reads it.
	Kubeconfig string
}

// ErrNoDeployment is returned by New when Config.Deployment is empty.
var ErrNoDeployment = errors.New("kubernetes provider: no runner Deployment named (set Config.Deployment, --k8s-deployment NAME)")

// ErrNoCluster is returned by New when it finds no cluster to talk to: not
// in a pod, and no kubeconfig.
var ErrNoCluster = errors.New("kubernetes provider: no cluster configuration: not running in a pod " +
	"(KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT unset) and no kubeconfig " +
	"(set Config.Kubeconfig, --kubeconfig FILE, or $KUBECONFIG; or create ~/.kube/config)")

// ErrNegative is returned by Scale when asked for fewer than zero runners.
var ErrNegative = errors.New("runner count must be zero or more")

// Kubernetes scales a Deployment of runners by setting its replicas through
// the scale subresource, so it needs only get and update on
// deployments/scale.
//
// Kubernetes does the draining: it sends SIGTERM to the pods it removes and
// waits terminationGracePeriodSeconds, which must cover the runner's 30s
// drain.
type Kubernetes struct {
	client kubernetes.Interface
	cfg    Config
}

// New returns a provider that scales cfg.Deployment in the cluster that
// cfg.Kubeconfig, or the pod it runs in, names. It does not contact the
// cluster: a Deployment that is missing or not allowed shows in the first
// Runners or Scale.
func New(cfg Config) (*Kubernetes, error) {
	if cfg.Deployment == "" {
		return nil, ErrNoDeployment
	}
	rc, err := restConfig(cfg.Kubeconfig)
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes provider: client for %s: %w", rc.Host, err)
	}
	return NewWithClient(client, cfg), nil
}

// restConfig finds the cluster: in a pod, its service account, unless a
// kubeconfig file is given; otherwise the kubeconfig file (kubeconfig, else
// $KUBECONFIG, else ~/.kube/config).
func restConfig(kubeconfig string) (*rest.Config, error) {
	var inCluster error
	if kubeconfig == "" {
		rc, err := rest.InClusterConfig()
		if err == nil {
			return rc, nil
		}
		inCluster = err
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	rc, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	switch {
	case err == nil:
		return rc, nil
	case kubeconfig != "":
		return nil, fmt.Errorf("kubernetes provider: kubeconfig %s: %w", kubeconfig, err)
	case !clientcmd.IsEmptyConfig(err):
		return nil, fmt.Errorf("kubernetes provider: kubeconfig: %w", err)
	case errors.Is(inCluster, rest.ErrNotInCluster):
		return nil, ErrNoCluster
	default: // in a pod whose service account could not be read
		return nil, fmt.Errorf("%w; in-cluster: %w", ErrNoCluster, inCluster)
	}
}

// NewWithClient returns a provider that scales cfg.Deployment through
// client (tests pass client-go's fake clientset); cfg.Kubeconfig is unused.
func NewWithClient(client kubernetes.Interface, cfg Config) *Kubernetes {
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
	if n < 0 {
		return fmt.Errorf("scale to %d: %w", n, ErrNegative)
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
		return fmt.Errorf("%s: deployment %s/%s not found (check Config.Namespace and Deployment, --k8s-namespace and --k8s-deployment): %w",
			op, k.cfg.Namespace, k.cfg.Deployment, err)
	}
	return fmt.Errorf("%s: deployment %s/%s: %w", op, k.cfg.Namespace, k.cfg.Deployment, err)
}
