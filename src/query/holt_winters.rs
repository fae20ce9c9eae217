//! `holt_winters(aggregate, N, S)` and `holt_winters_with_fit(…)`: InfluxDB 1.x's forecast of a
//! series of bucket values N intervals past its last (with the fit over the buckets too), by
//! the damped Holt-Winters method whose parameters a Nelder-Mead search fits to the values.
//!
//! Computed as 1.x computes it, step for step, so answers agree to the last bits: the values
//! are placed on the interval grid (a missing bucket is a NaN the error skips); the starting
//! level, trend and seasonal factors come from the first season(s); sixteen Nelder-Mead
//! searches start from a grid of (alpha, beta, gamma, phi) guesses and the one with the
//! smallest sum of squared errors wins. As in 1.x, evaluating the error of a vertex clamps its
//! smoothing parameters into [0, 1] and leaves the last seasonal factors in it, and the fit
//! feeds each step's forecast (not the observed value) to the next.

use crate::error::Result;

/// Damped Holt-Winters over values at bucket times `interval` apart.
pub struct HoltWinters {
    /// Forecast steps past the last value (`N`).
    horizon: usize,
    /// Season length (`S`); below 2 there is no seasonality.
    season: usize,
    /// Whether the fit over the values is answered too (`holt_winters_with_fit`).
    include_fit: bool,
    interval: i64,
}

/// The weight of the non-seasonal starting level and trend.
const START_WEIGHT: f64 = 0.5;
/// When the Nelder-Mead search has converged: the spread of the errors at its vertices.
const EPSILON: f64 = 1.0e-4;
/// The grid of starting guesses for alpha, beta, gamma and phi: from 0.3 by 0.4 below 1.
const GUESS_LOWER: f64 = 0.3;
const GUESS_UPPER: f64 = 1.0;
const GUESS_STEP: f64 = 0.4;

impl HoltWinters {
    pub fn new(horizon: usize, season: usize, include_fit: bool, interval: i64) -> HoltWinters {
        HoltWinters {
            horizon,
            season,
            include_fit,
            interval: interval.max(1),
        }
    }

    /// `steps` intervals after `from`; `None` past the last time there is (where 1.x's
    /// arithmetic wraps around, the forecast stops).
    fn step(&self, from: i64, steps: i64) -> Option<i64> {
        from.checked_add(self.interval.checked_mul(steps)?)
    }

    fn seasonal(&self) -> bool {
        self.season >= 2
    }

    /// The grid index of `t`, rounded to the nearest multiple of the interval (half rounds
    /// down), as 1.x rounds (truncating division).
    fn round(&self, t: i64) -> i64 {
        let remainder = t % self.interval;
        if remainder > self.interval / 2 {
            (t / self.interval + 1).saturating_mul(self.interval)
        } else {
            (t / self.interval) * self.interval
        }
    }

    /// The values on the interval grid from the first point's slot to the last's (a NaN
    /// where no point falls; of several points in one slot the first), or `None` when there
    /// is nothing to forecast from.
    pub fn grid(&self, points: &[(i64, f64)]) -> Option<Vec<f64>> {
        let (first, last) = (points.first()?, points.last()?);
        if points.len() < 2 || (self.seasonal() && points.len() < self.season) || self.horizon == 0
        {
            return None;
        }
        let (start, stop) = (self.round(first.0), self.round(last.0));
        if stop.saturating_sub(start) / self.interval <= 0 {
            return None;
        }
        let mut y = vec![first.1];
        let mut t = start;
        for &(time, value) in &points[1..] {
            let rounded = self.round(time);
            if rounded <= t {
                continue;
            }
            t = t.saturating_add(self.interval);
            while rounded > t {
                y.push(f64::NAN);
                t = t.saturating_add(self.interval);
            }
            y.push(value);
        }
        // A season longer than the slots filled (points sharing slots) has no start.
        (!self.seasonal() || y.len() >= self.season).then_some(y)
    }

    /// How many values [`HoltWinters::grid`] makes for these points, counted without making
    /// them (to charge them first): one a slot from the first to the last.
    pub fn grid_len(&self, points: &[(i64, f64)]) -> usize {
        match (points.first(), points.last()) {
            (Some(first), Some(last)) => {
                let slots = self.round(last.0).saturating_sub(self.round(first.0)) / self.interval;
                usize::try_from(slots).map_or(0, |s| s.saturating_add(1))
            }
            _ => 0,
        }
    }

    /// The forecast (and with the fit, the fitted values) as (time, value), times counted from
    /// the first point (fit) or the last (forecast). `check` runs before every evaluation of
    /// the error (the query's cancellation and timeout).
    pub fn answer(
        &self,
        points: &[(i64, f64)],
        check: &mut dyn FnMut() -> Result<()>,
    ) -> Result<Vec<(i64, f64)>> {
        let Some(y) = self.grid(points) else {
            return Ok(Vec::new());
        };
        let fit = Fit {
            y: &y,
            season: self.seasonal().then_some(self.season),
        };
        let start = fit.starting_parameters();
        let mut best: Option<(f64, Vec<f64>)> = None;
        let mut failed = None;
        let mut objective = |params: &mut [f64]| -> f64 {
            if failed.is_none() {
                if let Err(e) = check() {
                    failed = Some(e);
                }
            }
            if failed.is_some() {
                // Stop the search at once: every vertex as bad as can be.
                return f64::INFINITY;
            }
            fit.squared_error(params)
        };
        let mut parameters = start;
        let mut alpha = GUESS_LOWER;
        while alpha < GUESS_UPPER {
            let mut beta = GUESS_LOWER;
            while beta < GUESS_UPPER {
                let mut gamma = GUESS_LOWER;
                while gamma < GUESS_UPPER {
                    let mut phi = GUESS_LOWER;
                    while phi < GUESS_UPPER {
                        parameters[0] = alpha;
                        parameters[1] = beta;
                        parameters[2] = gamma;
                        parameters[3] = phi;
                        let (error, params) =
                            nelder_mead(&mut objective, &parameters, EPSILON, 1.0);
                        if best.as_ref().is_none_or(|(least, _)| error < *least) {
                            best = Some((error, params));
                        }
                        phi += GUESS_STEP;
                    }
                    gamma += GUESS_STEP;
                }
                beta += GUESS_STEP;
            }
            alpha += GUESS_STEP;
        }
        if let Some(e) = failed {
            return Err(e);
        }
        let Some((_, mut params)) = best else {
            return Ok(Vec::new());
        };
        let forecast = fit.forecast(self.horizon, &mut params);
        let answered = if self.include_fit {
            let start = points[0].0;
            forecast
                .iter()
                .enumerate()
                .map_while(|(i, v)| Some((self.step(start, i as i64)?, *v)))
                .filter(|(_, v)| !v.is_nan())
                .collect()
        } else {
            let stop = points[points.len() - 1].0;
            forecast[y.len()..]
                .iter()
                .enumerate()
                .map_while(|(i, v)| Some((self.step(stop, i as i64 + 1)?, *v)))
                .filter(|(_, v)| !v.is_nan())
                .collect()
        };
        Ok(answered)
    }
}

/// The values being fitted and the season length.
struct Fit<'a> {
    y: &'a [f64],
    season: Option<usize>,
}

impl Fit<'_> {
    /// (alpha, beta, gamma, phi, level, trend, seasonal factors…): the smoothing parameters
    /// zero (the search sets them), the starting level, trend and seasonal factors from the
    /// first values.
    fn starting_parameters(&self) -> Vec<f64> {
        let y = self.y;
        let (level, trend, seasonals) = match self.season {
            Some(m) => {
                let mut level = 0.0;
                for &v in &y[..m] {
                    if !v.is_nan() {
                        level += (1.0 / m as f64) * v;
                    }
                }
                let mut trend = 0.0;
                let mut i = 0;
                while i < m && m + i < y.len() {
                    if !y[i].is_nan() && !y[m + i].is_nan() {
                        trend += 1.0 / (m * m) as f64 * (y[m + i] - y[i]);
                    }
                    i += 1;
                }
                let seasonals = y[..m]
                    .iter()
                    .map(|&v| if v.is_nan() { 0.0 } else { v / level })
                    .collect();
                (level, trend, seasonals)
            }
            None => {
                let trend = if y[1].is_nan() {
                    0.0
                } else {
                    START_WEIGHT * (y[1] - y[0])
                };
                (START_WEIGHT * y[0], trend, Vec::new())
            }
        };
        let mut parameters = vec![0.0, 0.0, 0.0, 0.0, level, trend];
        parameters.extend(seasonals);
        parameters
    }

    /// The fitted values and `horizon` forecast ones. As 1.x does, this clamps the smoothing
    /// parameters of `params` into [0, 1] and leaves its final seasonal factors in it.
    fn forecast(&self, horizon: usize, params: &mut [f64]) -> Vec<f64> {
        for p in &mut params[..4] {
            *p = p.clamp(0.0, 1.0);
        }
        let (alpha, beta, gamma, phi) = (params[0], params[1], params[2], params[3]);
        let mut y_t = self.y[0];
        let mut phi_h = phi;
        let mut level = params[4];
        let mut trend = params[5];
        let seasonals = &mut params[6..];
        let m = seasonals.len();
        let mut offset = 0;
        if self.season.is_some() {
            if m == 1 {
                seasonals[0] = 1.0;
            }
            offset = m - 1;
        }
        let total = self.y.len() + horizon;
        let mut forecast = Vec::with_capacity(total);
        forecast.push(y_t);
        let (mut s_tm, mut s_tmh) = (1.0, 1.0);
        for t in 1..total {
            if self.season.is_some() {
                let hm = t % m;
                s_tm = seasonals[(t + offset - m) % m];
                s_tmh = seasonals[(t + offset + hm - m) % m];
            }
            let previous_level = level;
            level = alpha * (y_t / s_tm) + (1.0 - alpha) * (previous_level + phi * trend);
            let s_t = gamma * (y_t / (previous_level + phi * trend)) + (1.0 - gamma) * s_tm;
            trend = beta * (level - previous_level) + (1.0 - beta) * phi * trend;
            y_t = (level + phi_h * trend) * s_tmh;
            phi_h += go_pow(phi, t as u64);
            if self.season.is_some() {
                seasonals[(t + offset) % m] = s_t;
                offset += 1;
            }
            forecast.push(y_t);
        }
        forecast
    }

    /// The sum of squared errors of the fit over the values that are not missing; infinite
    /// when the fit is NaN where a value is.
    fn squared_error(&self, params: &mut [f64]) -> f64 {
        let forecast = self.forecast(0, params);
        let mut sum = 0.0;
        for (f, v) in forecast.iter().zip(self.y) {
            if v.is_nan() {
                continue;
            }
            if f.is_nan() {
                return f64::INFINITY;
            }
            let diff = f - v;
            sum += diff * diff;
        }
        sum
    }
}

/// `x` to the integer power `n` as Go's `math.Pow` computes it (1.x's arithmetic): by
/// repeated squaring of `x`'s mantissa with its exponent kept apart, which can differ from a
/// correctly rounded power in the last bits, and so move the search that compares errors.
fn go_pow(x: f64, n: u64) -> f64 {
    if n == 0 || x == 1.0 {
        return 1.0;
    }
    if n == 1 {
        return x;
    }
    if x.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 {
        // An odd power keeps the sign of zero.
        return if n % 2 == 1 { x } else { 0.0 };
    }
    if x.is_infinite() {
        return if x < 0.0 && n % 2 == 1 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
    }
    let (mut x1, mut xe) = frexp(x);
    let (mut a1, mut ae) = (1.0f64, 0i64);
    let mut i = n;
    while i != 0 {
        if !(-(1 << 12)..=(1 << 12)).contains(&xe) {
            // Certain overflow or underflow: Go stops multiplying here.
            ae += xe;
            break;
        }
        if i & 1 == 1 {
            a1 *= x1;
            ae += xe;
        }
        x1 *= x1;
        xe <<= 1;
        if x1 < 0.5 {
            x1 += x1;
            xe -= 1;
        }
        i >>= 1;
    }
    ldexp(a1, ae)
}

/// `x` as a mantissa in [0.5, 1) (sign kept) and a power of two (finite, non-zero `x`).
fn frexp(x: f64) -> (f64, i64) {
    let (x, bias) = if x.abs() < f64::MIN_POSITIVE {
        // Subnormal: normalize first.
        (x * (1u64 << 52) as f64, -52)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64 - 1022;
    let mantissa = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (mantissa, exp + bias)
}

/// `a × 2^e`, scaling in steps so that no intermediate power of two overflows.
fn ldexp(mut a: f64, mut e: i64) -> f64 {
    while e > 1000 {
        a *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        a *= 2f64.powi(-1000);
        e += 1000;
    }
    a * 2f64.powi(e as i32)
}

/// Nelder-Mead minimization of `objective` from `start` (M. F. Hutt's formulation, as 1.x
/// has it: reflection 1, contraction 0.5, expansion 2, at most 1000 iterations, stopping when
/// the standard deviation of the vertices' values is below `epsilon`). The objective may
/// change the point it is given (it does: see [`Fit::forecast`]). Returns the least value and
/// its point.
fn nelder_mead(
    objective: &mut dyn FnMut(&mut [f64]) -> f64,
    start: &[f64],
    epsilon: f64,
    scale: f64,
) -> (f64, Vec<f64>) {
    const MAX_ITERATIONS: usize = 1000;
    const REFLECTION: f64 = 1.0;
    const CONTRACTION: f64 = 0.5;
    const EXPANSION: f64 = 2.0;
    let n = start.len();
    let nf = n as f64;
    let pn = scale * ((nf + 1.0).sqrt() - 1.0 + nf) / (nf * 2f64.sqrt());
    let qn = scale * ((nf + 1.0).sqrt() - 1.0) / (nf * 2f64.sqrt());
    let mut v: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
    v.push(start.to_vec());
    for i in 1..=n {
        v.push(
            (0..n)
                .map(|j| {
                    if i - 1 == j {
                        pn + start[j]
                    } else {
                        qn + start[j]
                    }
                })
                .collect(),
        );
    }
    let mut f: Vec<f64> = v.iter_mut().map(|vertex| objective(vertex)).collect();
    let (mut vr, mut ve, mut vc, mut vm) = (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for _ in 0..MAX_ITERATIONS {
        // The largest, the smallest, and the second largest values.
        let (mut vg, mut vs) = (0, 0);
        for i in 0..=n {
            if f[i] > f[vg] {
                vg = i;
            }
            if f[i] < f[vs] {
                vs = i;
            }
        }
        let mut vh = vs;
        for i in 0..=n {
            if f[i] > f[vh] && f[i] < f[vg] {
                vh = i;
            }
        }
        // The centroid of every vertex but the largest.
        for i in 0..n {
            let mut cent = 0.0;
            for (m, vertex) in v.iter().enumerate() {
                if m != vg {
                    cent += vertex[i];
                }
            }
            vm[i] = cent / nf;
        }
        // Reflect the largest through it.
        for i in 0..n {
            vr[i] = vm[i] + REFLECTION * (vm[i] - v[vg][i]);
        }
        let fr = objective(&mut vr);
        if fr < f[vh] && fr >= f[vs] {
            v[vg].copy_from_slice(&vr);
            f[vg] = fr;
        }
        // Further that way.
        if fr < f[vs] {
            for i in 0..n {
                ve[i] = vm[i] + EXPANSION * (vr[i] - vm[i]);
            }
            let fe = objective(&mut ve);
            if fe < fr {
                v[vg].copy_from_slice(&ve);
                f[vg] = fe;
            } else {
                v[vg].copy_from_slice(&vr);
                f[vg] = fr;
            }
        }
        // A contraction.
        if fr >= f[vh] {
            if fr < f[vg] && fr >= f[vh] {
                for i in 0..n {
                    vc[i] = vm[i] + CONTRACTION * (vr[i] - vm[i]);
                }
            } else {
                for i in 0..n {
                    vc[i] = vm[i] - CONTRACTION * (vm[i] - v[vg][i]);
                }
            }
            let fc = objective(&mut vc);
            if fc < f[vg] {
                v[vg].copy_from_slice(&vc);
                f[vg] = fc;
            } else {
                // Shrink every vertex halfway towards the smallest.
                let smallest = v[vs].clone();
                for (row, vertex) in v.iter_mut().enumerate() {
                    if row != vs {
                        for (x, s) in vertex.iter_mut().zip(&smallest) {
                            *x = s + (*x - s) / 2.0;
                        }
                    }
                }
                f[vg] = objective(&mut v[vg]);
                f[vh] = objective(&mut v[vh]);
            }
        }
        // Converged when the values hardly differ.
        let favg = f.iter().sum::<f64>() / (nf + 1.0);
        let mut s = 0.0;
        for value in &f {
            s += (value - favg).powf(2.0) / nf;
        }
        if s.sqrt() < epsilon {
            break;
        }
    }
    let mut vs = 0;
    for i in 0..=n {
        if f[i] < f[vs] {
            vs = i;
        }
    }
    let parameters = v[vs].clone();
    let least = objective(&mut v[vs]);
    (least, parameters)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_pow_is_a_power_by_repeated_squaring() {
        for (x, n) in [
            (0.5f64, 3u64),
            (0.7, 10),
            (0.9999, 1000),
            (0.3, 1),
            (1.0, 7),
            (0.0, 3),
        ] {
            let want = x.powi(n as i32);
            let got = go_pow(x, n);
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1e-300),
                "{x}^{n}: {got} {want}"
            );
        }
        assert_eq!(go_pow(0.5, 2), 0.25);
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(frexp(0.75), (0.75, 0));
        assert_eq!(ldexp(0.5, 4), 8.0);
        let tiny = f64::MIN_POSITIVE / 8.0;
        let (m, e) = frexp(tiny);
        assert_eq!(ldexp(m, e), tiny);
    }

    #[test]
    fn nelder_mead_finds_the_minimum_of_a_bowl() {
        let mut bowl = |x: &mut [f64]| (x[0] - 3.0).powi(2) + (x[1] + 1.0).powi(2);
        let (least, at) = nelder_mead(&mut bowl, &[0.0, 0.0], 1e-12, 1.0);
        assert!(least < 1e-9, "{least}");
        assert!(
            (at[0] - 3.0).abs() < 1e-4 && (at[1] + 1.0).abs() < 1e-4,
            "{at:?}"
        );
    }

    #[test]
    fn values_are_placed_on_the_interval_grid() {
        let hw = HoltWinters::new(2, 0, false, 10);
        // 0 and 4 share slot 0 (the first is kept); 26 rounds to 30; 20 is missing.
        let y = hw
            .grid(&[(0, 1.0), (4, 9.0), (10, 2.0), (26, 4.0)])
            .expect("a grid");
        assert_eq!(y.len(), 4);
        assert_eq!((y[0], y[1], y[3]), (1.0, 2.0, 4.0));
        assert!(y[2].is_nan());
        assert_eq!(hw.grid_len(&[(0, 1.0), (26, 4.0)]), 4);
        // Too little to forecast from.
        assert!(hw.grid(&[(0, 1.0)]).is_none());
        assert!(HoltWinters::new(0, 0, false, 10)
            .grid(&[(0, 1.0), (10, 2.0)])
            .is_none());
        assert!(HoltWinters::new(2, 4, false, 10)
            .grid(&[(0, 1.0), (10, 2.0), (20, 3.0)])
            .is_none());
    }

    #[test]
    fn a_straight_line_is_forecast_along_its_trend() {
        let points: Vec<(i64, f64)> = (0..20).map(|i| (i * 10, 5.0 + 2.0 * i as f64)).collect();
        let answer = HoltWinters::new(3, 0, false, 10)
            .answer(&points, &mut || Ok(()))
            .expect("answer");
        assert_eq!(
            answer.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            vec![200, 210, 220]
        );
        for (i, (_, v)) in answer.iter().enumerate() {
            let line = 5.0 + 2.0 * (20 + i) as f64;
            assert!((v - line).abs() < 0.1 * line, "{v} vs {line}");
        }
        // With the fit: a value for every slot, then the forecast.
        let with_fit = HoltWinters::new(3, 0, true, 10)
            .answer(&points, &mut || Ok(()))
            .expect("answer");
        assert_eq!(with_fit.len(), 23);
        assert_eq!(with_fit[0], (0, 5.0));
    }

    #[test]
    fn a_forecast_stops_at_the_last_time_there_is() {
        let interval = i64::MAX / 4;
        let points = [(0, 1.0), (interval, 2.0), (2 * interval, 3.0)];
        let answer = HoltWinters::new(10, 0, false, interval)
            .answer(&points, &mut || Ok(()))
            .expect("answer");
        assert_eq!(
            answer.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            vec![3 * interval, 4 * interval]
        );
        let far = [(i64::MIN + 1, 1.0), (i64::MAX - 1, 2.0)];
        assert_eq!(
            HoltWinters::new(2, 0, false, 3).grid_len(&far),
            i64::MAX as usize / 3 + 1
        );
    }

    #[test]
    fn a_failed_check_stops_the_search() {
        let points: Vec<(i64, f64)> = (0..50).map(|i| (i * 10, (i % 7) as f64)).collect();
        let mut calls = 0;
        let r = HoltWinters::new(3, 7, false, 10).answer(&points, &mut || {
            calls += 1;
            if calls > 5 {
                Err(crate::error::Error::QueryInterrupted)
            } else {
                Ok(())
            }
        });
        assert!(matches!(r, Err(crate::error::Error::QueryInterrupted)));
    }
}
