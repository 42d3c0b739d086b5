package jpeg

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/spoofsense/spoofsense/models/fixtures"
)

// TestFastPathsMatchReference decodes each input twice, with the fast paths (the
// register-held sequential block decoder and its whole-coefficient table, the DC-only
// and vector IDCTs) and with the general code they shortcut (decodeHuffman, idctIslow),
// and checks the planes and errors are identical: the libjpeg testdata, image/jpeg
// encodings of every size and quality of stdlibCases, the same truncated and with a
// byte flipped (so the fast paths hand over near the end of the data and meet corrupt
// codes), and the first 40 dev photos. The fast side is a Decoder reused for every
// input, so stale buffers would show too.
func TestFastPathsMatchReference(t *testing.T) {
	type input struct {
		name string
		data []byte
	}
	var inputs []input
	for _, name := range libjpegCases {
		inputs = append(inputs, input{name, readTestdata(t, name+".jpeg")})
	}
	for _, c := range stdlibCases(t) {
		inputs = append(inputs, input(c))
		n := len(c.data)
		inputs = append(inputs, input{c.name + "-truncated", c.data[:n*3/4]})
		flipped := bytes.Clone(c.data)
		flipped[n*2/3] ^= 0x5a
		inputs = append(inputs, input{c.name + "-flipped", flipped})
	}
	dev := fixtures.Path(t, "data", "dev", "live")
	names, err := filepath.Glob(filepath.Join(dev, "*.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	for _, name := range names[:min(40, len(names))] {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, input{filepath.Base(name), data})
	}
	// One Decoder decodes every input, forward then backward, reusing its buffers
	// across sizes, subsamplings, progressive and sequential files and errors.
	var dec Decoder
	order := make([]int, 0, 2*len(inputs))
	for i := range inputs {
		order = append(order, i)
	}
	for i := range inputs {
		order = append(order, len(inputs)-1-i)
	}
	for _, i := range order {
		in := inputs[i]
		fast, fastErr := dec.Decode(in.data)
		ref := newDecoder(in.data, nil)
		ref.reference = true
		want, wantErr := ref.decode(false)
		if fmt.Sprint(fastErr) != fmt.Sprint(wantErr) {
			t.Errorf("%s: error %v, the general code gives %v", in.name, fastErr, wantErr)
			continue
		}
		if fastErr != nil {
			continue
		}
		if !bytes.Equal(planes(t, fast), planes(t, want)) {
			t.Errorf("%s: the fast paths' planes differ from the general code's", in.name)
		}
	}
}
