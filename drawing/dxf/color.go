package dxf

import "math"

// aci is AutoCAD's colour index: 1–9 named, 10–249 24 hues in five
// shades, each full and pale, 250–255 greys.
var aci = func() [256]int32 {
	var t [256]int32
	copy(t[:10], []int32{0x000000, 0xff0000, 0xffff00, 0x00ff00, 0x00ffff, 0x0000ff, 0xff00ff, 0xffffff, 0x808080, 0xc0c0c0})
	shades := []float64{255, 204, 153, 127, 76}
	for i := 10; i < 250; i++ {
		hue := float64((i-10)/10) * 15
		v := shades[(i%10)/2]
		pale := i%2 == 1
		var rgb [3]float64
		for k, off := range []float64{0, 120, 240} { // red, green, blue
			// The share of the channel at this hue, full saturation.
			d := math.Mod(hue-off+360, 360)
			if d > 180 {
				d = 360 - d
			}
			f := math.Max(0, math.Min(1, 2-d/60))
			if pale {
				f = 0.5 + f/2
			}
			rgb[k] = math.Floor(v * f)
		}
		t[i] = int32(rgb[0])<<16 | int32(rgb[1])<<8 | int32(rgb[2])
	}
	copy(t[250:], []int32{0x333333, 0x505050, 0x696969, 0x828282, 0xbebebe, 0xffffff})
	return t
}()

// color is the colour an entity is drawn in, on layer (its own, or its
// block reference's) inside a block reference drawn in byBlock.
func (d *Drawing) color(e *Entity, layer string, byBlock int32) int32 {
	if e.RGB >= 0 {
		return onPaper(e.RGB)
	}
	switch c := int(e.Color); {
	case c == 0:
		return byBlock
	case c >= 1 && c <= 255:
		return onPaper(aci[c])
	}
	if i, ok := d.layerIndex[layer]; ok {
		l := d.Layers[i]
		if l.RGB >= 0 {
			return onPaper(l.RGB)
		}
		return onPaper(aci[l.Color])
	}
	return 0 // layer 7, black on the page
}

// onPaper is a colour as drawn on the white page: CAD draws on black, so
// white (colour 7) and light greys are drawn black, and light colours
// (yellow, cyan) darker, to be seen.
func onPaper(rgb int32) int32 {
	r, g, b := float64(rgb>>16&0xff), float64(rgb>>8&0xff), float64(rgb&0xff)
	lum := (0.2126*r + 0.7152*g + 0.0722*b) / 255
	grey := max(r, g, b)-min(r, g, b) < 48
	switch {
	case lum > 0.85 && grey:
		return 0
	case lum > 0.6:
		k := 0.6 / lum
		return int32(r*k)<<16 | int32(g*k)<<8 | int32(b*k)
	}
	return rgb
}

func hexColor(rgb int32) string {
	const digits = "0123456789abcdef"
	b := []byte("#000000")
	for i := 0; i < 6; i++ {
		b[6-i] = digits[rgb>>(4*i)&0xf]
	}
	return string(b)
}
