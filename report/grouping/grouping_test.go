package grouping

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/report/dataset"
	"github.com/spoofsense/spoofsense/report/dataset/datasettest"
)

func TestBy(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, map[string]string{"live/1.jpg": "x", "live/2.jpg": "x", "spoof/p.jpg": "x", "spoof/r.jpg": "x",
		"m.csv": "path,label,attack,source\nlive/1.jpg,live,,cam\nspoof/p.jpg,spoof,print,web\nlive/2.jpg,live,,web\nspoof/r.jpg,spoof,replay,cam\n"})
	name := filepath.Join(dir, "m.csv")
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ds, err := dataset.ReadManifest(f, name)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		column  string
		want    []string // "value:items"
		wantErr string
	}{
		{column: "attack", want: []string{"print:[0 1 2]", "replay:[0 2 3]"}}, // every bona fide item in each species
		{column: "species", want: []string{"print:[0 1 2]", "replay:[0 2 3]"}},
		{column: "source", want: []string{"cam:[0 3]", "web:[1 2]"}}, // in order of first appearance
		{column: "camera", wantErr: "--group-by camera: no such column (have attack, source)"},
	}
	for _, tt := range tests {
		t.Run(tt.column, func(t *testing.T) {
			groups, err := By(ds, tt.column)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range groups {
				got = append(got, fmt.Sprintf("%s:%v", g.Value, g.Items))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("groups %q, want %q", got, tt.want)
			}
		})
	}
}
