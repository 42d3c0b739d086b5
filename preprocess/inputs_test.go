package preprocess

import "github.com/spoofsense/spoofsense/models"

// The tests take the tensor contracts from models.Manifest, as the scorer does, so that the
// manifest stays the one place they are declared.

// manifestModel returns the manifest entry name (zero, and so failing tests, if it is gone).
func manifestModel(name string) models.Model {
	m, _ := models.Lookup(name)
	return m
}

// detIn is UltraFace's input (320×240, RGB, (v−127)/128).
func detIn() models.Input { return manifestModel(models.NameUltraFace).Input }

// cropIn is the MiniFASNets' input (80×80, BGR, 0..255).
func cropIn() models.Input { return manifestModel(models.NameMiniFASNetV2).Input }

// squareIn is MiniFASNetV2SE-128's input (128×128, RGB, /255).
func squareIn() models.Input { return manifestModel(models.NameMiniFASNetV2SE).Input }

// scaleV2 and scaleV1SE are the MiniFASNets' crop scales (2.7 and 4).
func scaleV2() float64   { return manifestModel(models.NameMiniFASNetV2).CropScale }
func scaleV1SE() float64 { return manifestModel(models.NameMiniFASNetV1SE).CropScale }
