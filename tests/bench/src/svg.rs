//! `converge.svg`: users Ready over time, with the limit line (the Dashboard round trip at
//! the allowed in-flight calls) for comparison. Hand-written SVG: one plot does not need a
//! plotting crate.

use std::fmt::Write;

use serde_json::Value;

const W: f64 = 720.0;
const H: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

/// Renders the `converge` object (`users`, `seconds`, `limit_seconds`, `ready_over_time`).
pub fn converge(c: &Value) -> String {
    let users = c["users"].as_f64().unwrap_or(0.0).max(1.0);
    let seconds = c["seconds"].as_f64().unwrap_or(0.0);
    let limit = c["limit_seconds"].as_f64().unwrap_or(0.0);
    let points: Vec<(f64, f64)> = c["ready_over_time"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
                .collect()
        })
        .unwrap_or_default();
    let x_max = nice(seconds.max(limit).max(0.1) * 1.05);
    let y_max = users;
    let x = |t: f64| LEFT + t / x_max * (W - LEFT - RIGHT);
    let y = |r: f64| H - BOTTOM - r / y_max * (H - TOP - BOTTOM);

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="14">converge: {} users Ready in {seconds:.1} s (limit {limit:.1} s)</text>"#,
        W / 2.0,
        users as u64
    );
    // Axes, ticks and grid.
    for i in 0..=5 {
        let f = i as f64 / 5.0;
        let (tx, ty) = (x(f * x_max), y(f * y_max));
        let _ = writeln!(
            s,
            r##"<line x1="{tx:.1}" y1="{TOP}" x2="{tx:.1}" y2="{:.1}" stroke="#eee"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            H - BOTTOM,
            H - BOTTOM + 18.0,
            tick(f * x_max)
        );
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{:.0}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            ty + 4.0,
            f * y_max
        );
    }
    let _ = writeln!(
        s,
        r##"<polyline points="{LEFT},{TOP} {LEFT},{b} {r},{b}" fill="none" stroke="#333"/>"##,
        b = H - BOTTOM,
        r = W - RIGHT
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">seconds since the first apply</text>"#,
        (LEFT + W - RIGHT) / 2.0,
        H - 12.0
    );
    let _ = writeln!(
        s,
        r#"<text x="16" y="{:.1}" text-anchor="middle" transform="rotate(-90 16 {:.1})">users Ready</text>"#,
        (TOP + H - BOTTOM) / 2.0,
        (TOP + H - BOTTOM) / 2.0
    );
    // The limit: users Ready grow linearly to N at limit_seconds.
    if limit > 0.0 {
        let _ = writeln!(
            s,
            r##"<polyline points="{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" fill="none" stroke="#d62728" stroke-dasharray="6 4"/>"##,
            x(0.0),
            y(0.0),
            x(limit),
            y(users),
            x(x_max),
            y(users)
        );
    }
    // Measured: a step line.
    let mut path = String::new();
    let mut last = 0.0;
    for (i, &(t, r)) in points.iter().enumerate() {
        if i > 0 {
            let _ = write!(path, " {:.1},{:.1}", x(t), y(last));
        }
        let _ = write!(path, " {:.1},{:.1}", x(t), y(r));
        last = r;
    }
    let _ = writeln!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#1f77b4" stroke-width="2"/>"##,
        path.trim()
    );
    let lx = LEFT + 16.0;
    let _ = writeln!(
        s,
        r##"<line x1="{lx}" y1="{a}" x2="{}" y2="{a}" stroke="#1f77b4" stroke-width="2"/><text x="{}" y="{}">measured</text>"##,
        lx + 24.0,
        lx + 30.0,
        TOP + 14.0,
        a = TOP + 10.0
    );
    let _ = writeln!(
        s,
        r##"<line x1="{lx}" y1="{a}" x2="{}" y2="{a}" stroke="#d62728" stroke-dasharray="6 4"/><text x="{}" y="{}">limit (users × calls × latency ÷ in-flight)</text>"##,
        lx + 24.0,
        lx + 30.0,
        TOP + 32.0,
        a = TOP + 28.0
    );
    s.push_str("</svg>\n");
    s
}

/// Whole numbers as such, small ones with one decimal (a 2 s axis has ticks at 0.4 s).
fn tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Rounds an axis maximum up to 1, 2 or 5 × 10^k.
fn nice(v: f64) -> f64 {
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&c| c >= v)
        .unwrap_or(10.0 * p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn axis_maxima_are_round() {
        assert_eq!(nice(0.7), 1.0);
        assert_eq!(nice(13.0), 20.0);
        assert_eq!(nice(420.0), 500.0);
        assert_eq!(nice(1000.0), 1000.0);
        assert_eq!(tick(0.4), "0.4");
        assert_eq!(tick(200.0), "200");
    }

    #[test]
    fn the_plot_has_both_lines() {
        let c = json!({"users": 10, "seconds": 2.0, "limit_seconds": 1.5,
            "ready_over_time": [[0.0, 0.0], [1.0, 4.0], [2.0, 10.0]]});
        let svg = converge(&c);
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("stroke=\"#1f77b4\""));
        assert!(svg.contains("stroke-dasharray"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
