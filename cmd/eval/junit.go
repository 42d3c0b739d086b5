package eval

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
)

// JUnit XML, as CI systems read it: one suite, one test case per gate (class "gates") and per
// metric compared with the baseline (class "baseline").
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name       string          `xml:"name,attr"`
		Tests      int             `xml:"tests,attr"`
		Failures   int             `xml:"failures,attr"`
		Errors     int             `xml:"errors,attr"`
		Skipped    int             `xml:"skipped,attr"`
		Properties []junitProperty `xml:"properties>property,omitempty"`
		Cases      []junitCase     `xml:"testcase"`
	}
	junitProperty struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		ClassName string        `xml:"classname,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
		Skipped   *junitSkipped `xml:"skipped,omitempty"`
		SystemOut string        `xml:"system-out,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Text    string `xml:",chardata"`
	}
	junitSkipped struct {
		Message string `xml:"message,attr"`
	}
)

// junitSuiteName names the suite and the run in the JUnit file.
const junitSuiteName = "spoofsense eval"

// newJUnit builds the JUnit document of a result.
func newJUnit(res *Result) junitSuites {
	suite := junitSuite{Name: junitSuiteName, Properties: []junitProperty{
		{Name: "threshold", Value: fmt.Sprint(res.Threshold)},
		{Name: "dataset", Value: res.Dataset.Root},
		{Name: "auc", Value: num(res.AUC)},
		{Name: "apcer", Value: num(res.APCER.Value)},
		{Name: "bpcer", Value: num(res.BPCER.Value)},
	}}
	for _, g := range res.Gates {
		c := junitCase{Name: g.Name, ClassName: "spoofsense.eval.gates",
			SystemOut: fmt.Sprintf("%s = %s, limit %g", g.Metric, g.Value, g.Limit)}
		if !g.Pass {
			c.Failure = &junitFailure{Type: "gate",
				Message: fmt.Sprintf("%s %s does not meet the limit %g", g.Metric, g.Value, g.Limit),
				Text:    c.SystemOut}
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, c)
	}
	if b := res.Baseline; b != nil {
		for _, d := range b.Diffs {
			c := junitCase{Name: d.Metric, ClassName: "spoofsense.eval.baseline",
				SystemOut: fmt.Sprintf("baseline %s, current %s, change %s, tolerance %g", d.Base, d.Current, signed(d.Delta), b.Tolerance)}
			switch {
			case !d.Delta.Valid:
				c.Skipped = &junitSkipped{Message: "undefined in the baseline or in this run"}
				suite.Skipped++
			case d.Worse:
				c.Failure = &junitFailure{Type: "regression",
					Message: fmt.Sprintf("%s got worse: %s → %s (tolerance %g)", d.Metric, d.Base, d.Current, b.Tolerance),
					Text:    c.SystemOut}
				suite.Failures++
			}
			suite.Cases = append(suite.Cases, c)
		}
	}
	suite.Tests = len(suite.Cases)
	return junitSuites{Name: junitSuiteName, Tests: suite.Tests, Failures: suite.Failures, Suites: []junitSuite{suite}}
}

// writeJUnit writes the JUnit document of a result to w.
func writeJUnit(w io.Writer, res *Result) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(newJUnit(res)); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// writeJUnitFile writes the JUnit document of a result to the file name.
func writeJUnitFile(name string, res *Result) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	if err := writeJUnit(f, res); err != nil {
		f.Close()
		return fmt.Errorf("junit %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("junit %s: %w", name, err)
	}
	return nil
}
