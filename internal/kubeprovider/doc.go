// Package kubeprovider scales Hearth runners on Kubernetes: Kubernetes is an
// autoscaler.Scaler that sets the replicas of a runner Deployment through
// its scale subresource, the same call `kubectl scale` makes.
//
// It is its own package because it links Kubernetes' client (client-go),
// which is about as large as the rest of the gateway; only a program that
// offers the kubernetes provider imports it. The providers that need no
// cluster, Static and Process, are in gateway/autoscaler/provider.
//
// New builds the client the way kubectl finds its cluster: the pod's
// service account when running in a cluster, otherwise a kubeconfig file
// (Config.Kubeconfig, else $KUBECONFIG, else ~/.kube/config). The service
// account needs only get and update on deployments/scale.
package kubeprovider
