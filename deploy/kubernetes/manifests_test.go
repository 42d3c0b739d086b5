// The manifests' offline checks: every document decodes strictly into its k8s.io/api type
// (an unknown, misspelt or mistyped field fails), the objects agree with each other (selectors,
// ports, the autoscaler's target) and with the binary (every SPOOFSENSE_* variable is a flag
// spoofsense serve accepts, with a value it accepts), and the pod is locked down as the README
// says. The other check, `podman kube play` of the Deployment with the image just built, is in
// deploy/image/image-test.sh (make image-test).
package kubernetes

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/spf13/pflag"

	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/cmd/serve"
)

// kinds are the objects the manifests may hold, by apiVersion and kind; decode makes the typed
// object of each.
var kinds = map[string]func() any{
	"apps/v1 Deployment":                     func() any { return &appsv1.Deployment{} },
	"v1 Service":                             func() any { return &corev1.Service{} },
	"autoscaling/v2 HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1 PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"batch/v1 Job":                           func() any { return &batchv1.Job{} },
}

// decode strictly decodes every YAML document of data (split on ---) into its k8s.io/api type:
// an unknown or duplicate field, a value of the wrong type, or a kind not in kinds is an error.
func decode(name string, data []byte) ([]any, error) {
	var objs []any
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(doc, "")) == "" {
			continue
		}
		var tm struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			return nil, fmt.Errorf("%s document %d: %w", name, i+1, err)
		}
		newObj, ok := kinds[tm.APIVersion+" "+tm.Kind]
		if !ok {
			return nil, fmt.Errorf("%s document %d: apiVersion %q kind %q is not one of the manifests' kinds", name, i+1, tm.APIVersion, tm.Kind)
		}
		obj := newObj()
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			return nil, fmt.Errorf("%s document %d (%s): %w", name, i+1, tm.Kind, err)
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// manifests are the objects of every *.yaml file in this folder.
type manifests struct {
	deploy *appsv1.Deployment
	svc    *corev1.Service
	hpa    *autoscalingv2.HorizontalPodAutoscaler
	pdb    *policyv1.PodDisruptionBudget
}

func load(t *testing.T) manifests {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests here (%v)", err)
	}
	var m manifests
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := decode(f, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			switch o := o.(type) {
			case *appsv1.Deployment:
				m.deploy = set(t, m.deploy, o)
			case *corev1.Service:
				m.svc = set(t, m.svc, o)
			case *autoscalingv2.HorizontalPodAutoscaler:
				m.hpa = set(t, m.hpa, o)
			case *policyv1.PodDisruptionBudget:
				m.pdb = set(t, m.pdb, o)
			case *batchv1.Job:
				t.Fatalf("%s: a Job belongs in bulk/, not beside the server's manifests (kubectl apply -f deploy/kubernetes/ would start it)", f)
			}
		}
	}
	if m.deploy == nil || m.svc == nil || m.hpa == nil || m.pdb == nil {
		t.Fatalf("want one Deployment, Service, HorizontalPodAutoscaler and PodDisruptionBudget, got %+v", m)
	}
	return m
}

func set[T any](t *testing.T, have, o *T) *T {
	t.Helper()
	if have != nil {
		t.Fatalf("two %T objects", o)
	}
	return o
}

func TestManifestsDecodeStrictly(t *testing.T) {
	m := load(t)
	if got := m.deploy.Name; got != "spoofsense" {
		t.Errorf("Deployment name %q", got)
	}
}

// The checks above must be able to fail: a misspelt field, a value of the wrong type, a
// duplicate key, an unknown kind and a field of another API version are all refused.
func TestStrictDecodingRejects(t *testing.T) {
	data, err := os.ReadFile("deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	good := string(data)
	for _, tt := range []struct{ name, old, new, want string }{
		{"misspelt field", "readinessProbe:", "readinesProbe:", `unknown field "readinesProbe"`},
		{"wrong type", "containerPort: 8080", `containerPort: "8080"`, "cannot unmarshal string"},
		{"duplicate key", "      maxSurge: 1", "      maxSurge: 1\n      maxSurge: 2", "already set"},
		{"unknown kind", "kind: Deployment", "kind: Deploymnet", "not one of the manifests' kinds"},
		{"field of another version", "  revisionHistoryLimit: 5", "  revisionHistoryLimit: 5\n  rollbackTo: {revision: 1}", `unknown field "rollbackTo"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("deployment.yaml has no %q to change", tt.old)
			}
			_, err := decode("deployment.yaml", []byte(strings.Replace(good, tt.old, tt.new, 1)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
	if _, err := decode("deployment.yaml", data); err != nil {
		t.Errorf("the unchanged file: %v", err)
	}
}

// The objects point at each other: the Deployment's selector picks its own pods, and the Service,
// the PodDisruptionBudget and the autoscaler pick the Deployment's pods and port.
func TestManifestsAgree(t *testing.T) {
	m := load(t)
	d := m.deploy
	podLabels := d.Spec.Template.Labels
	matches := func(what string, sel map[string]string) {
		if len(sel) == 0 {
			t.Errorf("%s selects nothing", what)
		}
		for k, v := range sel {
			if podLabels[k] != v {
				t.Errorf("%s selects %s=%s, which the pod template (labels %v) lacks", what, k, v, podLabels)
			}
		}
	}
	if d.Spec.Selector == nil || len(d.Spec.Selector.MatchExpressions) > 0 {
		t.Fatal("the Deployment's selector must be matchLabels only")
	}
	matches("the Deployment", d.Spec.Selector.MatchLabels)
	matches("the Service", m.svc.Spec.Selector)
	if m.pdb.Spec.Selector == nil {
		t.Fatal("the PodDisruptionBudget has no selector")
	}
	matches("the PodDisruptionBudget", m.pdb.Spec.Selector.MatchLabels)

	c := container(t, d)
	for _, p := range m.svc.Spec.Ports {
		if p.TargetPort.Type != intstr.String || !slices.ContainsFunc(c.Ports, func(cp corev1.ContainerPort) bool { return cp.Name == p.TargetPort.StrVal }) {
			t.Errorf("Service port %d targets %v, not a named port of the container", p.Port, p.TargetPort.String())
		}
	}
	ref := m.hpa.Spec.ScaleTargetRef
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != d.Name {
		t.Errorf("the autoscaler targets %+v, want the Deployment %s", ref, d.Name)
	}
	if len(m.hpa.Spec.Metrics) != 1 || m.hpa.Spec.Metrics[0].Resource == nil || m.hpa.Spec.Metrics[0].Resource.Name != corev1.ResourceCPU ||
		m.hpa.Spec.Metrics[0].Resource.Target.AverageUtilization == nil {
		t.Errorf("the autoscaler's metrics %+v, want CPU utilization", m.hpa.Spec.Metrics)
	}
	if min := m.hpa.Spec.MinReplicas; min == nil || *min < 2 || d.Spec.Replicas == nil || *d.Spec.Replicas < *min {
		t.Error("want at least 2 replicas (Deployment and autoscaler minimum) so that the disruption budget can let one go")
	}
	if mu := m.pdb.Spec.MaxUnavailable; mu == nil || mu.IntValue() != 1 || m.pdb.Spec.MinAvailable != nil {
		t.Errorf("the PodDisruptionBudget: maxUnavailable %v, minAvailable %v; want maxUnavailable 1", mu, m.pdb.Spec.MinAvailable)
	}
}

func container(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("the pod has %d containers, want 1", len(cs))
	}
	return cs[0]
}

// The pod is locked down: non-root, read-only root file system, no capabilities, no privilege
// escalation, the runtime's default seccomp profile, and the API keys come from a Secret.
func TestDeploymentSecurity(t *testing.T) {
	d := load(t).deploy
	c := container(t, d)
	checkLockdown(t, &d.Spec.Template.Spec)
	var keys *corev1.EnvVar
	for i, e := range c.Env {
		if e.Name == serve.EnvAPIKeys {
			keys = &c.Env[i]
		}
	}
	if keys == nil || keys.Value != "" || keys.ValueFrom == nil || keys.ValueFrom.SecretKeyRef == nil ||
		keys.ValueFrom.SecretKeyRef.Name == "" || keys.ValueFrom.SecretKeyRef.Key == "" {
		t.Errorf("%s: %+v, want it from a Secret (valueFrom.secretKeyRef)", serve.EnvAPIKeys, keys)
	} else if o := keys.ValueFrom.SecretKeyRef.Optional; o != nil && *o {
		t.Error("the API keys Secret is optional: without it the pod would serve with no keys")
	}
}

// checkLockdown checks the pod spec's and its one container's security settings.
func checkLockdown(t *testing.T, pod *corev1.PodSpec) {
	t.Helper()
	ps := pod.SecurityContext
	if len(pod.Containers) != 1 {
		t.Fatalf("the pod has %d containers, want 1", len(pod.Containers))
	}
	cs := pod.Containers[0].SecurityContext
	switch {
	case ps == nil || cs == nil:
		t.Fatal("the pod and the container need a securityContext")
	case ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot:
		t.Error("pod runAsNonRoot is not true")
	case ps.RunAsUser == nil || *ps.RunAsUser != 65532:
		t.Error("pod runAsUser is not 65532, the image's user")
	case ps.SeccompProfile == nil || ps.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault:
		t.Error("pod seccompProfile is not RuntimeDefault")
	case cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem:
		t.Error("container readOnlyRootFilesystem is not true")
	case cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation:
		t.Error("container allowPrivilegeEscalation is not false")
	case cs.Capabilities == nil || !slices.Equal(cs.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(cs.Capabilities.Add) > 0:
		t.Errorf("container capabilities %+v, want drop [ALL] and nothing added", cs.Capabilities)
	case pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken:
		t.Error("the pod mounts a service account token it does not use")
	}
}

// The probes use the server's routes, readiness fails within the drain delay (so the endpoint is
// gone before the port closes), and the grace period outlasts the drain and the shutdown timeout.
// The container's settings are ones spoofsense serve accepts, and its CPU-bound sizing agrees with
// SPOOFSENSE_MAX_INFLIGHT.
func TestDeploymentRuntime(t *testing.T) {
	d := load(t).deploy
	c := container(t, d)
	probe := func(what string, p *corev1.Probe, path string) *corev1.Probe {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != path || p.HTTPGet.Port.StrVal != "http" {
			t.Fatalf("%s probe %+v, want GET %s on port http", what, p, path)
		}
		return p
	}
	ready := probe("readiness", c.ReadinessProbe, "/readyz")
	probe("liveness", c.LivenessProbe, "/healthz")

	opts := serveOptions(t, c.Env)
	detect := time.Duration(ready.PeriodSeconds*ready.FailureThreshold) * time.Second
	if detect > opts.DrainDelay {
		t.Errorf("readiness notices the stop only after %s (period × failures), longer than the %s drain delay", detect, opts.DrainDelay)
	}
	grace := time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds) * time.Second
	if need := opts.DrainDelay + opts.ShutdownTimeout; grace <= need {
		t.Errorf("terminationGracePeriodSeconds %s does not outlast the drain delay plus the shutdown timeout (%s)", grace, need)
	}

	req, lim := c.Resources.Requests, c.Resources.Limits
	cpu, mem := lim.Cpu(), lim.Memory()
	if cpu.IsZero() || mem.IsZero() || !req.Cpu().Equal(*cpu) || !req.Memory().Equal(*mem) {
		t.Errorf("resources %+v: want CPU and memory limits equal to the requests (the load test's size, Guaranteed QoS)", c.Resources)
	}
	if cpu.MilliValue()%1000 != 0 || int64(opts.MaxInflight) != cpu.Value() {
		t.Errorf("SPOOFSENSE_MAX_INFLIGHT %d, want the CPU limit %s (one image scored per CPU)", opts.MaxInflight, cpu)
	}
	if ml := envValue(c.Env, "GOMEMLIMIT"); ml != "" {
		n, ok := strings.CutSuffix(ml, "MiB")
		v, err := strconv.ParseInt(n, 10, 64)
		if !ok || err != nil || v<<20 >= mem.Value() {
			t.Errorf("GOMEMLIMIT %q, want a MiB figure below the memory limit %s", ml, mem)
		}
	}
	if d.Spec.Strategy.RollingUpdate == nil || d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Error("a rolling update may take a pod away before its replacement is ready (want maxUnavailable 0)")
	}
}

func envValue(env []corev1.EnvVar, name string) string {
	for _, e := range env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// serveOptions runs spoofsense serve's flag and environment handling on the container's
// environment, as the binary in the pod would, and returns the options it would run with. A
// SPOOFSENSE_* variable that names no flag, or a value the flag refuses, fails the test.
func serveOptions(t *testing.T, env []corev1.EnvVar) *serve.ServeOptions {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, serve.EnvPrefix) {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
	ios, _, _, _ := cmdutil.Test()
	var got *serve.ServeOptions
	cmd := serve.NewCmdServe(&cmdutil.Factory{IOStreams: ios, Version: "manifest-test"}, func(o *serve.ServeOptions) error {
		got = o
		return nil
	})
	known := map[string]bool{serve.EnvAPIKeys: true}
	cmd.Flags().VisitAll(func(f *pflag.Flag) { known[serve.EnvName(f.Name)] = true })
	for _, e := range env {
		switch {
		case strings.HasPrefix(e.Name, serve.EnvPrefix) && !known[e.Name]:
			t.Errorf("env %s is no setting of spoofsense serve", e.Name)
		case e.ValueFrom != nil:
			t.Setenv(e.Name, "from-a-secret")
		default:
			t.Setenv(e.Name, e.Value)
		}
	}
	cmd.SetArgs(nil)
	cmd.SetOut(io.Discard)
	var stderr bytes.Buffer
	cmd.SetErr(&stderr)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("spoofsense serve refuses the Deployment's environment: %v", err)
	}
	return got
}
