// Package kubernetes holds the Kubernetes manifests of spoofsense serve (the YAML files beside
// this one) and, in its tests, their offline checks against the k8s.io/api types and the
// binary's flags.
package kubernetes
