package profile

import "math"

// Stat is a robust running estimate of a per-invocation quantity: the
// cumulative mean and mean absolute deviation while few samples exist,
// then an exponentially weighted one (alpha from a half-life), so the
// baseline follows slow drift but one outlier does not move it much.
type Stat struct {
	N    uint32  `json:"n"`
	Mean float64 `json:"mean"`
	Dev  float64 `json:"dev"` // mean absolute deviation
	Max  float64 `json:"max"` // largest value accepted into the baseline
}

// Alpha returns the EWMA weight for a half-life in samples.
func Alpha(halfLife float64) float64 {
	if halfLife <= 0 {
		return 1
	}
	return 1 - math.Exp2(-1/halfLife)
}

// Add accepts x into the baseline.
func (s *Stat) Add(x, alpha float64) {
	if s.N < math.MaxUint32 {
		s.N++
	}
	if s.N == 1 {
		s.Mean, s.Dev, s.Max = x, 0, x
		return
	}
	a := max(1/float64(s.N), alpha)
	d := x - s.Mean
	s.Mean += a * d
	s.Dev += a * (math.Abs(d) - s.Dev)
	if x > s.Max {
		s.Max = x
	}
}

// Floors keep a near-constant baseline from making every deviation
// infinite: the scale of a deviation is at least FloorAbs, and at least
// FloorRel times the mean.
type Floors struct {
	FloorAbs float64
	FloorRel float64
}

// Score is how many scales x lies above the mean (negative below it).
// 1.25 x mean absolute deviation estimates a standard deviation.
func (s *Stat) Score(x float64, f Floors) float64 {
	scale := max(1.25*s.Dev, f.FloorAbs, f.FloorRel*math.Abs(s.Mean), 1e-9)
	return (x - s.Mean) / scale
}

// Threshold is the value above which Score reaches k.
func (s *Stat) Threshold(k float64, f Floors) float64 {
	scale := max(1.25*s.Dev, f.FloorAbs, f.FloorRel*math.Abs(s.Mean), 1e-9)
	return s.Mean + k*scale
}
