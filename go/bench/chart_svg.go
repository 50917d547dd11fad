package bench

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
)

// Figure geometry, in SVG user units (pixels).
const (
	figWidth    = 1200
	figMargin   = 30
	panelGap    = 36
	panelHeight = 330
	headerH     = 118 // title, subtitle and legend
	plotLeft    = 52  // room for tick labels
	plotRight   = 12
	plotTop     = 52 // panel title and note
	plotBottom  = 34 // group labels
	fontFamily  = "DejaVu Sans, Helvetica, Arial, sans-serif"
)

// seriesColors are colour-blind-safe (Paul Tol's "muted"), in series
// order; the policies keep their colours across charts.
var seriesColors = map[string]string{
	"random":               "#BBBBBB",
	"round_robin":          "#88CCEE",
	"power_of_two":         "#DDCC77",
	"cache_aware_original": "#CC6677",
	"cache_aware":          "#117733",
}

var fallbackColors = []string{"#332288", "#44AA99", "#AA4499", "#882255", "#999933"}

func (c chart) color(s int) string {
	if col, ok := seriesColors[c.series[s]]; ok {
		return col
	}
	return fallbackColors[s%len(fallbackColors)]
}

// chartSVG renders the results as an SVG figure.
func chartSVG(title string, res []RunResult) []byte { return resultsChart(title, res).svg() }

// svg renders the figure: header and legend, then the panels two by two.
func (c chart) svg() []byte {
	rows := (len(c.panels) + 1) / 2
	height := headerH + rows*(panelHeight+panelGap) + figMargin/2
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s">`+"\n",
		figWidth, height, figWidth, height, fontFamily)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	text(&b, figMargin, 40, 24, "start", "bold", "#222222", c.title)
	text(&b, figMargin, 64, 14, "start", "normal", "#555555", c.subtitle)
	c.legend(&b, figMargin, 94)
	pw := (figWidth - 2*figMargin - panelGap) / 2
	for i, p := range c.panels {
		x := figMargin + (i%2)*(pw+panelGap)
		y := headerH + (i/2)*(panelHeight+panelGap)
		c.panel(&b, p, float64(x), float64(y), float64(pw), panelHeight)
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// legend draws one swatch and name per series, left to right.
func (c chart) legend(b *bytes.Buffer, x, y int) {
	for s, name := range c.series {
		fmt.Fprintf(b, `<rect x="%d" y="%d" width="16" height="16" rx="2" fill="%s"/>`+"\n", x, y-13, c.color(s))
		text(b, float64(x+22), float64(y), 15, "start", "normal", "#222222", name)
		x += 22 + int(8.6*float64(len(name))) + 28
	}
}

// panel draws one bar chart in the box (x, y, w, h).
func (c chart) panel(b *bytes.Buffer, p panel, x, y, w, h float64) {
	fmt.Fprintf(b, `<g class="panel">`+"\n")
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="6" fill="#fafafa" stroke="#e2e2e2"/>`+"\n", x, y, w, h)
	text(b, x+14, y+24, 17, "start", "bold", "#222222", p.title)
	text(b, x+14, y+42, 12.5, "start", "normal", "#666666", p.note)
	px, py := x+plotLeft, y+plotTop
	pw, ph := w-plotLeft-plotRight, h-plotTop-plotBottom
	top, step := niceTop(max(panelMax(p), p.minTop))
	yOf := func(v float64) float64 { return py + ph - ph*v/top }
	for t := 0.0; t <= top+step/2; t += step {
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#dddddd"/>`+"\n", px, yOf(t), px+pw, yOf(t))
		text(b, px-6, yOf(t)+4, 12, "end", "normal", "#555555", tickLabel(t, step))
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#888888"/>`+"\n", px, py+ph, px+pw, py+ph)
	band := pw / float64(len(c.groups))
	for g, name := range c.groups {
		bx := px + float64(g)*band
		c.bars(b, p, g, bx+band*0.08, band*0.84, yOf, py+ph)
		if len(c.groups) > 1 {
			text(b, bx+band/2, py+ph+22, 14, "middle", "bold", "#333333", name)
		} else {
			c.seriesLabels(b, bx+band*0.08, band*0.84, py+ph+20)
		}
	}
	fmt.Fprintf(b, "</g>\n")
}

// bars draws group g's bars across width w from x, their value labels and
// the group's reference line.
func (c chart) bars(b *bytes.Buffer, p panel, g int, x, w float64, yOf func(float64) float64, base float64) {
	n := float64(len(c.series))
	slot := w / n
	bw := slot * 0.86
	for s := range c.series {
		v := p.values[g][s]
		cx := x + slot*float64(s) + slot/2
		if math.IsNaN(v) {
			text(b, cx, base-4, 10, "middle", "normal", "#999999", "n/a")
			continue
		}
		fmt.Fprintf(b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`+"\n",
			cx-bw/2, yOf(v), bw, base-yOf(v), c.color(s), esc(c.groups[g]), esc(c.series[s]), esc(p.format(v)))
		label := p.format(v)
		size := math.Min(12, bw/(0.6*float64(len(label))))
		text(b, cx, yOf(v)-4, math.Max(size, 10), "middle", "normal", "#333333", label)
	}
	if p.ref != nil && p.ref[g] > 0 { // NaN: none; 0 would lie on the axis
		y := yOf(p.ref[g])
		fmt.Fprintf(b, `<line class="ref" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#222222" stroke-width="2" stroke-dasharray="7 4"/>`+"\n", x-4, y, x+w+4, y)
		haloText(b, x-2, y-5, 12, "start", "#222222", p.refLabel+" "+p.format(p.ref[g]))
	}
}

// seriesLabels names each bar under the axis (a chart with one group has
// room for it).
func (c chart) seriesLabels(b *bytes.Buffer, x, w, y float64) {
	slot := w / float64(len(c.series))
	for s, name := range c.series {
		size := math.Min(13, slot/(0.62*float64(len(name))))
		text(b, x+slot*float64(s)+slot/2, y, math.Max(size, 8), "middle", "normal", "#333333", name)
	}
}

// tickLabel formats an axis tick with as many decimals as the step needs.
func tickLabel(v, step float64) string {
	switch {
	case step >= 1:
		return fmt.Sprintf("%.0f", v)
	case step >= 0.1:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// haloText is bold text with a white outline, readable over bars and lines.
func haloText(b *bytes.Buffer, x, y, size float64, anchor, fill, s string) {
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="%.1f" text-anchor="%s" font-weight="bold" fill="%s" stroke="#ffffff" stroke-width="3.5" stroke-linejoin="round" paint-order="stroke">%s</text>`+"\n",
		x, y, size, anchor, fill, esc(s))
}

// panelMax is the largest value or reference of the panel.
func panelMax(p panel) float64 {
	m := 0.0
	for _, row := range p.values {
		for _, v := range row {
			if !math.IsNaN(v) {
				m = math.Max(m, v)
			}
		}
	}
	for _, v := range p.ref {
		if !math.IsNaN(v) {
			m = math.Max(m, v)
		}
	}
	return m * 1.08 // headroom for the value labels
}

func text(b *bytes.Buffer, x, y, size float64, anchor, weight, fill, s string) {
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="%.1f" text-anchor="%s" font-weight="%s" fill="%s">%s</text>`+"\n",
		x, y, size, anchor, weight, fill, esc(s))
}

func esc(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
