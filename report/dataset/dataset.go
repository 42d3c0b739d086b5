// Package dataset owns what a labelled dataset is and how it is found: a directory laid out as
// live/ and spoof/ (attack types as sub-folders) or a CSV manifest, read into labelled items
// (bona fide or attack, the attack's species, the manifest's other columns), every defect of
// the description reported with its line, and the summary an evaluation prints of it (Info).
package dataset

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spoofsense/spoofsense/report/metrics"
)

// Folder names of the directory layout, compared without regard to case.
var (
	bonaFideDirs = []string{"live", "real", "bona_fide", "bonafide", "bona-fide"}
	attackDirs   = []string{"spoof", "fake", "attack"}
)

// imageExts are the file extensions taken when a dataset directory is walked.
var imageExts = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}

// Item is one labelled presentation of a dataset.
type Item struct {
	// Key is the path relative to the dataset root, slash-separated and cleaned: the item's name
	// in messages, in score files and in the report.
	Key string
	// Path is the file to read (Key joined to the root, or an absolute path of a manifest).
	Path    string
	Label   metrics.Label
	Species string // PAI species of an attack ("print", …, metrics.UnknownSpecies); "" for bona fide
	// Extra holds the manifest's other columns by header name (e.g. "source"); nil when walked.
	Extra map[string]string
	// Line is the item's line in the manifest (0 when walked).
	Line int
}

// Dataset is a labelled set of images to evaluate.
type Dataset struct {
	// Root is the directory the items' keys are relative to.
	Root string
	// Manifest is the manifest file the items were read from; "" when Root was walked.
	Manifest string
	// Items are sorted by Key when walked, in manifest order otherwise.
	Items []Item
	// Species lists the PAI species the dataset declares: the sub-folders of the attack folders
	// (even empty ones) or the attack types of the manifest, sorted.
	Species []string
	// Columns are the manifest's extra column names, in file order.
	Columns []string
	// Skipped counts files of the walked folders that are not images by extension.
	Skipped int
}

// Problem is one defect of a dataset description, located in its file.
type Problem struct {
	File string
	Line int // 0 when the problem is not tied to a line
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// maxProblemLines bounds how many problems an Error prints.
const maxProblemLines = 20

// Error lists every defect found in a manifest or score file (unknown labels, missing files,
// duplicate paths…); nothing is evaluated while there is one.
type Error struct {
	File     string
	Problems []Problem
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problems:", e.File, len(e.Problems))
	for i, p := range e.Problems {
		if i == maxProblemLines {
			fmt.Fprintf(&b, "\n  … and %d more", len(e.Problems)-i)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// ErrLayout is returned (wrapped) for a directory without a bona fide or an attack folder.
var ErrLayout = errors.New("no live/ or spoof/ folder")

// LoadDir walks a dataset directory laid out as live/ (or real/, bona_fide/) and spoof/ (or
// fake/, attack/). Every image below a bona fide folder is bona fide. Images directly in an
// attack folder are of species "unknown"; images below a sub-folder of it (at any depth) are of
// the species that sub-folder names (spoof/print/…, spoof/replay/…). Hidden files and folders
// are skipped, and so are files whose extension is not an image's (counted in Skipped). Other
// files of the root (a README, a manifest.csv) are ignored: a manifest is only read when given
// explicitly (see ReadManifest). Any other folder of the root is an error naming it: a misspelt
// spooof/ left out silently would make every attack rate wrong. Hidden folders are skipped.
func LoadDir(root string) (*Dataset, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	ds := &Dataset{Root: root}
	species := map[string]bool{}
	found := false
	var unknown []string
	for _, e := range entries {
		name := strings.ToLower(e.Name())
		dir := filepath.Join(root, e.Name())
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		var label metrics.Label
		switch {
		case slices.Contains(bonaFideDirs, name):
			label = metrics.BonaFide
		case slices.Contains(attackDirs, name):
			label = metrics.Attack
		default:
			unknown = append(unknown, e.Name()+"/")
			continue
		}
		found = true
		if err := ds.walkClass(dir, e.Name(), label, species); err != nil {
			return nil, err
		}
	}
	if !found {
		hint := ""
		if fi, err := os.Stat(filepath.Join(root, "manifest.csv")); err == nil && fi.Mode().IsRegular() {
			hint = fmt.Sprintf(" (to use its manifest: --manifest %s)", filepath.Join(root, "manifest.csv"))
		}
		return nil, fmt.Errorf("dataset %s: %w (or real/, bona_fide/, fake/, attack/)%s", root, ErrLayout, hint)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("dataset %s: not a label folder: %s (want %s/ for bona fide, %s/ for attacks; a folder whose name starts with . is skipped)",
			root, strings.Join(unknown, ", "), strings.Join(bonaFideDirs, "/, "), strings.Join(attackDirs, "/, "))
	}
	slices.SortFunc(ds.Items, func(a, b Item) int { return strings.Compare(a.Key, b.Key) })
	for s := range species {
		ds.Species = append(ds.Species, s)
	}
	slices.Sort(ds.Species)
	return ds, nil
}

// walkClass adds the images below one class folder (named top inside the root).
func (ds *Dataset) walkClass(dir, top string, label metrics.Label, species map[string]bool) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("dataset: %w", err)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("dataset: %w", err)
		}
		rel = filepath.ToSlash(rel)
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		isDir := d.IsDir()
		if d.Type()&fs.ModeSymlink != 0 {
			fi, err := os.Stat(p)
			if err != nil {
				return fmt.Errorf("dataset: %w", err)
			}
			if fi.IsDir() {
				return nil // not followed: a link loop would never end
			}
		}
		if isDir {
			first, _, nested := strings.Cut(rel, "/")
			if label == metrics.Attack && rel != "." && !nested {
				species[metrics.Species(first)] = true
			}
			return nil
		}
		ds.addFile(top, rel, p, label, species)
		return nil
	})
}

// addFile adds the file rel (slash-separated, below the class folder top) as an item read from
// p, or counts it in Skipped when its extension is not an image's.
func (ds *Dataset) addFile(top, rel, p string, label metrics.Label, species map[string]bool) {
	if !slices.Contains(imageExts, strings.ToLower(path.Ext(rel))) {
		ds.Skipped++
		return
	}
	first, _, nested := strings.Cut(rel, "/")
	it := Item{Key: top + "/" + rel, Path: p, Label: label}
	if label == metrics.Attack {
		it.Species = metrics.UnknownSpecies
		if nested {
			it.Species = metrics.Species(first)
		}
		species[it.Species] = true
	}
	ds.Items = append(ds.Items, it)
}

// FromKeys builds a dataset from the keys of a bucket prefix, laid out as LoadDir expects a
// directory: root is the prefix's URL ending in "/" (each item's Path is root + key) and keys
// yields the keys below it, relative to it, in any order. Keys whose parts start with "." are
// skipped, as hidden files are; a key at the top or below a folder that is not a label folder is
// an error naming the folder. A failed listing is returned as the error.
func FromKeys(root string, keys iter.Seq2[string, error]) (*Dataset, error) {
	ds := &Dataset{Root: root}
	species := map[string]bool{}
	unknown := map[string]bool{}
	for key, err := range keys {
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", root, err)
		}
		if slices.ContainsFunc(strings.Split(key, "/"), func(p string) bool { return strings.HasPrefix(p, ".") }) {
			continue
		}
		top, rel, ok := strings.Cut(key, "/")
		if !ok {
			continue // a file of the root, such as a README or manifest.csv
		}
		var label metrics.Label
		switch name := strings.ToLower(top); {
		case slices.Contains(bonaFideDirs, name):
			label = metrics.BonaFide
		case slices.Contains(attackDirs, name):
			label = metrics.Attack
		default:
			unknown[top+"/"] = true
			continue
		}
		ds.addFile(top, rel, root+key, label, species)
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("dataset %s: not a label folder: %s (want %s/ for bona fide, %s/ for attacks)",
			root, strings.Join(slices.Sorted(maps.Keys(unknown)), ", "), strings.Join(bonaFideDirs, "/, "), strings.Join(attackDirs, "/, "))
	}
	if len(ds.Items) == 0 {
		return nil, fmt.Errorf("dataset %s: %w (or real/, bona_fide/, fake/, attack/) with images", root, ErrLayout)
	}
	slices.SortFunc(ds.Items, func(a, b Item) int { return strings.Compare(a.Key, b.Key) })
	ds.Species = slices.Sorted(maps.Keys(species))
	return ds, nil
}

// Manifest column names, compared without regard to case.
var (
	pathColumns   = []string{"path", "file"}
	labelColumns  = []string{"label"}
	attackColumns = []string{"attack", "attack_type", "species"}
)

// IsAttackColumn says whether column names a manifest's attack column (attack, attack_type or
// species), whose values are the PAI species rather than a column of Item.Extra.
func IsAttackColumn(column string) bool { return slices.Contains(attackColumns, column) }

// noAttack are the attack-column values a bona fide row may have.
var noAttack = []string{"", "none", "-", "n/a"}

// ReadManifest reads the CSV manifest name from r: a header row naming at least the columns
// path (or file) and label, optionally attack (or attack_type, species), then one row per
// image. Paths are relative to the manifest's directory (absolute paths are taken as they
// are). Labels are live/real/bona_fide or spoof/fake/attack in any case; an attack row's empty
// attack column means species "unknown", a bona fide row's must be empty or "none". Other
// columns are kept in Item.Extra. Every unknown label, missing file and duplicate path is
// reported, with its line, in one *Error. The caller opens the file (cmd/eval opens it
// non-blocking, so that a FIFO cannot hang it).
func ReadManifest(r io.Reader, name string) (*Dataset, error) {
	root := filepath.Dir(name)
	ds := &Dataset{Root: root, Manifest: name}
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &Error{File: name, Problems: []Problem{{File: name, Msg: "empty manifest (want a header row path,label[,attack])"}}}
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	header[0] = strings.TrimPrefix(header[0], "\ufeff") // a byte-order mark from a spreadsheet
	col := func(names []string) int {
		for i, h := range header {
			if slices.Contains(names, strings.ToLower(strings.TrimSpace(h))) {
				return i
			}
		}
		return -1
	}
	pathCol, labelCol, attackCol := col(pathColumns), col(labelColumns), col(attackColumns)
	if pathCol < 0 || labelCol < 0 {
		return nil, &Error{File: name, Problems: []Problem{{File: name, Line: 1,
			Msg: fmt.Sprintf("header %q lacks a path and a label column (want path,label[,attack])", strings.Join(header, ","))}}}
	}
	for i, h := range header {
		if i != pathCol && i != labelCol && i != attackCol {
			ds.Columns = append(ds.Columns, strings.TrimSpace(h))
		}
	}
	var problems []Problem
	add := func(line int, format string, a ...any) {
		problems = append(problems, Problem{File: name, Line: line, Msg: fmt.Sprintf(format, a...)})
	}
	seen := map[string]int{} // key → line
	species := map[string]bool{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, fmt.Errorf("manifest %s: %w", name, err)
			}
			if errors.Is(err, csv.ErrFieldCount) {
				add(pe.StartLine, "%d fields, the header has %d", len(rec), len(header))
				continue
			}
			// The rest of the file cannot be trusted to split into the same rows.
			add(pe.Line, "%v", pe.Err)
			break
		}
		line, _ := cr.FieldPos(0)
		it := Item{Line: line}
		p := strings.TrimSpace(rec[pathCol])
		if p == "" {
			add(line, "empty path")
			continue
		}
		it.Key, it.Path = manifestPath(root, p)
		it.Label, err = parseLabel(rec[labelCol])
		if err != nil {
			add(line, "%s: %v", it.Key, err)
			continue
		}
		attack := ""
		if attackCol >= 0 {
			attack = strings.TrimSpace(rec[attackCol])
		}
		switch it.Label {
		case metrics.BonaFide:
			if !slices.Contains(noAttack, strings.ToLower(attack)) {
				add(line, "%s: bona fide row with attack type %q", it.Key, attack)
				continue
			}
		case metrics.Attack:
			if strings.EqualFold(attack, "none") {
				add(line, "%s: spoof row with attack type \"none\" (leave it empty or say unknown)", it.Key)
				continue
			}
			it.Species = metrics.Species(attack)
			species[it.Species] = true
		}
		if first, dup := seen[it.Key]; dup {
			add(line, "duplicate path %s (first on line %d)", it.Key, first)
			continue
		}
		seen[it.Key] = line
		switch fi, err := os.Stat(it.Path); {
		case err != nil:
			add(line, "%s: %v", it.Key, statReason(err))
			continue
		case fi.IsDir():
			add(line, "%s: is a directory, not an image", it.Key)
			continue
		}
		if len(ds.Columns) > 0 {
			it.Extra = make(map[string]string, len(ds.Columns))
			for i, h := range header {
				if i != pathCol && i != labelCol && i != attackCol {
					it.Extra[strings.TrimSpace(h)] = rec[i]
				}
			}
		}
		ds.Items = append(ds.Items, it)
	}
	if len(problems) > 0 {
		return nil, &Error{File: name, Problems: problems}
	}
	if len(ds.Items) == 0 {
		return nil, &Error{File: name, Problems: []Problem{{File: name, Msg: "no rows after the header"}}}
	}
	for s := range species {
		ds.Species = append(ds.Species, s)
	}
	slices.Sort(ds.Species)
	return ds, nil
}

// manifestPath returns the key and the file path of a manifest path p.
func manifestPath(root, p string) (key, file string) {
	native := filepath.FromSlash(p)
	if filepath.IsAbs(native) {
		file = filepath.Clean(native)
		if rel, err := filepath.Rel(root, file); err == nil && filepath.IsLocal(rel) {
			return filepath.ToSlash(rel), file
		}
		return filepath.ToSlash(file), file
	}
	return path.Clean(filepath.ToSlash(native)), filepath.Join(root, native)
}

// parseLabel accepts the labels of metrics.ParseLabel and the folder synonyms real and fake.
func parseLabel(s string) (metrics.Label, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "real":
		return metrics.BonaFide, nil
	case "fake":
		return metrics.Attack, nil
	}
	l, err := metrics.ParseLabel(s)
	if err != nil {
		return 0, fmt.Errorf("unknown label %q (want live, real, bona_fide, spoof, fake or attack)", s)
	}
	return l, nil
}

// statReason shortens an os.Stat error to its cause.
func statReason(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// csvError names the file in a CSV parse error.
func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d: %w", name, pe.Line, pe.Err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// Name is the dataset's manifest when it has one, else its root: what a report calls it.
func (ds *Dataset) Name() string {
	if ds.Manifest != "" {
		return ds.Manifest
	}
	return ds.Root
}

// Info describes an evaluated dataset in a report: where the presentations came from and how
// many were scored now or taken from a score file.
type Info struct {
	Root     string `json:"root"`
	Manifest string `json:"manifest,omitempty"` // the manifest read; absent when Root was walked
	// Presentations = BonaFide + Attack.
	Presentations int      `json:"presentations"`
	BonaFide      int      `json:"bona_fide"`
	Attack        int      `json:"attack"`
	Species       []string `json:"species"` // the PAI species the dataset declares
	// Scored were scored by this run; FromScores were taken from ScoresFile.
	Scored     int    `json:"scored"`
	FromScores int    `json:"from_scores"`
	ScoresFile string `json:"scores_file,omitempty"`
	// Rejected counts results with verdict "rejected" (check --strict); they are counted as
	// no-face non-responses.
	Rejected int `json:"rejected"`
}

// Info counts the dataset's presentations by label; the scoring counts are left for the
// caller.
func (ds *Dataset) Info() Info {
	info := Info{Root: ds.Root, Manifest: ds.Manifest, Species: ds.Species, Presentations: len(ds.Items)}
	if info.Species == nil {
		info.Species = []string{}
	}
	for _, it := range ds.Items {
		if it.Label == metrics.BonaFide {
			info.BonaFide++
		} else {
			info.Attack++
		}
	}
	return info
}
