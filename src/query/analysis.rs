//! InfluxQL's technical-analysis functions as InfluxDB 1.x computes them (its `gota` package):
//! `exponential_moving_average`, `double_exponential_moving_average`,
//! `triple_exponential_moving_average`, `triple_exponential_derivative`,
//! `relative_strength_index`, `chande_momentum_oscillator`, `kaufmans_efficiency_ratio` and
//! `kaufmans_adaptive_moving_average`. Each is a state fed one value at a time (a point, or a
//! bucket's aggregate); it answers once it has held back its hold period of values.

use std::collections::VecDeque;

/// How an algorithm starts, before it has seen its period of values (`warmup_type`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Warmup {
    /// `'exponential'` (the default): an exponential moving average whose weight is scaled as
    /// if its period were 1 for the first value, 2 for the second, and so on.
    #[default]
    Exponential,
    /// `'simple'`: the simple average of the values so far (ta-lib's way).
    Simple,
    /// `'none'` (chande_momentum_oscillator only, and its default): its unsmoothed form.
    None,
}

impl Warmup {
    /// The warmup type named in a query.
    pub fn from_name(name: &str) -> Option<Warmup> {
        match name {
            "exponential" => Some(Warmup::Exponential),
            "simple" => Some(Warmup::Simple),
            "none" => Some(Warmup::None),
            _ => None,
        }
    }
}

/// The arguments after a technical-analysis function's input.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnalysisArgs {
    /// Values held back before the first answer; `None`: the algorithm's own warm-up count.
    pub hold_period: Option<usize>,
    pub warmup: Warmup,
}

/// An exponential moving average (also Wilder's smoothing, with another weight).
#[derive(Clone, Debug)]
struct Ema {
    period: usize,
    alpha: f64,
    warmup: Warmup,
    /// Values seen, up to `period`.
    count: usize,
    last: f64,
}

impl Ema {
    fn new(period: usize, warmup: Warmup) -> Ema {
        Ema {
            period,
            alpha: 2.0 / (period as f64 + 1.0),
            warmup,
            count: 0,
            last: 0.0,
        }
    }

    /// The smoothing of the relative strength index and the smoothed Chande momentum
    /// oscillator, as 1.x has it: Wilder's weight 1/period once warm, after a warm-up one value
    /// longer than the period.
    fn wilder(period: usize, warmup: Warmup) -> Ema {
        Ema {
            alpha: 1.0 / period as f64,
            ..Ema::new(period.saturating_add(1), warmup)
        }
    }

    fn warmed(&self) -> bool {
        self.count == self.period
    }

    fn warm_count(&self) -> usize {
        self.period.saturating_sub(1)
    }

    fn add(&mut self, v: f64) -> f64 {
        let average = if self.count == 0 {
            v
        } else if !self.warmed() && self.warmup == Warmup::Simple {
            (self.last * self.count as f64 + v) / (self.count as f64 + 1.0)
        } else if !self.warmed() && self.warmup == Warmup::Exponential {
            // The weight of an exponential average whose period is the values seen so far.
            let alpha = 2.0 / (self.count as f64 + 2.0);
            (v - self.last) * alpha + self.last
        } else {
            (v - self.last) * self.alpha + self.last
        };
        self.last = average;
        if self.count < self.period {
            self.count += 1;
        }
        average
    }
}

/// `n` exponential moving averages in a chain, each fed the one before once that one is warm
/// (at once with the exponential warm-up).
#[derive(Clone, Debug)]
struct EmaChain {
    emas: Vec<Ema>,
}

impl EmaChain {
    fn new(n: usize, period: usize, warmup: Warmup) -> EmaChain {
        EmaChain {
            emas: vec![Ema::new(period, warmup); n],
        }
    }

    /// Each stage's output for `v` (a stage not fed repeats the one before).
    fn add(&mut self, v: f64, out: &mut [f64]) {
        let mut value = v;
        let mut feeding = true;
        for (i, ema) in self.emas.iter_mut().enumerate() {
            if feeding {
                value = ema.add(value);
                feeding = ema.warmed() || ema.warmup == Warmup::Exponential;
            }
            out[i] = value;
        }
    }

    fn warm_count(&self) -> usize {
        let one = self.emas.first().map_or(0, Ema::warm_count);
        match self.emas.first().map(|e| e.warmup) {
            Some(Warmup::Exponential) => one,
            _ => one.saturating_mul(self.emas.len()),
        }
    }
}

/// The triple exponential derivative (TRIX): the rate of change, in percent, of a triple
/// exponential moving average.
#[derive(Clone, Debug)]
struct Trix {
    chain: EmaChain,
    last: f64,
}

impl Trix {
    fn add(&mut self, v: f64) -> f64 {
        let mut stages = [0.0; 3];
        self.chain.add(v, &mut stages);
        let current = stages[2];
        let rate = (current / self.last - 1.0) * 100.0;
        self.last = current;
        rate
    }
}

/// Ups and downs of successive values smoothed apart: the relative strength index and the
/// smoothed Chande momentum oscillator. As in 1.x the first value counts as a change from 0.
#[derive(Clone, Debug)]
struct UpsAndDowns {
    up: Ema,
    down: Ema,
    previous: f64,
}

impl UpsAndDowns {
    fn new(ema: Ema) -> UpsAndDowns {
        UpsAndDowns {
            up: ema.clone(),
            down: ema,
            previous: 0.0,
        }
    }

    /// The smoothed ups and downs after `v`.
    fn add(&mut self, v: f64) -> (f64, f64) {
        let previous = std::mem::replace(&mut self.previous, v);
        let (up, down) = if v > previous {
            (v - previous, 0.0)
        } else if v < previous {
            (0.0, previous - v)
        } else {
            (0.0, 0.0)
        };
        (self.up.add(up), self.down.add(down))
    }
}

/// The Chande momentum oscillator without smoothing: ups and downs summed over a window.
///
/// Its window (as the others here) grows with the values seen, up to its period: a period in
/// the query allocates nothing by itself, and what it holds is at most what the input it reads
/// already holds (charged to the query's memory).
#[derive(Clone, Debug)]
struct Cmo {
    /// (value, its change from the one before), the last `size` of them.
    window: VecDeque<(f64, f64)>,
    size: usize,
    seen: bool,
    sum_up: f64,
    sum_down: f64,
}

impl Cmo {
    fn new(period: usize) -> Cmo {
        Cmo {
            window: VecDeque::new(),
            size: period - 1,
            seen: false,
            sum_up: 0.0,
            sum_down: 0.0,
        }
    }

    fn add(&mut self, v: f64) -> f64 {
        if self.size == 0 {
            // A period of 1 compares each value with nothing (1.x fails on it).
            return 0.0;
        }
        let mut change = 0.0;
        if self.seen {
            change = v - self.window.back().map_or(0.0, |p| p.0);
            if change > 0.0 {
                self.sum_up += change;
            } else if change < 0.0 {
                self.sum_down -= change;
            }
        }
        self.seen = true;
        let out = if self.sum_up != 0.0 || self.sum_down != 0.0 {
            100.0 * ((self.sum_up - self.sum_down) / (self.sum_up + self.sum_down))
        } else {
            0.0
        };
        if self.window.len() == self.size {
            let leaving = self.window.pop_front().map_or(0.0, |p| p.1);
            if leaving > 0.0 {
                self.sum_up -= leaving;
            } else if leaving < 0.0 {
                self.sum_down += leaving;
            }
        }
        self.window.push_back((v, change));
        out
    }
}

/// Kaufman's efficiency ratio: the net change over a window divided by the sum of its steps.
/// As in 1.x the window starts full of zeros: the first value is a step from 0.
#[derive(Clone, Debug)]
struct Ker {
    /// (value, its step from the one before), the last `period` of them.
    window: VecDeque<(f64, f64)>,
    period: usize,
    seen: usize,
    noise: f64,
}

impl Ker {
    fn new(period: usize) -> Ker {
        Ker {
            window: VecDeque::new(),
            period,
            seen: 0,
            noise: 0.0,
        }
    }

    fn warmed(&self) -> bool {
        self.seen == self.period.saturating_add(1)
    }

    /// The last value added (0 before any).
    fn newest(&self) -> f64 {
        self.window.back().map_or(0.0, |p| p.0)
    }

    fn add(&mut self, v: f64) -> f64 {
        let step = (v - self.newest()).abs();
        let (old_value, old_step) = if self.window.len() == self.period {
            self.window.pop_front().unwrap_or_default()
        } else {
            (0.0, 0.0)
        };
        let signal = (v - old_value).abs();
        self.noise -= old_step;
        self.noise += step;
        self.window.push_back((v, step));
        if !self.warmed() {
            self.seen += 1;
        }
        if signal == 0.0 || self.noise == 0.0 {
            0.0
        } else {
            signal / self.noise
        }
    }
}

/// Kaufman's adaptive moving average: an exponential average whose weight follows the
/// efficiency ratio (between the weights of periods 2 and 30).
#[derive(Clone, Debug)]
struct Kama {
    ker: Ker,
    last: f64,
}

impl Kama {
    fn add(&mut self, v: f64) -> f64 {
        if !self.ker.warmed() {
            // Until warm it starts from the value before.
            self.last = self.ker.newest();
        }
        let ratio = self.ker.add(v);
        let (fast, slow) = (2.0 / (2.0 + 1.0), 2.0 / (30.0 + 1.0));
        let smoothing = (ratio * (fast - slow) + slow).powi(2);
        self.last += smoothing * (v - self.last);
        self.last
    }
}

#[derive(Clone, Debug)]
enum Algorithm {
    Ema(Ema),
    Dema(EmaChain),
    Tema(EmaChain),
    Trix(Trix),
    Rsi(UpsAndDowns),
    Cmo(Cmo),
    SmoothedCmo(UpsAndDowns),
    Ker(Ker),
    Kama(Kama),
}

/// Which technical-analysis function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnalysisFn {
    ExponentialMovingAverage,
    DoubleExponentialMovingAverage,
    TripleExponentialMovingAverage,
    TripleExponentialDerivative,
    RelativeStrengthIndex,
    ChandeMomentumOscillator,
    KaufmansEfficiencyRatio,
    KaufmansAdaptiveMovingAverage,
}

impl AnalysisFn {
    /// Every technical-analysis function, in the order of the enum.
    pub const ALL: [AnalysisFn; 8] = [
        AnalysisFn::ExponentialMovingAverage,
        AnalysisFn::DoubleExponentialMovingAverage,
        AnalysisFn::TripleExponentialMovingAverage,
        AnalysisFn::TripleExponentialDerivative,
        AnalysisFn::RelativeStrengthIndex,
        AnalysisFn::ChandeMomentumOscillator,
        AnalysisFn::KaufmansEfficiencyRatio,
        AnalysisFn::KaufmansAdaptiveMovingAverage,
    ];

    /// The function of this name (lower case, as the parser gives it).
    pub fn from_name(name: &str) -> Option<AnalysisFn> {
        AnalysisFn::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            AnalysisFn::ExponentialMovingAverage => "exponential_moving_average",
            AnalysisFn::DoubleExponentialMovingAverage => "double_exponential_moving_average",
            AnalysisFn::TripleExponentialMovingAverage => "triple_exponential_moving_average",
            AnalysisFn::TripleExponentialDerivative => "triple_exponential_derivative",
            AnalysisFn::RelativeStrengthIndex => "relative_strength_index",
            AnalysisFn::ChandeMomentumOscillator => "chande_momentum_oscillator",
            AnalysisFn::KaufmansEfficiencyRatio => "kaufmans_efficiency_ratio",
            AnalysisFn::KaufmansAdaptiveMovingAverage => "kaufmans_adaptive_moving_average",
        }
    }
}

/// One technical-analysis function over a stream of values.
#[derive(Clone, Debug)]
pub struct Analysis {
    algorithm: Algorithm,
    hold_period: usize,
    seen: usize,
}

impl Analysis {
    /// `period` ≥ 1 (the planner checks it).
    pub fn new(func: AnalysisFn, period: usize, args: AnalysisArgs) -> Analysis {
        let period = period.max(1);
        let warmup = args.warmup;
        let (algorithm, warm_count) = match func {
            AnalysisFn::ExponentialMovingAverage => {
                let ema = Ema::new(period, warmup);
                let count = ema.warm_count();
                (Algorithm::Ema(ema), count)
            }
            AnalysisFn::DoubleExponentialMovingAverage => {
                let chain = EmaChain::new(2, period, warmup);
                let count = chain.warm_count();
                (Algorithm::Dema(chain), count)
            }
            AnalysisFn::TripleExponentialMovingAverage => {
                let chain = EmaChain::new(3, period, warmup);
                let count = chain.warm_count();
                (Algorithm::Tema(chain), count)
            }
            AnalysisFn::TripleExponentialDerivative => {
                let chain = EmaChain::new(3, period, warmup);
                let count = chain.warm_count().saturating_add(1);
                (Algorithm::Trix(Trix { chain, last: 0.0 }), count)
            }
            AnalysisFn::RelativeStrengthIndex => (
                Algorithm::Rsi(UpsAndDowns::new(Ema::wilder(period, warmup))),
                period,
            ),
            AnalysisFn::ChandeMomentumOscillator if warmup == Warmup::None => {
                (Algorithm::Cmo(Cmo::new(period)), period - 1)
            }
            AnalysisFn::ChandeMomentumOscillator => (
                Algorithm::SmoothedCmo(UpsAndDowns::new(Ema::wilder(period, warmup))),
                period,
            ),
            AnalysisFn::KaufmansEfficiencyRatio => (Algorithm::Ker(Ker::new(period)), period),
            AnalysisFn::KaufmansAdaptiveMovingAverage => (
                Algorithm::Kama(Kama {
                    ker: Ker::new(period),
                    last: 0.0,
                }),
                period,
            ),
        };
        Analysis {
            algorithm,
            hold_period: args.hold_period.unwrap_or(warm_count),
            seen: 0,
        }
    }

    /// Feed one value; the answer once the hold period has passed.
    pub fn push(&mut self, v: f64) -> Option<f64> {
        let out = match &mut self.algorithm {
            Algorithm::Ema(ema) => ema.add(v),
            Algorithm::Dema(chain) => {
                let mut stages = [0.0; 2];
                chain.add(v, &mut stages);
                2.0 * stages[0] - stages[1]
            }
            Algorithm::Tema(chain) => {
                let mut stages = [0.0; 3];
                chain.add(v, &mut stages);
                3.0 * stages[0] - 3.0 * stages[1] + stages[2]
            }
            Algorithm::Trix(trix) => trix.add(v),
            Algorithm::Rsi(updown) => {
                let (up, down) = updown.add(v);
                100.0 - 100.0 / (1.0 + up / down)
            }
            Algorithm::Cmo(cmo) => cmo.add(v),
            Algorithm::SmoothedCmo(updown) => match updown.add(v) {
                (up, down) if up != 0.0 || down != 0.0 => 100.0 * ((up - down) / (up + down)),
                _ => 0.0,
            },
            Algorithm::Ker(ker) => ker.add(v),
            Algorithm::Kama(kama) => kama.add(v),
        };
        self.seen = self.seen.saturating_add(1);
        (self.seen > self.hold_period).then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(func: AnalysisFn, period: usize, args: AnalysisArgs, values: &[f64]) -> Vec<f64> {
        let mut a = Analysis::new(func, period, args);
        values.iter().filter_map(|v| a.push(*v)).collect()
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn ema_warms_up_with_a_scaled_weight_and_holds_its_period_minus_one() {
        let values = [90.26, 47.1, 48.82, 47.27];
        let all = AnalysisArgs {
            hold_period: Some(0),
            ..AnalysisArgs::default()
        };
        // Period 3: weight 2/4, scaled to 2/3 for the second value, 2/4 from the third.
        let got = run(AnalysisFn::ExponentialMovingAverage, 3, all, &values);
        let second = 90.26 + (47.1 - 90.26) * (2.0 / 3.0);
        let third = second + (48.82 - second) * 0.5;
        let fourth = third + (47.27 - third) * 0.5;
        assert!(close(&got, &[90.26, second, third, fourth]), "{got:?}");
        // The default hold period is period - 1.
        let held = run(
            AnalysisFn::ExponentialMovingAverage,
            3,
            AnalysisArgs::default(),
            &values,
        );
        assert!(close(&held, &[third, fourth]), "{held:?}");
        // The simple warm-up averages the values so far.
        let simple = AnalysisArgs {
            hold_period: Some(0),
            warmup: Warmup::Simple,
        };
        let got = run(AnalysisFn::ExponentialMovingAverage, 3, simple, &values);
        let avg3 = (90.26 + 47.1 + 48.82) / 3.0;
        assert!(
            close(
                &got,
                &[
                    90.26,
                    (90.26 + 47.1) / 2.0,
                    avg3,
                    avg3 + (47.27 - avg3) * 0.5
                ]
            ),
            "{got:?}"
        );
    }

    #[test]
    fn default_hold_periods_follow_the_algorithm_and_warmup() {
        let hold = |func, warmup| {
            let mut a = Analysis::new(
                func,
                5,
                AnalysisArgs {
                    hold_period: None,
                    warmup,
                },
            );
            (0..100)
                .take_while(|i| a.push(*i as f64 + 1.0).is_none())
                .count()
        };
        use AnalysisFn::*;
        assert_eq!(hold(ExponentialMovingAverage, Warmup::Exponential), 4);
        assert_eq!(hold(DoubleExponentialMovingAverage, Warmup::Exponential), 4);
        assert_eq!(hold(DoubleExponentialMovingAverage, Warmup::Simple), 8);
        assert_eq!(hold(TripleExponentialMovingAverage, Warmup::Simple), 12);
        assert_eq!(hold(TripleExponentialDerivative, Warmup::Exponential), 5);
        assert_eq!(hold(TripleExponentialDerivative, Warmup::Simple), 13);
        assert_eq!(hold(RelativeStrengthIndex, Warmup::Exponential), 5);
        assert_eq!(hold(ChandeMomentumOscillator, Warmup::None), 4);
        assert_eq!(hold(ChandeMomentumOscillator, Warmup::Simple), 5);
        assert_eq!(hold(KaufmansEfficiencyRatio, Warmup::Exponential), 5);
        assert_eq!(hold(KaufmansAdaptiveMovingAverage, Warmup::Exponential), 5);
    }

    /// Values InfluxDB 1.6 answered for this series: the first value counts as a rise from 0,
    /// the warm-up is a period + 1 long, then Wilder's weight 1/period.
    #[test]
    fn relative_strength_index_as_1x_answers_it() {
        let loads = [4.0, 10.0, 2.0, 33.0, 2.0];
        let simple = AnalysisArgs {
            hold_period: Some(1),
            warmup: Warmup::Simple,
        };
        let got = run(AnalysisFn::RelativeStrengthIndex, 3, simple, &loads);
        let want = [
            100.0,
            55.55555555555556,
            83.6734693877551,
            36.936936936936945,
        ];
        assert!(close(&got, &want), "{got:?}");
    }

    /// A period from the query allocates nothing up front: the windows grow with the values.
    #[test]
    fn a_huge_period_costs_nothing_until_values_come() {
        let args = AnalysisArgs {
            hold_period: Some(0),
            warmup: Warmup::None,
        };
        for func in AnalysisFn::ALL {
            let mut a = Analysis::new(func, usize::MAX / 2, args);
            for v in [1.0, 2.0, 3.0] {
                assert!(a.push(v).is_some(), "{}", func.name());
            }
        }
    }

    #[test]
    fn rising_values_are_all_strength_and_all_efficiency() {
        let rising: Vec<f64> = (1..=20).map(f64::from).collect();
        let args = AnalysisArgs::default();
        for v in run(AnalysisFn::RelativeStrengthIndex, 4, args, &rising) {
            assert_eq!(v, 100.0);
        }
        for v in run(AnalysisFn::KaufmansEfficiencyRatio, 4, args, &rising) {
            assert!((v - 1.0).abs() < 1e-12, "{v}");
        }
        let cmo = AnalysisArgs {
            hold_period: None,
            warmup: Warmup::None,
        };
        for v in run(AnalysisFn::ChandeMomentumOscillator, 4, cmo, &rising) {
            assert_eq!(v, 100.0);
        }
        // A constant series has no change: a flat average and a zero rate.
        let flat = vec![7.0; 30];
        for v in run(AnalysisFn::TripleExponentialMovingAverage, 3, args, &flat) {
            assert!((v - 7.0).abs() < 1e-12);
        }
        for v in run(AnalysisFn::TripleExponentialDerivative, 3, args, &flat) {
            assert!(v.abs() < 1e-12);
        }
        for v in run(AnalysisFn::KaufmansAdaptiveMovingAverage, 3, args, &flat) {
            assert!((v - 7.0).abs() < 1e-9, "{v}");
        }
    }
}
