//! Charts rendered on the server as inline SVG: columns for a time series,
//! horizontal bars for a breakdown. No script and no inline style (the
//! Content Security Policy allows neither): colours are presentation
//! attributes, and every chart carries a title and a text label on each
//! bar, so it reads without colour and with a screen reader (the table
//! under each chart holds the same numbers).

/// One bar: its label and value; `None` is drawn as an empty, labelled
/// slot (suppressed or undefined).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// The category or period.
    pub label: String,
    /// The value.
    pub value: Option<f64>,
    /// The value as shown.
    pub shown: String,
}

/// Escapes text for SVG content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const BAR_FILL: &str = "#2b6cb0";
const AXIS: &str = "#4a5568";

fn max_of(bars: &[Bar]) -> f64 {
    bars.iter()
        .filter_map(|b| b.value)
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE)
}

/// A horizontal bar chart: one row per bar, label left, value right.
pub fn bars(title: &str, bars: &[Bar]) -> String {
    let row = 24.0;
    let label_w = 150.0;
    let plot_w = 330.0;
    let width = label_w + plot_w + 90.0;
    let height = row * bars.len().max(1) as f64 + 8.0;
    let max = max_of(bars);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    for (i, b) in bars.iter().enumerate() {
        let y = 4.0 + row * i as f64;
        svg.push_str(&format!(
            r#"<text x="{x}" y="{ty}" text-anchor="end" font-size="12" fill="{AXIS}">{l}</text>"#,
            x = label_w - 6.0,
            ty = y + 15.0,
            l = escape(&b.label)
        ));
        let w = b.value.map_or(0.0, |v| (v / max) * plot_w);
        if w > 0.0 {
            svg.push_str(&format!(
                r#"<rect x="{label_w}" y="{ry}" width="{w:.1}" height="{h}" fill="{BAR_FILL}"/>"#,
                ry = y + 3.0,
                h = row - 8.0
            ));
        }
        svg.push_str(&format!(
            r#"<text x="{x:.1}" y="{ty}" font-size="12" fill="{AXIS}">{s}</text>"#,
            x = label_w + w + 4.0,
            ty = y + 15.0,
            s = escape(&b.shown)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// A column chart of a series in time order, with the first and last
/// period labelled under the axis and every value in the bar's title.
pub fn columns(title: &str, bars: &[Bar]) -> String {
    let width = 560.0;
    let height = 200.0;
    let (left, bottom, top) = (40.0, 24.0, 10.0);
    let plot_h = height - bottom - top;
    let n = bars.len().max(1) as f64;
    let slot = (width - left - 8.0) / n;
    let max = max_of(bars);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    // Axis and the maximum as the scale.
    svg.push_str(&format!(
        r#"<line x1="{left}" y1="{y}" x2="{x2}" y2="{y}" stroke="{AXIS}"/><text x="{lx}" y="{ty}" text-anchor="end" font-size="11" fill="{AXIS}">{m}</text>"#,
        y = height - bottom,
        x2 = width - 4.0,
        lx = left - 4.0,
        ty = top + 10.0,
        m = escape(&format_number(max))
    ));
    for (i, b) in bars.iter().enumerate() {
        let x = left + slot * i as f64 + slot * 0.1;
        let h = b.value.map_or(0.0, |v| v / max * plot_h);
        svg.push_str(&format!(
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{BAR_FILL}"><title>{l}: {s}</title></rect>"#,
            y = height - bottom - h,
            w = (slot * 0.8).max(1.0),
            l = escape(&b.label),
            s = escape(&b.shown)
        ));
    }
    if let (Some(first), Some(last)) = (bars.first(), bars.last()) {
        svg.push_str(&format!(
            r#"<text x="{left}" y="{y}" font-size="11" fill="{AXIS}">{f}</text><text x="{x}" y="{y}" text-anchor="end" font-size="11" fill="{AXIS}">{l}</text>"#,
            y = height - 6.0,
            x = width - 4.0,
            f = escape(&first.label),
            l = escape(&last.label)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// A number as charts and tiles show it: whole numbers without decimals,
/// others with one.
pub fn format_number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_bars_scale_to_the_largest() {
        let svg = bars(
            "By site <all>",
            &[
                Bar {
                    label: "A&B".into(),
                    value: Some(10.0),
                    shown: "10".into(),
                },
                Bar {
                    label: "C".into(),
                    value: Some(5.0),
                    shown: "5".into(),
                },
                Bar {
                    label: "D".into(),
                    value: None,
                    shown: "suppressed".into(),
                },
            ],
        );
        assert!(svg.contains("By site &lt;all&gt;"));
        assert!(svg.contains(">A&amp;B<"));
        assert!(
            svg.contains(r#"width="330.0""#),
            "the largest fills the plot"
        );
        assert!(
            svg.contains(r#"width="165.0""#),
            "half the largest, half the width"
        );
        assert_eq!(
            svg.matches("<rect").count(),
            2,
            "no bar for a withheld value"
        );
        assert!(svg.contains(">suppressed<"));
        assert!(!svg.contains("style="));
    }
}
