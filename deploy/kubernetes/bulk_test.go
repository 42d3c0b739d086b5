package kubernetes

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/spoofsense/spoofsense/cmd/check"
	"github.com/spoofsense/spoofsense/cmd/cmdutil"
	"github.com/spoofsense/spoofsense/cmd/cmdutil/shard"
)

// loadJob strictly decodes bulk/job.yaml, the Indexed Job of a bulk run.
func loadJob(t *testing.T, data []byte) *batchv1.Job {
	t.Helper()
	objs, err := decode("bulk/job.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 {
		t.Fatalf("bulk/job.yaml holds %d objects, want one Job", len(objs))
	}
	j, ok := objs[0].(*batchv1.Job)
	if !ok {
		t.Fatalf("bulk/job.yaml holds a %T, want a Job", objs[0])
	}
	return j
}

// expandArgs expands $(NAME) in args from env as the kubelet does, with the completion index
// annotation's value set to index; a reference left unexpanded fails the test.
func expandArgs(t *testing.T, args []string, env []corev1.EnvVar, index string) []string {
	t.Helper()
	vals := map[string]string{}
	for _, e := range env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
			e.ValueFrom.FieldRef.FieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']":
			vals[e.Name] = index
		case e.ValueFrom == nil:
			vals[e.Name] = e.Value
		}
	}
	ref := regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = ref.ReplaceAllStringFunc(a, func(m string) string {
			v, ok := vals[m[2:len(m)-1]]
			if !ok {
				t.Errorf("arg %q: %s is no variable of the container's env, so the kubelet leaves it as is", a, m)
			}
			return v
		})
	}
	return out
}

// The bulk Job is an Indexed Job with one pod per shard, each shard retried on its own, usage
// errors not retried, the pod locked down like the server's and run from the same image; and
// spoofsense check accepts its arguments as pod 7 gets them: shard 7 of completions, its own
// part file, resumed, one worker per CPU of the limit.
func TestBulkJob(t *testing.T) {
	data, err := os.ReadFile("bulk/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	j := loadJob(t, data)
	s := j.Spec
	switch {
	case s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion:
		t.Error("completionMode is not Indexed: pods would get no JOB_COMPLETION_INDEX")
	case s.Completions == nil || s.Parallelism == nil || *s.Parallelism != *s.Completions:
		t.Errorf("completions %v, parallelism %v: want them set and equal (one pod per shard)", s.Completions, s.Parallelism)
	case s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex < 1:
		t.Error("backoffLimitPerIndex is not set: a failed shard would count against the whole Job")
	case s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever:
		t.Error("restartPolicy must be Never (podFailurePolicy and backoffLimitPerIndex need it)")
	}
	pod := &s.Template.Spec
	checkLockdown(t, pod)
	c := pod.Containers[0]
	if d := load(t).deploy; c.Image != container(t, d).Image {
		t.Errorf("image %q, want the server's %q (the image make image builds)", c.Image, container(t, d).Image)
	}
	failsIndexOn2 := s.PodFailurePolicy != nil && slices.ContainsFunc(s.PodFailurePolicy.Rules, func(r batchv1.PodFailurePolicyRule) bool {
		return r.Action == batchv1.PodFailurePolicyActionFailIndex && r.OnExitCodes != nil &&
			r.OnExitCodes.ContainerName != nil && *r.OnExitCodes.ContainerName == c.Name &&
			r.OnExitCodes.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && slices.Contains(r.OnExitCodes.Values, cmdutil.ExitUsage)
	})
	if !failsIndexOn2 {
		t.Error("podFailurePolicy does not fail the index on exit 2 (a usage error is retried for nothing)")
	}
	if !slices.Equal(c.Command, []string{"/spoofsense"}) || len(c.Args) == 0 || c.Args[0] != "check" {
		t.Fatalf("command %q args %q, want /spoofsense check … (the image's entrypoint is serve)", c.Command, c.Args)
	}

	args := expandArgs(t, c.Args[1:], c.Env, "7")
	t.Setenv(shard.IndexEnv, "7")
	ios, _, _, _ := cmdutil.Test()
	var got *check.CheckOptions
	cmd := check.NewCmdCheck(&cmdutil.Factory{IOStreams: ios}, func(o *check.CheckOptions) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	if err := cmd.Execute(); err != nil {
		t.Fatalf("spoofsense check refuses the Job's args %q: %v", args, err)
	}
	sh, err := shard.Parse("--shard", got.Shard, os.Getenv)
	if err != nil || sh.K != 7 || int32(sh.N) != *s.Completions {
		t.Errorf("--shard %q gives %v (%v) in pod 7, want shard 7 of the %d completions", got.Shard, sh, err, *s.Completions)
	}
	if !strings.Contains(got.Out, "7") || strings.Contains(got.Out, "$(") || !got.Resume || !got.ExitZero {
		t.Errorf("--out %q resume %v exit-zero %v: want pod 7's own part file, resumed, exit 0 whatever the verdicts", got.Out, got.Resume, got.ExitZero)
	}
	if cpu := c.Resources.Limits.Cpu(); int64(got.Workers) != cpu.Value() || !c.Resources.Requests.Cpu().Equal(*cpu) {
		t.Errorf("--workers %d, CPU limit %s: want one worker per CPU, requests equal to limits", got.Workers, cpu)
	}
	for _, e := range c.Env {
		if strings.Contains(e.Name, "SECRET") || strings.Contains(e.Name, "ACCESS_KEY") {
			if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				t.Errorf("env %s holds a credential in the manifest, want it from a Secret", e.Name)
			}
		}
	}
}

// The Job's checks must be able to fail: the strict decoding refuses a misspelt Job field.
func TestBulkJobStrict(t *testing.T) {
	data, err := os.ReadFile("bulk/job.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "backoffLimitPerIndex:", "backoffLimitPerIndx:", 1)
	if _, err := decode("bulk/job.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), `unknown field "backoffLimitPerIndx"`) {
		t.Errorf("a misspelt field: %v", err)
	}
}
