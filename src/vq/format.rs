//! vq's output text (VQ.md §6.1): C's `%g` for DATA values, `%f` for aggregates, DATA entries
//! with zero-padded timestamps and sorted tags.

use super::VqPoint;

/// C `printf("%g", v)`: 6 significant digits, trailing zeros dropped, exponent form when the
/// exponent is below -4 or at least 6 (`1.23457e+06`, `1e-05`).
pub fn format_g(v: f64) -> String {
    if !v.is_finite() {
        return non_finite(v);
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    // The exponent after rounding to 6 significant digits decides the style.
    let sci = format!("{v:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        let decimals = (5 - exp) as usize;
        strip_zeros(&format!("{v:.decimals$}")).to_string()
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", strip_zeros(mantissa), exp.abs())
    }
}

/// C `printf("%f", v)` (what C++ `std::to_string(double)` gives): six decimals.
pub fn format_f(v: f64) -> String {
    if !v.is_finite() {
        return non_finite(v);
    }
    format!("{v:.6}")
}

fn non_finite(v: f64) -> String {
    match (v.is_nan(), v.is_sign_negative()) {
        (true, true) => "-nan",
        (true, false) => "nan",
        (false, true) => "-inf",
        (false, false) => "inf",
    }
    .to_string()
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// A DATA result: `[[{00000000000000001234}{temperature}{city:paris}|23.5];…]`, `[]` if empty.
pub fn format_points(points: &[VqPoint]) -> String {
    let mut out = String::new();
    let _ = write_points(&mut out, points);
    out
}

/// [`format_points`] into any writer (a counter, to size the text before it is made).
pub fn write_points(out: &mut impl std::fmt::Write, points: &[VqPoint]) -> std::fmt::Result {
    out.write_char('[')?;
    for (i, p) in points.iter().enumerate() {
        if i > 0 {
            out.write_char(';')?;
        }
        write!(out, "[{{{:020}}}{{{}}}{{", p.timestamp, p.metric)?;
        for (j, (k, v)) in p.tags.iter().enumerate() {
            let sep = if j == 0 { "" } else { "," };
            write!(out, "{sep}{k}:{v}")?;
        }
        write!(out, "}}|{}]", format_g(p.value))?;
    }
    out.write_char(']')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_matches_c_printf() {
        let cases = [
            (20.0, "20"),
            (23.5, "23.5"),
            (-0.25, "-0.25"),
            (1234567.0, "1.23457e+06"),
            (1e6, "1e+06"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (123456.0, "123456"),
            (999999.5, "1e+06"),
            (0.1 + 0.2, "0.3"),
            (1e100, "1e+100"),
            (-1.5e-300, "-1.5e-300"),
            (0.0, "0"),
            (100.0, "100"),
            (f64::INFINITY, "inf"),
        ];
        for (v, want) in cases {
            assert_eq!(format_g(v), want, "{v}");
        }
    }

    #[test]
    fn f_matches_c_printf() {
        assert_eq!(format_f(23.0), "23.000000");
        assert_eq!(format_f(485.0 / 3.0), "161.666667");
        assert_eq!(format_f(-3.5), "-3.500000");
        assert_eq!(format_f(2358023.0), "2358023.000000");
    }

    #[test]
    fn points_print_as_vkdb_prints_them() {
        assert_eq!(format_points(&[]), "[]");
        let p = |ts: u64, tags: &[(&str, &str)], value: f64| VqPoint {
            timestamp: ts,
            metric: "temperature".into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        };
        assert_eq!(
            format_points(&[
                p(1234, &[("city", "paris"), ("unit", "celsius")], 23.5),
                p(1235, &[], 1e6)
            ]),
            "[[{00000000000000001234}{temperature}{city:paris,unit:celsius}|23.5];\
             [{00000000000000001235}{temperature}{}|1e+06]]"
        );
    }
}
