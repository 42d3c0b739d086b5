package engine

import (
	"errors"
	"fmt"
)

// This file reads the few facts onnx-go v0.5.0 does not hand to a backend — the operator set
// version, the declared shapes of graph inputs with their symbolic dimensions kept, and the
// names of the initializers — and bounds every declared tensor size before onnx-go allocates
// it. It walks the protobuf wire format directly; onnx-go's generated types are internal to
// its module and cannot be imported.

// modelFacts is what the pre-scan of a model file found.
type modelFacts struct {
	opset        int64               // version of the default ("" or "ai.onnx") operator set
	inputs       map[string]declared // graph inputs and outputs as declared
	initializers map[string]bool     // names of graph initializers
	declaredSize int                 // total elements of all declared values
}

// declared is a graph input or output as the model file declares it.
type declared struct {
	elemType int64 // TensorProto.DataType
	shape    []int // -1 marks a symbolic or missing dimension
	hasShape bool
}

var errTruncated = errors.New("truncated protobuf")

// wireReader iterates over the fields of one protobuf message.
type wireReader struct {
	b []byte
}

func (r *wireReader) varint() (uint64, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if len(r.b) == 0 {
			return 0, errTruncated
		}
		c := r.b[0]
		r.b = r.b[1:]
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("varint overflows 64 bits")
}

// next returns the next field: its number, wire type, the varint value (wire type 0) or the
// payload (wire type 2). done is true at the end of the message.
func (r *wireReader) next() (field int, wtype int, val uint64, payload []byte, done bool, err error) {
	if len(r.b) == 0 {
		return 0, 0, 0, nil, true, nil
	}
	key, err := r.varint()
	if err != nil {
		return 0, 0, 0, nil, false, err
	}
	field, wtype = int(key>>3), int(key&7)
	switch wtype {
	case 0:
		val, err = r.varint()
	case 1:
		if len(r.b) < 8 {
			return 0, 0, 0, nil, false, errTruncated
		}
		r.b = r.b[8:]
	case 2:
		var n uint64
		n, err = r.varint()
		if err == nil && n > uint64(len(r.b)) {
			err = errTruncated
		}
		if err == nil {
			payload, r.b = r.b[:n], r.b[n:]
		}
	case 5:
		if len(r.b) < 4 {
			return 0, 0, 0, nil, false, errTruncated
		}
		r.b = r.b[4:]
	default:
		err = fmt.Errorf("unsupported protobuf wire type %d", wtype)
	}
	return field, wtype, val, payload, false, err
}

// scanModel pre-scans an ONNX ModelProto.
func scanModel(data []byte) (*modelFacts, error) {
	facts := &modelFacts{inputs: map[string]declared{}, initializers: map[string]bool{}}
	r := wireReader{data}
	sawGraph := false
	for {
		field, wtype, _, payload, done, err := r.next()
		if err != nil {
			return nil, err
		}
		if done {
			break
		}
		switch {
		case field == 8 && wtype == 2: // opset_import
			domain, version, err := scanOpset(payload)
			if err != nil {
				return nil, fmt.Errorf("opset_import: %w", err)
			}
			if domain == "" || domain == "ai.onnx" {
				facts.opset = version
			}
		case field == 7 && wtype == 2: // graph
			sawGraph = true
			if err := scanGraph(payload, facts); err != nil {
				return nil, fmt.Errorf("graph: %w", err)
			}
		}
	}
	if !sawGraph {
		return nil, errors.New("no graph in the model")
	}
	return facts, nil
}

func scanOpset(b []byte) (domain string, version int64, err error) {
	r := wireReader{b}
	for {
		field, wtype, val, payload, done, err := r.next()
		if err != nil {
			return "", 0, err
		}
		if done {
			return domain, version, nil
		}
		if field == 1 && wtype == 2 {
			domain = string(payload)
		}
		if field == 2 && wtype == 0 {
			version = int64(val)
		}
	}
}

func scanGraph(b []byte, facts *modelFacts) error {
	r := wireReader{b}
	for {
		field, wtype, _, payload, done, err := r.next()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if wtype != 2 {
			continue
		}
		switch field {
		case 1: // node
			if err := scanNode(payload); err != nil {
				return fmt.Errorf("node: %w", err)
			}
		case 5: // initializer
			name, err := scanTensor(payload)
			if err != nil {
				return fmt.Errorf("initializer %q: %w", name, err)
			}
			facts.initializers[name] = true
		case 11, 12, 13: // input, output, value_info
			name, decl, err := scanValueInfo(payload)
			if err != nil {
				return fmt.Errorf("value %q: %w", name, err)
			}
			if decl.hasShape {
				n := 1
				for _, d := range decl.shape {
					if d > 0 {
						n *= d
					}
				}
				facts.declaredSize += n
				if facts.declaredSize > maxTotalElements {
					return fmt.Errorf("declared values hold more than %d elements", maxTotalElements)
				}
			}
			if field != 13 {
				facts.inputs[name] = decl
			}
		}
	}
}

// scanNode bounds the tensors in a node's attributes (e.g. Constant's value).
func scanNode(b []byte) error {
	r := wireReader{b}
	for {
		field, wtype, _, payload, done, err := r.next()
		if err != nil || done {
			return err
		}
		if field == 5 && wtype == 2 { // attribute
			ar := wireReader{payload}
			for {
				f, wt, _, p, d, err := ar.next()
				if err != nil {
					return err
				}
				if d {
					break
				}
				if (f == 5 || f == 10) && wt == 2 { // t, tensors
					if _, err := scanTensor(p); err != nil {
						return err
					}
				}
				if f == 6 && wt == 2 { // g: subgraphs are not supported anyway
					return errors.New("graph-valued attributes are not supported")
				}
			}
		}
	}
}

// scanTensor returns a TensorProto's name and checks its declared size.
func scanTensor(b []byte) (string, error) {
	r := wireReader{b}
	var name string
	var dims []int
	for {
		field, wtype, val, payload, done, err := r.next()
		if err != nil {
			return name, err
		}
		if done {
			break
		}
		switch {
		case field == 8 && wtype == 2:
			name = string(payload)
		case field == 1 && wtype == 0:
			dims = append(dims, int(int64(val)))
		case field == 1 && wtype == 2: // packed dims
			pr := wireReader{payload}
			for len(pr.b) > 0 {
				v, err := pr.varint()
				if err != nil {
					return name, err
				}
				dims = append(dims, int(int64(v)))
			}
		}
	}
	if _, err := checkedNumel(dims); err != nil {
		return name, err
	}
	return name, nil
}

func scanValueInfo(b []byte) (string, declared, error) {
	r := wireReader{b}
	var name string
	var decl declared
	for {
		field, wtype, _, payload, done, err := r.next()
		if err != nil {
			return name, decl, err
		}
		if done {
			return name, decl, nil
		}
		if field == 1 && wtype == 2 {
			name = string(payload)
		}
		if field == 2 && wtype == 2 { // TypeProto
			tr := wireReader{payload}
			for {
				f, wt, _, p, d, err := tr.next()
				if err != nil {
					return name, decl, err
				}
				if d {
					break
				}
				if f == 1 && wt == 2 { // tensor_type
					if err := scanTensorType(p, &decl); err != nil {
						return name, decl, err
					}
				}
			}
		}
	}
}

func scanTensorType(b []byte, decl *declared) error {
	r := wireReader{b}
	for {
		field, wtype, val, payload, done, err := r.next()
		if err != nil || done {
			return err
		}
		if field == 1 && wtype == 0 {
			decl.elemType = int64(val)
		}
		if field == 2 && wtype == 2 { // shape
			decl.hasShape = true
			sr := wireReader{payload}
			for {
				f, wt, _, p, d, err := sr.next()
				if err != nil {
					return err
				}
				if d {
					break
				}
				if f != 1 || wt != 2 {
					continue
				}
				dim := -1
				dr := wireReader{p}
				for {
					df, dwt, dv, _, dd, err := dr.next()
					if err != nil {
						return err
					}
					if dd {
						break
					}
					if df == 1 && dwt == 0 {
						dim = int(int64(dv))
					}
				}
				decl.shape = append(decl.shape, dim)
			}
			known := make([]int, 0, len(decl.shape))
			for _, d := range decl.shape {
				if d >= 0 {
					known = append(known, d)
				}
			}
			if len(decl.shape) > maxRank {
				return fmt.Errorf("rank %d exceeds the supported %d", len(decl.shape), maxRank)
			}
			if _, err := checkedNumel(known); err != nil {
				return err
			}
		}
	}
}
