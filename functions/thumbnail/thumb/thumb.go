// Package thumb is the thumbnail example's work, apart from the ABI so
// that it runs natively too (the benchmark compares the two).
package thumb

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/jpeg" // JPEG input as well as PNG
	"image/png"
)

// MaxPixels bounds the images accepted (40 megapixels: 160 MB decoded).
const MaxPixels = 40 << 20

// Thumbnail decodes a PNG or JPEG image and encodes it as a PNG whose
// longer side is at most size pixels, keeping its aspect ratio; a smaller
// image keeps its size. Each output pixel is the average of the source
// pixels it covers (a box filter), which keeps detail when shrinking a lot.
func Thumbnail(src []byte, size int) ([]byte, error) {
	if size < 1 {
		return nil, fmt.Errorf("size %d: give 1 or more pixels", size)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("not a PNG or JPEG image: %v", err)
	}
	if cfg.Width*cfg.Height > MaxPixels {
		return nil, fmt.Errorf("the image is %d×%d; at most %d pixels", cfg.Width, cfg.Height, MaxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("decode: %v", err)
	}
	out := Scale(img, size)
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Scale shrinks img so that its longer side is at most size.
func Scale(img image.Image, size int) *image.RGBA {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	tw, th := w, h
	if w >= h && w > size {
		tw, th = size, max(1, h*size/w)
	} else if h > w && h > size {
		tw, th = max(1, w*size/h), size
	}
	rgba, ok := img.(*image.RGBA)
	if !ok || rgba.Rect.Min != (image.Point{}) {
		rgba = image.NewRGBA(image.Rect(0, 0, w, h))
		draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Src)
	}
	if tw == w && th == h {
		return rgba
	}
	dst := image.NewRGBA(image.Rect(0, 0, tw, th))
	var sum [4]uint64
	for y := 0; y < th; y++ {
		y0, y1 := y*h/th, max((y+1)*h/th, y*h/th+1)
		for x := 0; x < tw; x++ {
			x0, x1 := x*w/tw, max((x+1)*w/tw, x*w/tw+1)
			sum = [4]uint64{}
			for sy := y0; sy < y1; sy++ {
				row := rgba.Pix[sy*rgba.Stride+4*x0 : sy*rgba.Stride+4*x1]
				for i := 0; i < len(row); i += 4 {
					sum[0] += uint64(row[i])
					sum[1] += uint64(row[i+1])
					sum[2] += uint64(row[i+2])
					sum[3] += uint64(row[i+3])
				}
			}
			n := uint64((y1 - y0) * (x1 - x0))
			p := dst.Pix[y*dst.Stride+4*x:]
			p[0], p[1], p[2], p[3] = uint8(sum[0]/n), uint8(sum[1]/n), uint8(sum[2]/n), uint8(sum[3]/n)
		}
	}
	return dst
}

// ErrEmpty is the error of no input.
var ErrEmpty = errors.New("no image: send a PNG or JPEG as the body")
