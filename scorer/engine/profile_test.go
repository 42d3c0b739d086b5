package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spoofsense/spoofsense/models/fixtures"
)

// BenchmarkLayers times every step of the shipped models' plans (in the layout this build
// picks) and logs them, slowest first with their share of the run: the per-layer profile
// behind the speed table in the package doc. Run it with
//
//	taskset -c 0 go test -run '^$' -bench Layers -cpu 1 ./scorer/engine/
func BenchmarkLayers(b *testing.B) {
	for _, gs := range goldenSets {
		b.Run(gs.dir, func(b *testing.B) {
			m := loadModelWith(b, gs.model, LoadOptions{Batch: gs.batch}, planOptions{})
			in := fixtures.ReadFloat32(b, "golden", "ort", gs.dir, "input.f32")
			s := m.NewSession()
			if _, err := s.RunFloat32(context.Background(), in); err != nil {
				b.Fatal(err)
			}
			p := m.plan
			spent := make([]time.Duration, len(p.steps))
			for b.Loop() {
				for k := range p.steps {
					t0 := time.Now()
					p.steps[k].run(&s.rc, s.stepIn[k], s.stepOut[k])
					spent[k] += time.Since(t0)
				}
			}
			b.Log("\n" + profileTable(p, spent, b.N))
		})
	}
}

// profileTable formats per-step times (summed over runs) slowest first.
func profileTable(p *plan, spent []time.Duration, runs int) string {
	order := make([]int, len(spent))
	var total time.Duration
	for k := range order {
		order[k] = k
		total += spent[k]
	}
	sort.SliceStable(order, func(i, j int) bool { return spent[order[i]] > spent[order[j]] })
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d steps, %.1f µs per run\n", len(spent), float64(total.Nanoseconds())/float64(runs)/1e3)
	for _, k := range order {
		us := float64(spent[k].Nanoseconds()) / float64(runs) / 1e3
		fmt.Fprintf(&sb, "%3d %8.1f µs %5.1f%%  %s\n", k, us, 100*float64(spent[k])/float64(total), describeStep(p, &p.steps[k]))
	}
	return sb.String()
}

// describeStep names a step with its operator, kernel shape and value shapes.
func describeStep(p *plan, st *step) string {
	var ins []string
	for _, v := range st.in {
		if v < 0 || p.values[v].c != nil {
			continue
		}
		ins = append(ins, shapeString(&p.values[v]))
	}
	desc := st.node.op
	if st.node.op == "Conv" {
		for _, v := range st.node.in[1:2] {
			desc += fmt.Sprintf(" w%v", p.values[v].shape)
		}
		if s, ok := st.node.attrs["strides"].([]int64); ok && s[0] != 1 {
			desc += fmt.Sprintf(" s%d", s[0])
		}
	}
	return fmt.Sprintf("%-28s %s -> %s", desc, strings.Join(ins, " "), shapeString(&p.values[st.out[0]]))
}

func shapeString(v *planValue) string {
	if v.nhwc {
		return fmt.Sprintf("%vnhwc", v.shape)
	}
	return fmt.Sprint(v.shape)
}
