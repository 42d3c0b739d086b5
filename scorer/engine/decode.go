package engine

import (
	"fmt"
	"sort"

	onnx "github.com/owulveryck/onnx-go"
	"gonum.org/v1/gonum/graph"
	"gonum.org/v1/gonum/graph/simple"
	"gorgonia.org/tensor"
)

// valueNode is a node of the decoded graph: one named ONNX value (graph input, initializer,
// or the output of an operator). It implements onnx-go's Namer and DataCarrier.
type valueNode struct {
	id     int64
	name   string
	tensor tensor.Tensor
}

func (n *valueNode) ID() int64                       { return n.id }
func (n *valueNode) SetName(s string)                { n.name = s }
func (n *valueNode) GetName() string                 { return n.name }
func (n *valueNode) GetTensor() tensor.Tensor        { return n.tensor }
func (n *valueNode) SetTensor(t tensor.Tensor) error { n.tensor = t; return nil }

// opRecord is one ONNX operator as onnx-go delivered it.
type opRecord struct {
	opType  string
	attrs   map[string]interface{}
	inputs  []int64 // node IDs by input index; -1 for an omitted optional input
	outputs []int64
}

// graphBuilder is the onnx-go backend: a gonum weighted directed graph whose edges go from an
// operator's output value to its inputs, weighted by the input index. Because a gonum graph
// keeps one edge per node pair, the builder also records every edge in order, so that an
// operator taking the same value twice (Mul(x, x)) keeps both inputs.
type graphBuilder struct {
	*simple.WeightedDirectedGraph
	nodes   map[int64]*valueNode
	pending []graph.WeightedEdge
	ops     []opRecord
}

func newGraphBuilder() *graphBuilder {
	return &graphBuilder{
		WeightedDirectedGraph: simple.NewWeightedDirectedGraph(0, 0),
		nodes:                 map[int64]*valueNode{},
	}
}

// NewNode returns a new value node with a fresh ID.
func (g *graphBuilder) NewNode() graph.Node {
	return &valueNode{id: g.WeightedDirectedGraph.NewNode().ID()}
}

// AddNode adds a value node to the graph.
func (g *graphBuilder) AddNode(n graph.Node) {
	g.WeightedDirectedGraph.AddNode(n)
	if v, ok := n.(*valueNode); ok {
		g.nodes[v.id] = v
	}
}

// SetWeightedEdge records an operator-input edge.
func (g *graphBuilder) SetWeightedEdge(e graph.WeightedEdge) {
	g.pending = append(g.pending, e)
	if e.From().ID() != e.To().ID() {
		g.WeightedDirectedGraph.SetWeightedEdge(e)
	}
}

// ApplyOperation records an operator whose output values are outputs; its inputs are the
// edges added since the previous operator.
func (g *graphBuilder) ApplyOperation(op onnx.Operation, outputs ...graph.Node) error {
	rec := opRecord{opType: op.Name, attrs: op.Attributes}
	for _, o := range outputs {
		rec.outputs = append(rec.outputs, o.ID())
	}
	byIndex := map[int]int64{}
	maxIdx := -1
	for _, e := range g.pending {
		if len(outputs) == 0 || e.From().ID() != outputs[0].ID() {
			continue
		}
		idx := int(e.Weight())
		if idx < 0 || idx > 1<<16 {
			return fmt.Errorf("operator %s: bad input index %v", op.Name, e.Weight())
		}
		byIndex[idx] = e.To().ID()
		if idx > maxIdx {
			maxIdx = idx
		}
	}
	g.pending = g.pending[:0]
	rec.inputs = make([]int64, maxIdx+1)
	for k := range rec.inputs {
		id, ok := byIndex[k]
		if !ok || g.nodes[id] == nil || g.nodes[id].name == "" {
			id = -1
		}
		rec.inputs[k] = id
	}
	g.ops = append(g.ops, rec)
	return nil
}

// nodeIR is one operator of the engine's graph.
type nodeIR struct {
	op     string
	attrs  map[string]interface{}
	in     []int // value indices; -1 for an omitted optional input
	out    []int
	name   string // the first output's name, used in error messages
	fusion *convFusion
}

// graphIR is the decoded model: named values, operators in file (topological) order, and the
// graph's inputs and outputs.
type graphIR struct {
	values  []string            // value names by index
	consts  map[int]*tensorData // initializers
	nodes   []*nodeIR           // in execution order
	inputs  []int               // graph inputs that are not initializers
	outputs []int               // graph outputs
	decl    map[string]declared // declared input/output types and shapes
	opset   int64
	index   map[string]int
}

// decodeGraph decodes an ONNX model with onnx-go into the engine's graph form.
func decodeGraph(data []byte) (*graphIR, error) {
	facts, err := scanModel(data)
	if err != nil {
		return nil, err
	}
	b := newGraphBuilder()
	m := onnx.NewModel(b)
	if err := m.UnmarshalBinary(data); err != nil {
		return nil, err
	}
	g := &graphIR{consts: map[int]*tensorData{}, decl: facts.inputs, opset: facts.opset, index: map[string]int{}}
	if g.opset == 0 {
		g.opset = 1
	}
	byID := map[int64]int{}
	valueOf := func(id int64) (int, error) {
		if v, ok := byID[id]; ok {
			return v, nil
		}
		n := b.nodes[id]
		if n == nil {
			return 0, fmt.Errorf("dangling value node %d", id)
		}
		if idx, ok := g.index[n.name]; ok {
			byID[id] = idx
			return idx, nil
		}
		idx := len(g.values)
		g.values = append(g.values, n.name)
		g.index[n.name] = idx
		byID[id] = idx
		if facts.initializers[n.name] && n.tensor != nil {
			t, err := fromGorgonia(n.tensor)
			if err != nil {
				return 0, fmt.Errorf("initializer %q: %w", n.name, err)
			}
			g.consts[idx] = t
		}
		return idx, nil
	}
	for _, id := range m.Input {
		v, err := valueOf(id)
		if err != nil {
			return nil, err
		}
		if _, isConst := g.consts[v]; !isConst {
			g.inputs = append(g.inputs, v)
		}
	}
	// Register initializers before operators so they resolve to constants.
	ids := make([]int64, 0, len(b.nodes))
	for id := range b.nodes {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if facts.initializers[b.nodes[id].name] {
			if _, err := valueOf(id); err != nil {
				return nil, err
			}
		}
	}
	for _, rec := range b.ops {
		n := &nodeIR{op: rec.opType, attrs: rec.attrs}
		for _, id := range rec.inputs {
			if id < 0 {
				n.in = append(n.in, -1)
				continue
			}
			v, err := valueOf(id)
			if err != nil {
				return nil, err
			}
			n.in = append(n.in, v)
		}
		for _, id := range rec.outputs {
			v, err := valueOf(id)
			if err != nil {
				return nil, err
			}
			n.out = append(n.out, v)
		}
		if len(n.out) > 0 {
			n.name = g.values[n.out[0]]
		}
		if n.op == "Constant" {
			n.in = nil // onnx-go gives input-less operators a fake input
		}
		g.nodes = append(g.nodes, n)
	}
	for _, id := range m.Output {
		v, err := valueOf(id)
		if err != nil {
			return nil, err
		}
		g.outputs = append(g.outputs, v)
	}
	return g, nil
}
