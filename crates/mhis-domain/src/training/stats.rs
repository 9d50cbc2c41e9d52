//! Knowledge gain: paired pre/post scores of the same participants.
//!
//! - **Mean gain with a 95% confidence interval**: the mean of the paired
//!   differences `post − pre` ± t(0.975, n−1) · s/√n (Student's t; e.g.
//!   Altman, *Practical Statistics for Medical Research*, 1991, §9.5).
//! - **Paired t-test**: t = d̄ / (s/√n) with n − 1 degrees of freedom,
//!   two-sided.
//! - **Wilcoxon signed-rank test**, two-sided, for small or non-normal
//!   samples: zero differences dropped (Wilcoxon's method), absolute
//!   differences ranked with average ranks for ties, T = min(W+, W−), and
//!   the **normal approximation** z = (T − n(n+1)/4) / σ with
//!   σ² = n(n+1)(2n+1)/24 − Σ(t³ − t)/48 for tie groups of size t, without
//!   continuity correction (Hollander, Wolfe & Chicken, *Nonparametric
//!   Statistical Methods*, 3rd ed., 2014, §3.1, large-sample approximation
//!   with ties). The normal approximation is used rather than the exact
//!   null distribution because it handles ties and zeros (frequent with
//!   whole-number test scores) in one formula with a distribution from the
//!   `statrs` crate; it is the same computation as SciPy's
//!   `scipy.stats.wilcoxon(..., method="approx")`, which the tests compare
//!   against. With fewer than ten non-zero pairs it is rough, and the
//!   summary says so ([`Wilcoxon::approximate_small`]).
//!
//! Distributions come from `statrs` (Student's t, standard normal); nothing
//! here computes a distribution function by hand.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// Below this many pairs the Wilcoxon test is the primary test: the
/// t-test leans on the sampling distribution of the mean being close to
/// normal, which the central limit theorem makes safe only for larger
/// samples (30 is the usual rule of thumb).
pub const T_TEST_MIN_PAIRS: usize = 30;

/// Why statistics could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatsError {
    /// Pre and post lists differ in length.
    #[error("pre and post scores must be paired: {pre} pre scores, {post} post scores")]
    Unpaired {
        /// Pre scores.
        pre: usize,
        /// Post scores.
        post: usize,
    },
    /// Too few pairs.
    #[error("at least two participants with both scores are needed; {0} have both")]
    TooFew(usize),
    /// A score is not a finite number.
    #[error("a score is not a finite number")]
    NotFinite,
}

/// The paired t-test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TTest {
    /// t statistic.
    pub t: f64,
    /// Degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// The Wilcoxon signed-rank test (normal approximation).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wilcoxon {
    /// T = min(W+, W−).
    pub statistic: f64,
    /// Sum of ranks of positive differences.
    pub w_plus: f64,
    /// Non-zero differences ranked.
    pub n: usize,
    /// z score.
    pub z: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Fewer than ten non-zero pairs: the approximation is rough.
    pub approximate_small: bool,
}

/// Which test to read first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrimaryTest {
    /// The paired t-test.
    PairedT,
    /// The Wilcoxon signed-rank test.
    Wilcoxon,
}

/// Knowledge gain of a set of paired scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gain {
    /// Pairs.
    pub n: usize,
    /// Mean pre score.
    pub mean_pre: f64,
    /// Mean post score.
    pub mean_post: f64,
    /// Mean gain (post − pre).
    pub mean_gain: f64,
    /// Sample standard deviation of the gains.
    pub sd_gain: f64,
    /// Lower end of the 95% confidence interval of the mean gain.
    pub ci_low: f64,
    /// Upper end.
    pub ci_high: f64,
    /// The paired t-test; `None` when every gain is the same (no spread).
    pub t_test: Option<TTest>,
    /// The Wilcoxon test; `None` when every gain is zero.
    pub wilcoxon: Option<Wilcoxon>,
    /// The test to read first.
    pub primary: PrimaryTest,
}

impl Gain {
    /// The p-value of the primary test, when it could be computed.
    pub fn primary_p(&self) -> Option<f64> {
        match self.primary {
            PrimaryTest::PairedT => self.t_test.as_ref().map(|t| t.p),
            PrimaryTest::Wilcoxon => self.wilcoxon.as_ref().map(|w| w.p),
        }
    }
}

/// Computes the knowledge gain of paired scores (`pre[i]` and `post[i]`
/// of the same participant).
pub fn paired_gain(pre: &[f64], post: &[f64]) -> Result<Gain, StatsError> {
    if pre.len() != post.len() {
        return Err(StatsError::Unpaired {
            pre: pre.len(),
            post: post.len(),
        });
    }
    let n = pre.len();
    if n < 2 {
        return Err(StatsError::TooFew(n));
    }
    if pre.iter().chain(post).any(|v| !v.is_finite()) {
        return Err(StatsError::NotFinite);
    }
    let nf = n as f64;
    let d: Vec<f64> = post.iter().zip(pre).map(|(b, a)| b - a).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let mean_gain = mean(&d);
    let var = d.iter().map(|x| (x - mean_gain).powi(2)).sum::<f64>() / (nf - 1.0);
    let sd = var.sqrt();
    let se = sd / nf.sqrt();
    let df = nf - 1.0;
    let dist = StudentsT::new(0.0, 1.0, df).map_err(|_| StatsError::TooFew(n))?;
    let tcrit = dist.inverse_cdf(0.975);
    let t_test = (se > 0.0).then(|| {
        let t = mean_gain / se;
        TTest {
            t,
            df,
            p: (2.0 * dist.sf(t.abs())).min(1.0),
        }
    });
    Ok(Gain {
        n,
        mean_pre: mean(pre),
        mean_post: mean(post),
        mean_gain,
        sd_gain: sd,
        ci_low: mean_gain - tcrit * se,
        ci_high: mean_gain + tcrit * se,
        t_test,
        wilcoxon: wilcoxon(&d),
        primary: if n >= T_TEST_MIN_PAIRS {
            PrimaryTest::PairedT
        } else {
            PrimaryTest::Wilcoxon
        },
    })
}

/// The Wilcoxon signed-rank test of differences `d` (see the module
/// documentation for the method).
fn wilcoxon(d: &[f64]) -> Option<Wilcoxon> {
    let mut nz: Vec<f64> = d.iter().copied().filter(|x| *x != 0.0).collect();
    let n = nz.len();
    if n == 0 {
        return None;
    }
    nz.sort_by(|a, b| a.abs().total_cmp(&b.abs()));
    // Average ranks over ties of |d|.
    let mut w_plus = 0.0;
    let mut tie_term = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && nz[j + 1].abs() == nz[i].abs() {
            j += 1;
        }
        let rank = (i + j + 2) as f64 / 2.0;
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        w_plus += nz[i..=j].iter().filter(|x| **x > 0.0).count() as f64 * rank;
        i = j + 1;
    }
    let nf = n as f64;
    let total = nf * (nf + 1.0) / 2.0;
    let statistic = w_plus.min(total - w_plus);
    let mean = nf * (nf + 1.0) / 4.0;
    let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - tie_term / 48.0;
    let (z, p) = if var > 0.0 {
        let z = (statistic - mean) / var.sqrt();
        let normal = Normal::new(0.0, 1.0).ok()?;
        (z, (2.0 * normal.sf(z.abs())).min(1.0))
    } else {
        (0.0, 1.0)
    };
    Some(Wilcoxon {
        statistic,
        w_plus,
        n,
        z,
        p,
        approximate_small: n < 10,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9 * b.abs().max(1.0), "{a} != {b}");
    }

    // Reference values computed independently with SciPy 1.17.1 / NumPy 2.4.6 in a
    // virtual environment (python3 -m venv /tmp/v && /tmp/v/bin/pip install
    // scipy), by:
    //
    //   import numpy as np; from scipy import stats
    //   pre  = np.array(PRE);  post = np.array(POST); d = post - pre
    //   r = stats.ttest_rel(post, pre)
    //   ci = r.confidence_interval(0.95)
    //   w = stats.wilcoxon(post, pre, method="approx", zero_method="wilcox",
    //                      correction=False)
    //   print(d.mean(), d.std(ddof=1), ci.low, ci.high, r.statistic,
    //         r.pvalue, w.statistic, w.pvalue)
    //
    // The printed values are pasted below with all their digits.

    /// Twelve participants, percent scores, with tied gains and one zero.
    const PRE: [f64; 12] = [40., 60., 20., 80., 40., 60., 40., 20., 60., 40., 80., 60.];
    const POST: [f64; 12] = [80., 80., 60., 80., 60., 100., 60., 40., 80., 40., 100., 60.];

    #[test]
    fn matches_scipy_on_a_session_with_ties_and_zeros() {
        let g = paired_gain(&PRE, &POST).unwrap();
        assert_eq!(g.n, 12);
        close(g.mean_gain, SCIPY_A[0]);
        close(g.sd_gain, SCIPY_A[1]);
        close(g.ci_low, SCIPY_A[2]);
        close(g.ci_high, SCIPY_A[3]);
        let t = g.t_test.clone().unwrap();
        close(t.t, SCIPY_A[4]);
        close(t.p, SCIPY_A[5]);
        let w = g.wilcoxon.clone().unwrap();
        close(w.statistic, SCIPY_A[6]);
        close(w.p, SCIPY_A[7]);
        assert_eq!(g.primary, PrimaryTest::Wilcoxon);
        assert_eq!(g.primary_p(), Some(w.p));
    }

    const SCIPY_A: [f64; 8] = [
        20.0,
        14.770978917519928,
        10.614967743607894,
        29.38503225639211,
        4.69041575982343,
        0.0006603135246711986,
        0.0,
        0.005749708623335458,
    ];

    /// Thirty-two participants, raw scores out of 5, with losses too.
    const PRE_B: [f64; 32] = [
        2., 3., 1., 4., 2., 3., 3., 2., 1., 0., 2., 3., 4., 2., 1., 3., 2., 2., 3., 1., 4., 3., 2.,
        1., 2., 3., 2., 4., 1., 2., 3., 2.,
    ];
    const POST_B: [f64; 32] = [
        4., 4., 3., 4., 3., 5., 2., 4., 3., 2., 2., 4., 5., 4., 2., 3., 4., 3., 5., 2., 3., 4., 4.,
        3., 3., 5., 3., 5., 2., 4., 4., 3.,
    ];

    #[test]
    fn matches_scipy_on_a_larger_session_and_picks_the_t_test() {
        let g = paired_gain(&PRE_B, &POST_B).unwrap();
        close(g.mean_gain, SCIPY_B[0]);
        close(g.sd_gain, SCIPY_B[1]);
        close(g.ci_low, SCIPY_B[2]);
        close(g.ci_high, SCIPY_B[3]);
        let t = g.t_test.clone().unwrap();
        close(t.t, SCIPY_B[4]);
        close(t.p, SCIPY_B[5]);
        let w = g.wilcoxon.clone().unwrap();
        close(w.statistic, SCIPY_B[6]);
        close(w.p, SCIPY_B[7]);
        assert_eq!(g.primary, PrimaryTest::PairedT);
    }

    const SCIPY_B: [f64; 8] = [
        1.1875,
        0.8590129369261278,
        0.877792809710181,
        1.497207190289819,
        7.820038712466894,
        7.971956273521725e-09,
        17.0,
        7.67345573067103e-06,
    ];

    #[test]
    fn degenerate_samples_are_reported_not_divided_by_zero() {
        assert_eq!(paired_gain(&[1.0], &[2.0]), Err(StatsError::TooFew(1)));
        assert_eq!(
            paired_gain(&[1.0, 2.0], &[2.0]),
            Err(StatsError::Unpaired { pre: 2, post: 1 })
        );
        assert_eq!(
            paired_gain(&[1.0, f64::NAN], &[2.0, 3.0]),
            Err(StatsError::NotFinite)
        );
        // Every gain the same: no spread, no t statistic; CI is the point.
        let g = paired_gain(&[1.0, 2.0, 3.0], &[2.0, 3.0, 4.0]).unwrap();
        assert!(g.t_test.is_none());
        assert_eq!((g.ci_low, g.ci_high), (1.0, 1.0));
        // No change at all: no Wilcoxon statistic either.
        let g = paired_gain(&[1.0, 2.0], &[1.0, 2.0]).unwrap();
        assert!(g.wilcoxon.is_none());
        assert_eq!(g.primary_p(), None);
    }
}
