//! Small server-rendered SVG bar charts for the training pages (no
//! JavaScript, no style attributes: colours are presentation attributes,
//! which the Content Security Policy allows). Private to the training
//! pages.

/// One bar group: a label and one value per series.
pub struct Bars {
    /// The label, left of the bars.
    pub label: String,
    /// One value per series (`None`: no data).
    pub values: Vec<Option<f64>>,
}

/// Fill colours of the series (colour-blind-safe pair from the Okabe–Ito
/// palette).
const COLOURS: [&str; 3] = ["#0072B2", "#E69F00", "#009E73"];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A horizontal bar chart of `groups` on a scale from 0 to `max`, with a
/// legend of `series` names when there is more than one series. `title` is
/// the accessible name; values are printed beside the bars with
/// `decimals` digits.
pub fn bar_chart(
    title: &str,
    series: &[String],
    groups: &[Bars],
    max: f64,
    decimals: usize,
) -> String {
    let label_w = 260.0;
    let bar_area = 360.0;
    let bar_h = 16.0;
    let gap = 10.0;
    let n = series.len().max(1) as f64;
    let legend_h = if series.len() > 1 { 24.0 } else { 0.0 };
    let group_h = n * bar_h + gap;
    let height = legend_h + groups.len() as f64 * group_h + 10.0;
    let width = label_w + bar_area + 60.0;
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" aria-label="{}"><title>{}</title>"#,
        escape(title),
        escape(title)
    );
    if series.len() > 1 {
        let mut x = label_w;
        for (i, s) in series.iter().enumerate() {
            out.push_str(&format!(
                r##"<rect x="{x}" y="4" width="12" height="12" fill="{}"/><text x="{}" y="14" font-size="12" fill="#222">{}</text>"##,
                COLOURS[i % COLOURS.len()],
                x + 16.0,
                escape(s)
            ));
            x += 20.0 + 8.0 * s.chars().count() as f64;
        }
    }
    let max = if max > 0.0 { max } else { 1.0 };
    for (g, group) in groups.iter().enumerate() {
        let top = legend_h + g as f64 * group_h;
        out.push_str(&format!(
            r##"<text x="{}" y="{}" font-size="12" text-anchor="end" fill="#222">{}</text>"##,
            label_w - 8.0,
            top + n * bar_h / 2.0 + 4.0,
            escape(&group.label)
        ));
        for (i, v) in group.values.iter().enumerate() {
            let y = top + i as f64 * bar_h;
            let Some(v) = v else { continue };
            let w = (v.clamp(0.0, max) / max * bar_area).max(1.0);
            out.push_str(&format!(
                r##"<rect x="{label_w}" y="{y}" width="{w:.1}" height="{}" fill="{}"/><text x="{:.1}" y="{}" font-size="11" fill="#222">{v:.decimals$}</text>"##,
                bar_h - 2.0,
                COLOURS[i % COLOURS.len()],
                label_w + w + 4.0,
                y + bar_h - 5.0,
            ));
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_maximum_and_labels_are_escaped() {
        let svg = bar_chart(
            "Need <by> topic",
            &["Pre".into(), "Post".into()],
            &[Bars {
                label: "TB & HIV".into(),
                values: vec![Some(50.0), Some(100.0)],
            }],
            100.0,
            0,
        );
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("Need &lt;by&gt; topic"));
        assert!(svg.contains("TB &amp; HIV"));
        assert!(svg.contains(r#"width="180.0""#));
        assert!(svg.contains(r#"width="360.0""#));
        assert!(!svg.contains("style="));
    }
}
