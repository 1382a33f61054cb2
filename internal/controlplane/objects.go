package controlplane

import (
	"context"
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// CreateNamespace creates a namespace with labels and annotations.
func CreateNamespace(ctx context.Context, c kubernetes.Interface, name string, labels, annotations map[string]string) error {
	_, err := c.CoreV1().Namespaces().Create(ctx, &v1.Namespace{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations},
	}, metav1.CreateOptions{})
	return err
}

// CreateNodes creates nodes; their status (capacity) is written too.
func CreateNodes(ctx context.Context, c kubernetes.Interface, nodes ...*v1.Node) error {
	for _, n := range nodes {
		created, err := c.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("creating node %s: %w", n.Name, err)
		}
		created.Status = n.Status
		if _, err := c.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("writing the status of node %s: %w", n.Name, err)
		}
	}
	return nil
}

// CreatePods creates pods.
func CreatePods(ctx context.Context, c kubernetes.Interface, pods ...*v1.Pod) error {
	for _, p := range pods {
		if _, err := c.CoreV1().Pods(p.Namespace).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating pod %s/%s: %w", p.Namespace, p.Name, err)
		}
	}
	return nil
}
