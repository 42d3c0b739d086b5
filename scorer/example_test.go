package scorer_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/spoofsense/spoofsense/models/fixtures"
	"github.com/spoofsense/spoofsense/preprocess"
	"github.com/spoofsense/spoofsense/scorer"
)

// Decode a selfie, score it and read the verdict. The models here come from the repository's
// ../shared/models; a program would leave ModelsDir empty and use the embedded models or the
// cache that `spoofsense models pull` fills.
func Example() {
	shared, err := fixtures.SharedDir()
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	s, err := scorer.New(ctx, scorer.Options{ModelsDir: filepath.Join(shared, "models")})
	if err != nil {
		log.Fatal(err)
	}

	f, err := os.Open(filepath.Join(shared, "data", "dev", "live", "image_T1.jpg"))
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	img, err := preprocess.Decode(f, preprocess.Limits{}) // EXIF orientation applied, 10 MiB / 50 MP limits
	if err != nil {
		log.Fatal(err)
	}

	res, err := s.Score(ctx, img)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("verdict %s, prob_real %.4f at threshold %.2f, %d nets\n", res.Verdict, res.ProbReal, res.Threshold, len(res.Face.Nets))
	for _, n := range res.Face.Nets {
		fmt.Printf("%s p_live %.4f\n", n.Name, n.PLive)
	}
	// Output:
	// verdict live, prob_real 0.9998 at threshold 0.55, 3 nets
	// MiniFASNetV2 p_live 0.9999
	// MiniFASNetV1SE p_live 1.0000
	// MiniFASNetV2SE-128 p_live 0.9994
}
