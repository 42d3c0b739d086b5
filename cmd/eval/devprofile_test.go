package eval

import (
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
	"github.com/spoofsense/spoofsense/report/metrics"
	"github.com/spoofsense/spoofsense/scorer/profile"
)

// devItem is one scored presentation of the dev set with its capture source.
type devItem struct {
	source  string
	live    bool
	score   float64
	stratum string
}

// devSetBySource reads the dev set's manifest (for the source column) and the reference scores
// of the default scorer (three nets, multi-crop, raw box: golden/dev/dev_opencv_3net.csv).
func devSetBySource(t *testing.T) []devItem {
	t.Helper()
	ds, err := loadManifest(filepath.Join(fixtures.Path(t, "data", "dev"), "manifest.csv"))
	if err != nil {
		t.Fatal(err)
	}
	scores := map[string]float64{}
	for _, row := range fixtures.ReadCSV(t, "golden", "dev", "dev_opencv_3net.csv") {
		if row["faces"] == "0" {
			continue // a non-response: out of the error rates
		}
		p, err := strconv.ParseFloat(row["prob_real"], 64)
		if err != nil {
			t.Fatalf("%s: prob_real %q: %v", row["file"], row["prob_real"], err)
		}
		scores[row["file"]] = p
	}
	var items []devItem
	for _, it := range ds.Items {
		p, ok := scores[it.Key]
		if !ok {
			continue
		}
		live := it.Label == metrics.BonaFide
		items = append(items, devItem{source: it.Extra["source"], live: live, score: p,
			stratum: it.Extra["source"] + "/" + strconv.FormatBool(live)})
	}
	if len(items) < 1800 {
		t.Fatalf("%d scored dev presentations, want about 1825", len(items))
	}
	return items
}

// splitResult is the pooled error rates on the held-out half under one global threshold and
// under one threshold per source.
type splitResult struct {
	globalAPCER, globalBPCER, channelAPCER, channelBPCER float64
}

// heldOut learns a profile for op on train and counts its decisions on test.
func heldOut(t *testing.T, op profile.OperatingPoint, train, test []devItem) splitResult {
	t.Helper()
	var all profile.Scores
	channels := map[string]profile.Scores{}
	for _, it := range train {
		s := channels[it.source]
		if it.live {
			all.BonaFide, s.BonaFide = append(all.BonaFide, it.score), append(s.BonaFide, it.score)
		} else {
			all.Attack, s.Attack = append(all.Attack, it.score), append(s.Attack, it.score)
		}
		channels[it.source] = s
	}
	p, err := profile.Learn(op, all, channels)
	if err != nil {
		t.Fatal(err)
	}
	var nLive, nAttack, gA, gB, cA, cB int
	for _, it := range test {
		d, err := p.Resolve(it.source)
		if err != nil {
			t.Fatal(err)
		}
		global := *p.Default.Threshold
		if it.live {
			nLive++
			gB += b2i(it.score < global)
			cB += b2i(it.score < d.Threshold)
		} else {
			nAttack++
			gA += b2i(it.score >= global)
			cA += b2i(it.score >= d.Threshold)
		}
	}
	return splitResult{float64(gA) / float64(nAttack), float64(gB) / float64(nLive),
		float64(cA) / float64(nAttack), float64(cB) / float64(nLive)}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestDevSetChannelProfiles is issue 17's experiment on the dev set: grouped by the manifest's
// source, thresholds are learned on one half and applied to the other (the manifest has no
// subject column, so the halves are split by file, within each source and class), 200
// deterministic random splits; pooled APCER and BPCER on the held-out halves at BPCER 5% with
// one global threshold against one threshold per source. The README quotes the figures (go
// test -v -run DevSetChannelProfiles ./cmd/eval/).
func TestDevSetChannelProfiles(t *testing.T) {
	items := devSetBySource(t)
	const splits = 200
	for _, op := range []profile.OperatingPoint{
		{Metric: profile.MetricBPCER, Target: 0.05},
		{Metric: profile.MetricAPCER, Target: 0.05},
	} {
		var mean splitResult
		for s := range splits {
			rng := rand.New(rand.NewPCG(uint64(s), 17))
			byStratum := map[string][]devItem{}
			var order []string
			for _, it := range items {
				if _, ok := byStratum[it.stratum]; !ok {
					order = append(order, it.stratum)
				}
				byStratum[it.stratum] = append(byStratum[it.stratum], it)
			}
			var train, test []devItem
			for _, k := range order {
				g := byStratum[k]
				rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
				train = append(train, g[:len(g)/2]...)
				test = append(test, g[len(g)/2:]...)
			}
			r := heldOut(t, op, train, test)
			mean.globalAPCER += r.globalAPCER / splits
			mean.globalBPCER += r.globalBPCER / splits
			mean.channelAPCER += r.channelAPCER / splits
			mean.channelBPCER += r.channelBPCER / splits
		}
		t.Logf("%s, %d splits, held-out halves: one threshold APCER %.2f%% BPCER %.2f%%; per source APCER %.2f%% BPCER %.2f%%",
			op, splits, 100*mean.globalAPCER, 100*mean.globalBPCER, 100*mean.channelAPCER, 100*mean.channelBPCER)
		// Per-source thresholds must beat one threshold on the rate the target leaves free, and
		// keep the held rate near its target.
		if op.Metric == profile.MetricBPCER {
			if !(mean.channelAPCER < 0.8*mean.globalAPCER) || mean.channelBPCER > 0.08 {
				t.Errorf("%s: per-source APCER %.4f BPCER %.4f, one threshold APCER %.4f: no clear gain", op, mean.channelAPCER, mean.channelBPCER, mean.globalAPCER)
			}
		} else if !(mean.channelBPCER < 0.8*mean.globalBPCER) || mean.channelAPCER > 0.08 {
			t.Errorf("%s: per-source BPCER %.4f APCER %.4f, one threshold BPCER %.4f: no clear gain", op, mean.channelBPCER, mean.channelAPCER, mean.globalBPCER)
		}
	}
}
