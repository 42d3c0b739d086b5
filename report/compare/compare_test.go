package compare

import (
	"reflect"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/scorer"
)

func TestParseSides(t *testing.T) {
	base := scorer.Options{Crops: scorer.CropsMulti, Box: scorer.BoxRaw}
	tests := []struct {
		value   string
		want    [2]Side
		wantErr string
	}{
		{value: "crops=single,crops=multi", want: [2]Side{
			{Name: "crops=single", Scorer: &scorer.Options{Crops: scorer.CropsSingle, Box: scorer.BoxRaw}},
			{Name: "crops=multi", Scorer: &scorer.Options{Crops: scorer.CropsMulti, Box: scorer.BoxRaw}},
		}},
		{value: "box=mapped+crops=single, a.ndjson", want: [2]Side{
			{Name: "box=mapped+crops=single", Scorer: &scorer.Options{Crops: scorer.CropsSingle, Box: scorer.BoxMapped}},
			{Name: "a.ndjson", File: "a.ndjson"},
		}},
		{value: "a.ndjson,b.ndjson", want: [2]Side{{Name: "a.ndjson", File: "a.ndjson"}, {Name: "b.ndjson", File: "b.ndjson"}}},
		{value: "nets=MiniFASNetV2,MiniFASNetV1SE,nets=all", want: [2]Side{
			{Name: "nets=MiniFASNetV2,MiniFASNetV1SE", Scorer: &scorer.Options{Crops: scorer.CropsMulti, Box: scorer.BoxRaw, Nets: []string{"MiniFASNetV2", "MiniFASNetV1SE"}}},
			{Name: "nets=all", Scorer: &scorer.Options{Crops: scorer.CropsMulti, Box: scorer.BoxRaw}},
		}},
		{value: "crops=single+nets=MiniFASNetV2SE-128,old.ndjson", want: [2]Side{
			{Name: "crops=single+nets=MiniFASNetV2SE-128", Scorer: &scorer.Options{Crops: scorer.CropsSingle, Box: scorer.BoxRaw, Nets: []string{"MiniFASNetV2SE-128"}}},
			{Name: "old.ndjson", File: "old.ndjson"},
		}},
		{value: "nets=MiniFASNetV3,a", wantErr: `unknown net "MiniFASNetV3"`},
		{value: "crops=single", wantErr: "two sides"},
		{value: "a,b,c", wantErr: "two sides"},
		{value: "a.ndjson,", wantErr: "two sides"},
		{value: "crops=triple,a", wantErr: `crops "triple": must be single or multi`},
		{value: "box=square,a", wantErr: `box "square": must be raw or mapped`},
		{value: "faces=all,a", wantErr: `unknown setting "faces"`},
	}
	for _, tc := range tests {
		t.Run(tc.value, func(t *testing.T) {
			got, err := ParseSides(tc.value, base)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k := range got {
				g, w := got[k], tc.want[k]
				if g.Name != w.Name || g.File != w.File || (g.Scorer == nil) != (w.Scorer == nil) ||
					(g.Scorer != nil && !reflect.DeepEqual(*g.Scorer, *w.Scorer)) {
					t.Errorf("side %d = %+v (scorer %+v), want %+v (scorer %+v)", k, g, g.Scorer, w, w.Scorer)
				}
			}
		})
	}
}
