package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spoofsense/spoofsense/report/dataset/datasettest"
	"github.com/spoofsense/spoofsense/report/metrics"
)

// loadManifest reads the manifest file name.
func loadManifest(t *testing.T, name string) (*Dataset, error) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ReadManifest(f, name)
}

// itemSummary is "key label species" for comparing datasets.
func itemSummary(items []Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.Key + " " + it.Label.String() + " " + it.Species
	}
	return out
}

func TestLoadDirLayouts(t *testing.T) {
	tests := []struct {
		name        string
		files       []string
		dirs        []string // extra empty directories
		want        []string
		wantSpecies []string
		wantSkipped int
	}{
		{
			name:        "live and spoof with species folders",
			files:       []string{"live/a.jpg", "live/sub/b.png", "spoof/print/c.jpg", "spoof/replay/d.JPEG", "spoof/e.jpg"},
			want:        []string{"live/a.jpg bona_fide ", "live/sub/b.png bona_fide ", "spoof/e.jpg attack unknown", "spoof/print/c.jpg attack print", "spoof/replay/d.JPEG attack replay"},
			wantSpecies: []string{"print", "replay", "unknown"},
		},
		{
			name:        "synonyms real and fake, nested species",
			files:       []string{"real/a.jpg", "fake/Mask/3d/x.webp"},
			want:        []string{"fake/Mask/3d/x.webp attack mask", "real/a.jpg bona_fide "},
			wantSpecies: []string{"mask"},
		},
		{
			name:  "synonyms bona_fide and attack",
			files: []string{"bona_fide/a.jpg", "attack/b.jpg"},
			want:  []string{"attack/b.jpg attack unknown", "bona_fide/a.jpg bona_fide "},
			// spoof/ itself holds files of species unknown.
			wantSpecies: []string{"unknown"},
		},
		{
			name:        "hidden and non-image files skipped, other root files ignored",
			files:       []string{"live/a.jpg", "live/.hidden.jpg", ".git/x.jpg", "live/notes.txt", "spoof/print/b.jpg", "README.md", "manifest.csv"},
			want:        []string{"live/a.jpg bona_fide ", "spoof/print/b.jpg attack print"},
			wantSpecies: []string{"print"},
			wantSkipped: 1,
		},
		{
			name:        "an empty species folder is still declared",
			files:       []string{"live/a.jpg", "spoof/print/b.jpg"},
			dirs:        []string{"spoof/mask"},
			want:        []string{"live/a.jpg bona_fide ", "spoof/print/b.jpg attack print"},
			wantSpecies: []string{"mask", "print"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{}
			for _, f := range tt.files {
				files[f] = "x"
			}
			datasettest.WriteFiles(t, dir, files)
			for _, d := range tt.dirs {
				if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			ds, err := LoadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := itemSummary(ds.Items); !slices.Equal(got, tt.want) {
				t.Errorf("items:\n got %q\nwant %q", got, tt.want)
			}
			if !slices.Equal(ds.Species, tt.wantSpecies) {
				t.Errorf("species = %q, want %q", ds.Species, tt.wantSpecies)
			}
			if ds.Skipped != tt.wantSkipped {
				t.Errorf("skipped = %d, want %d", ds.Skipped, tt.wantSkipped)
			}
			for _, it := range ds.Items {
				if _, err := os.Stat(it.Path); err != nil {
					t.Errorf("item %s: path %s: %v", it.Key, it.Path, err)
				}
			}
		})
	}
}

// A folder of the root that is not a label is an error naming it, never left out: a misspelt
// attack folder would otherwise drop every attack in it from the rates.
func TestLoadDirUnknownFolder(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, map[string]string{"live/a.jpg": "x", "spoof/b.jpg": "x", "spooof/print/c.jpg": "x", "extra/d.jpg": "x"})
	_, err := LoadDir(dir)
	if err == nil {
		t.Fatal("LoadDir succeeded with folders spooof/ and extra/ that are not labels")
	}
	for _, want := range []string{"not a label folder: extra/, spooof/", "spoof/, fake/, attack/"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestLoadDirWithoutLayout(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, map[string]string{"images/a.jpg": "x", "manifest.csv": "path,label\nimages/a.jpg,live\n"})
	_, err := LoadDir(dir)
	if !errors.Is(err, ErrLayout) {
		t.Fatalf("err = %v, want ErrLayout", err)
	}
	if !strings.Contains(err.Error(), "--manifest "+filepath.Join(dir, "manifest.csv")) {
		t.Errorf("error %q does not suggest --manifest for the manifest.csv found", err)
	}
}

func TestReadManifest(t *testing.T) {
	dir := t.TempDir()
	datasettest.WriteFiles(t, dir, map[string]string{
		"live/1.jpg": "x", "live/2.jpg": "x", "spoof/p.jpg": "x", "spoof/r.jpg": "x", "spoof/u.jpg": "x",
	})
	manifest := "\ufeffpath,label,attack,source\n" +
		"live/1.jpg,live,none,cam\n" +
		"./live/2.jpg,Real,,web\n" +
		"spoof/p.jpg,spoof,Print,cam\n" +
		"spoof/r.jpg,fake,replay,cam\n" +
		"spoof/u.jpg,attack,,web\n"
	name := filepath.Join(dir, "m.csv")
	datasettest.WriteFiles(t, dir, map[string]string{"m.csv": manifest})
	ds, err := loadManifest(t, name)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"live/1.jpg bona_fide ", "live/2.jpg bona_fide ", "spoof/p.jpg attack print",
		"spoof/r.jpg attack replay", "spoof/u.jpg attack unknown"}
	if got := itemSummary(ds.Items); !slices.Equal(got, want) {
		t.Errorf("items:\n got %q\nwant %q", got, want)
	}
	if !slices.Equal(ds.Columns, []string{"source"}) || ds.Items[1].Extra["source"] != "web" {
		t.Errorf("extra columns = %q, item 2 extra = %v; want [source] and source=web", ds.Columns, ds.Items[1].Extra)
	}
	if ds.Items[2].Line != 4 || ds.Items[2].Path != filepath.Join(dir, "spoof", "p.jpg") {
		t.Errorf("item 3: line %d path %s", ds.Items[2].Line, ds.Items[2].Path)
	}
	if !slices.Equal(ds.Species, []string{"print", "replay", "unknown"}) {
		t.Errorf("species = %q", ds.Species)
	}
}

func TestReadManifestProblems(t *testing.T) {
	tests := []struct {
		name     string
		manifest string
		want     []string // substrings of the problems, in order
	}{
		{
			name:     "unknown label",
			manifest: "path,label\nlive/1.jpg,live\nlive/2.jpg,maybe\n",
			want:     []string{`m.csv:3: live/2.jpg: unknown label "maybe"`},
		},
		{
			name:     "missing file",
			manifest: "path,label,attack\nlive/1.jpg,live,none\nspoof/gone.jpg,spoof,print\n",
			want:     []string{"m.csv:3: spoof/gone.jpg: no such file"},
		},
		{
			name:     "duplicate path, also spelled differently",
			manifest: "path,label\nlive/1.jpg,live\nlive/2.jpg,live\n./live/1.jpg,live\nlive//2.jpg,spoof\n",
			want: []string{"m.csv:4: duplicate path live/1.jpg (first on line 2)",
				"m.csv:5: duplicate path live/2.jpg (first on line 3)"},
		},
		{
			name:     "every problem at once",
			manifest: "path,label,attack\nlive/1.jpg,bogus,\n,live,\nlive/2.jpg,live,print\nspoof/s.jpg,spoof,none\nlive/x.jpg,live\n",
			want: []string{`m.csv:2: live/1.jpg: unknown label "bogus"`, "m.csv:3: empty path",
				`m.csv:4: live/2.jpg: bona fide row with attack type "print"`,
				`m.csv:5: spoof/s.jpg: spoof row with attack type "none"`,
				"m.csv:6: 2 fields, the header has 3"},
		},
		{
			name:     "header without label",
			manifest: "file,kind\nlive/1.jpg,live\n",
			want:     []string{"m.csv:1: header \"file,kind\" lacks a path and a label column"},
		},
		{
			name:     "no rows",
			manifest: "path,label\n",
			want:     []string{"m.csv: no rows after the header"},
		},
		{
			name:     "broken quoting",
			manifest: "path,label\nlive/1.jpg,live\n\"live/2.jpg,live\n",
			want:     []string{"m.csv:3:"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			datasettest.WriteFiles(t, dir, map[string]string{"live/1.jpg": "x", "live/2.jpg": "x", "spoof/s.jpg": "x", "m.csv": tt.manifest})
			_, err := loadManifest(t, filepath.Join(dir, "m.csv"))
			var de *Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want an *Error", err)
			}
			if len(de.Problems) != len(tt.want) {
				t.Fatalf("%d problems, want %d:\n%v", len(de.Problems), len(tt.want), err)
			}
			for i, p := range de.Problems {
				got := filepath.Base(p.File) + strings.TrimPrefix(p.String(), p.File)
				if !strings.Contains(got, tt.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got, tt.want[i])
				}
			}
		})
	}
}

func TestParseLabelSynonyms(t *testing.T) {
	for in, want := range map[string]metrics.Label{
		"live": metrics.BonaFide, "REAL": metrics.BonaFide, "bona_fide": metrics.BonaFide, "bona fide": metrics.BonaFide,
		"spoof": metrics.Attack, "Fake": metrics.Attack, "attack": metrics.Attack,
	} {
		if got, err := parseLabel(in); err != nil || got != want {
			t.Errorf("parseLabel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseLabel("none"); err == nil {
		t.Error(`parseLabel("none") succeeded`)
	}
}

func TestFromKeys(t *testing.T) {
	list := func(keys ...string) func(func(string, error) bool) {
		return func(yield func(string, error) bool) {
			for _, k := range keys {
				if !yield(k, nil) {
					return
				}
			}
		}
	}
	for _, tt := range []struct {
		name    string
		keys    []string
		items   []string // key:label:species
		species []string
		err     string
	}{
		{name: "layout", keys: []string{"spoof/replay/r.jpg", "live/a.jpg", "spoof/x.png", "README.md", "live/notes.txt", ".git/x.jpg", "live/.thumbs/t.jpg"},
			items:   []string{"live/a.jpg:bona_fide:", "spoof/replay/r.jpg:attack:replay", "spoof/x.png:attack:unknown"},
			species: []string{"replay", "unknown"}},
		{name: "misspelt folder", keys: []string{"live/a.jpg", "spooof/b.jpg"}, err: "not a label folder: spooof/"},
		{name: "no label folder", keys: []string{"README.md"}, err: "no live/ or spoof/ folder"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := FromKeys("s3://b/dev/", list(tt.keys...))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "dataset s3://b/dev/: ") {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range ds.Items {
				if it.Path != "s3://b/dev/"+it.Key {
					t.Errorf("%s: path %s", it.Key, it.Path)
				}
				got = append(got, fmt.Sprintf("%s:%s:%s", it.Key, it.Label, it.Species))
			}
			if !slices.Equal(got, tt.items) || !slices.Equal(ds.Species, tt.species) || ds.Skipped != 1 {
				t.Errorf("items %q species %v skipped %d\nwant %q %v 1", got, ds.Species, ds.Skipped, tt.items, tt.species)
			}
		})
	}
}
