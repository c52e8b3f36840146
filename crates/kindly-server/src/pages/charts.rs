//! Server-rendered SVG charts for the dashboard: grouped bars per day and horizontal bars per
//! label. Plain markup, readable without JavaScript; every bar has a `<title>` with its number.

use std::fmt::Write;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 200.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Two series side by side per label (e.g. answered and handed off per day).
pub fn paired_bars(title: &str, labels: &[String], a: (&str, &[u64]), b: (&str, &[u64])) -> String {
    let max = a.1.iter().chain(b.1).copied().max().unwrap_or(0).max(1) as f64;
    let n = labels.len().max(1) as f64;
    let slot = (WIDTH - 40.0) / n;
    let bar = (slot / 2.0 - 2.0).clamp(1.0, 40.0);
    let mut svg = format!(
        r#"<svg role="img" aria-label="{}" viewBox="0 0 {WIDTH} {}" class="chart"><title>{}</title>"#,
        esc(title),
        HEIGHT + 40.0,
        esc(title)
    );
    for (i, label) in labels.iter().enumerate() {
        let x = 30.0 + i as f64 * slot;
        for (j, (name, values, class)) in [(a.0, a.1, "a"), (b.0, b.1, "b")].into_iter().enumerate() {
            let v = values.get(i).copied().unwrap_or(0);
            let h = v as f64 / max * HEIGHT;
            let _ = write!(
                svg,
                r#"<rect class="{class}" x="{:.1}" y="{:.1}" width="{bar:.1}" height="{h:.1}"><title>{} {}: {v}</title></rect>"#,
                x + j as f64 * (bar + 2.0),
                HEIGHT - h + 10.0,
                esc(label),
                esc(name)
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" class="axis">{}</text>"#,
            x,
            HEIGHT + 28.0,
            esc(label.get(5..).unwrap_or(label))
        );
    }
    let _ = write!(
        svg,
        r#"<text x="30" y="8" class="legend a">■ {}</text><text x="160" y="8" class="legend b">■ {}</text></svg>"#,
        esc(a.0),
        esc(b.0)
    );
    svg
}

/// One horizontal bar per label.
pub fn bars(title: &str, rows: &[(String, u64)]) -> String {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    let row_h = 22.0;
    let height = (rows.len().max(1) as f64) * row_h + 10.0;
    let mut svg = format!(
        r#"<svg role="img" aria-label="{}" viewBox="0 0 {WIDTH} {height}" class="chart"><title>{}</title>"#,
        esc(title),
        esc(title)
    );
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = 5.0 + i as f64 * row_h;
        let w = *v as f64 / max * (WIDTH - 260.0);
        let _ = write!(
            svg,
            r#"<text x="0" y="{:.1}" class="axis">{}</text><rect class="a" x="200" y="{y:.1}" width="{w:.1}" height="{:.1}"><title>{}: {v}</title></rect><text x="{:.1}" y="{:.1}" class="axis">{v}</text>"#,
            y + 14.0,
            esc(label),
            row_h - 6.0,
            esc(label),
            205.0 + w,
            y + 14.0
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_labels_and_carry_every_number() {
        let svg = bars("Handoff reasons", &[("<b>".into(), 3), ("legal".into(), 1)]);
        assert!(svg.contains("&lt;b&gt;: 3") && svg.contains("legal: 1") && !svg.contains("<b>"));
        let days = vec!["2026-11-22".to_owned(), "2026-11-23".to_owned()];
        let svg = paired_bars("Per day", &days, ("answered", &[4, 0]), ("handed off", &[1, 2]));
        assert!(svg.contains("2026-11-23 handed off: 2") && svg.contains("2026-11-22 answered: 4"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
