// Package deploy turns a plan.Candidate into files a platform team reviews
// and applies: an AKS GPU node pool (az CLI script and Bicep) with the
// Kubernetes objects that serve the model with vLLM (Namespace, PVC,
// Deployment or LeaderWorkerSet, Service, PodDisruptionBudget, KEDA
// ScaledObject, ServiceMonitor), a KAITO Workspace, or an Azure Container
// Apps serverless-GPU app.
//
// Deploy never sizes anything itself: every engine setting comes from the
// candidate (which the planner sized), and compatibility is judged by the
// compatibility verdict engine.Check. What cannot be deployed as asked is refused with
// a *RefusedError that says why. Nothing is applied to any cluster.
//
// Built-in Kubernetes kinds are built with the k8s.io/api types; the custom
// resources (LeaderWorkerSet, KEDA, ServiceMonitor, KAITO Workspace) use the
// small typed structs in crds.go, whose field names follow the pinned CRD
// schemas in testdata/crds (the tests validate every generated object
// against them).
package deploy
