package kubeprovider

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// newFakeClientset returns client-go's fake clientset holding objs, taught
// the deployments/scale subresource: its object tracker stores Deployments
// but does not turn them into Scale objects, so GetScale and UpdateScale
// would otherwise fail. The reactors read and write the Deployment's
// spec.replicas, as the API server does.
func newFakeClientset(objs ...runtime.Object) *fake.Clientset {
	client := fake.NewClientset(objs...)
	tracker := client.Tracker()
	gvr := appsv1.SchemeGroupVersion.WithResource("deployments")
	deployment := func(ns, name string) (*appsv1.Deployment, error) {
		obj, err := tracker.Get(gvr, ns, name)
		if err != nil {
			return nil, err
		}
		return obj.(*appsv1.Deployment).DeepCopy(), nil
	}
	scaleOf := func(d *appsv1.Deployment) *autoscalingv1.Scale {
		var replicas int32 = 1 // the API server's default
		if d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		}
		return &autoscalingv1.Scale{
			ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name, ResourceVersion: d.ResourceVersion},
			Spec:       autoscalingv1.ScaleSpec{Replicas: replicas},
			Status:     autoscalingv1.ScaleStatus{Replicas: d.Status.Replicas},
		}
	}
	client.PrependReactor("get", "deployments", func(action k8stesting.Action) (bool, runtime.Object, error) {
		get := action.(k8stesting.GetAction)
		if get.GetSubresource() != "scale" {
			return false, nil, nil
		}
		d, err := deployment(get.GetNamespace(), get.GetName())
		if err != nil {
			return true, nil, err
		}
		return true, scaleOf(d), nil
	})
	client.PrependReactor("update", "deployments", func(action k8stesting.Action) (bool, runtime.Object, error) {
		update := action.(k8stesting.UpdateAction)
		if update.GetSubresource() != "scale" {
			return false, nil, nil
		}
		s := update.GetObject().(*autoscalingv1.Scale)
		d, err := deployment(update.GetNamespace(), s.Name)
		if err != nil {
			return true, nil, err
		}
		replicas := s.Spec.Replicas
		d.Spec.Replicas = &replicas
		if err := tracker.Update(gvr, d, d.Namespace); err != nil {
			return true, nil, err
		}
		return true, scaleOf(d), nil
	})
	return client
}
