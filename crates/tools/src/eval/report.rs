//! The report in three forms (`report.json`, a contract; `report.md`; `report.html` with
//! charts) and the comparison of two reports.

use super::score::LOWER_IS_BETTER;
use anyhow::Context as _;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

/// Writes `report.json`, `report.md` and `report.html` into `dir`.
pub fn write_all(dir: &Path, report: &Value) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(report)?,
    )?;
    std::fs::write(dir.join("report.md"), markdown(report))?;
    std::fs::write(dir.join("report.html"), html(report))?;
    Ok(())
}

fn fmt_metric(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        Value::Number(n) => format!("{:.3}", n.as_f64().unwrap_or(f64::NAN)),
        other => other.to_string(),
    }
}

/// The terminal summary (also the head of `report.md`).
pub fn summary_table(report: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "dataset {} · engine {} · via {} · {} cases × {}",
        report["dataset"].as_str().unwrap_or("?"),
        report["engine"].as_str().unwrap_or("?"),
        report["via"].as_str().unwrap_or("?"),
        report["cases"],
        report["repeat"],
    );
    let _ = writeln!(out, "{:<24} {:>10}", "metric", "value");
    for (name, value) in report["metrics"].as_object().into_iter().flatten() {
        let _ = writeln!(out, "{name:<24} {:>10}", fmt_metric(value));
    }
    let failed: Vec<&str> = report["per_case"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["pass"] == false)
        .filter_map(|c| c["id"].as_str())
        .collect();
    let _ = writeln!(
        out,
        "failed cases ({}): {}",
        failed.len(),
        failed.join(", ")
    );
    out
}

fn markdown(report: &Value) -> String {
    let mut out = format!(
        "# Evaluation: {}\n\n```\n{}```\n\n",
        report["dataset"].as_str().unwrap_or("?"),
        summary_table(report)
    );
    out.push_str("## Failures\n\n| case | failures |\n|---|---|\n");
    for case in report["per_case"].as_array().into_iter().flatten() {
        if case["pass"] == false {
            let failures: Vec<String> = case["failures"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| f.as_str().unwrap_or("").replace('|', "\\|"))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} |",
                case["id"].as_str().unwrap_or(""),
                failures.join("<br>")
            );
        }
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A self-contained page: per-step scores as bars, the confusion matrices as heat maps,
/// and the failing cases.
fn html(report: &Value) -> String {
    let mut bars = String::new();
    let scores: Vec<(&String, f64)> = report["metrics"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| !LOWER_IS_BETTER.contains(&name.as_str()))
        .filter_map(|(name, v)| v.as_f64().map(|v| (name, v)))
        .collect();
    for (i, (name, value)) in scores.iter().enumerate() {
        let y = i * 24;
        let width = (value.clamp(0.0, 1.0) * 400.0) as usize;
        let _ = write!(
            bars,
            r##"<text x="0" y="{}">{}</text><rect x="190" y="{}" width="{width}" height="16" fill="#2456d6"/><text x="{}" y="{}">{:.3}</text>"##,
            y + 13,
            escape(name),
            y,
            196 + width,
            y + 13,
            value
        );
    }
    let mut matrices = String::new();
    for (name, matrix) in report["confusion"].as_object().into_iter().flatten() {
        let rows = matrix.as_object().cloned().unwrap_or_default();
        let mut columns: Vec<String> = rows
            .values()
            .flat_map(|r| r.as_object().into_iter().flatten().map(|(k, _)| k.clone()))
            .chain(rows.keys().cloned())
            .collect();
        columns.sort();
        columns.dedup();
        let max = rows
            .values()
            .flat_map(|r| {
                r.as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(_, v)| v.as_u64())
            })
            .max()
            .unwrap_or(1)
            .max(1);
        let _ = write!(
            matrices,
            "<h3>{}</h3><table class=m><tr><th>expected \\ got</th>",
            escape(name)
        );
        for column in &columns {
            let _ = write!(matrices, "<th>{}</th>", escape(column));
        }
        matrices.push_str("</tr>");
        for (expected, row) in &rows {
            let _ = write!(matrices, "<tr><th>{}</th>", escape(expected));
            for column in &columns {
                let n = row.get(column).and_then(Value::as_u64).unwrap_or(0);
                let alpha = n as f64 / max as f64;
                let color = if column == expected {
                    "36,86,214"
                } else {
                    "192,38,45"
                };
                let _ = write!(
                    matrices,
                    r#"<td style="background:rgba({color},{alpha:.2})">{}</td>"#,
                    if n > 0 { n.to_string() } else { String::new() }
                );
            }
            matrices.push_str("</tr>");
        }
        matrices.push_str("</table>");
    }
    let mut failures = String::new();
    for case in report["per_case"].as_array().into_iter().flatten() {
        if case["pass"] == false {
            let list: Vec<String> = case["failures"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| format!("<li>{}</li>", escape(f.as_str().unwrap_or(""))))
                .collect();
            let _ = write!(
                failures,
                "<tr><td>{}</td><td><ul>{}</ul></td></tr>",
                escape(case["id"].as_str().unwrap_or("")),
                list.concat()
            );
        }
    }
    format!(
        r#"<!doctype html><html><head><meta charset="utf-8"><title>Deskhand evaluation: {dataset}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;color:#1d2330}}table.m td,table.m th{{border:1px solid #e2e5ea;padding:.3rem .5rem;font-size:.85rem;text-align:center}}
svg text{{font-size:12px;fill:#374151}}pre{{background:#f5f6f8;padding:1rem;white-space:pre-wrap}}td ul{{margin:0}}</style></head><body>
<h1>Evaluation: {dataset}</h1><pre>{summary}</pre>
<h2>Per-step scores</h2><svg width="680" height="{height}">{bars}</svg>
<h2>Confusion</h2>{matrices}
<h2>Failing cases</h2><table>{failures}</table></body></html>"#,
        dataset = escape(report["dataset"].as_str().unwrap_or("?")),
        summary = escape(&summary_table(report)),
        height = scores.len() * 24 + 10,
    )
}

/// What changed between two reports: metrics, then cases that flipped. Returns the text
/// and the metrics that got worse.
pub fn compare(old: &Value, new: &Value) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut worse = Vec::new();
    let _ = writeln!(
        out,
        "{:<24} {:>10} {:>10} {:>10}",
        "metric", "old", "new", "change"
    );
    for (name, new_value) in new["metrics"].as_object().into_iter().flatten() {
        let old_value = &old["metrics"][name];
        let verdict = match (old_value.as_f64(), new_value.as_f64()) {
            (Some(a), Some(b)) if (a - b).abs() < 1e-9 => String::new(),
            (Some(a), Some(b)) => {
                let better = if LOWER_IS_BETTER.contains(&name.as_str()) {
                    b < a
                } else {
                    b > a
                };
                if !better {
                    worse.push(name.clone());
                }
                format!("{:+.3} {}", b - a, if better { "better" } else { "WORSE" })
            }
            (None, None) => String::new(),
            _ => "changed".into(),
        };
        let _ = writeln!(
            out,
            "{name:<24} {:>10} {:>10} {verdict}",
            fmt_metric(old_value),
            fmt_metric(new_value)
        );
    }
    let by_id = |report: &Value| -> std::collections::BTreeMap<String, Value> {
        report["per_case"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| Some((c["id"].as_str()?.to_owned(), c.clone())))
            .collect()
    };
    let (old_cases, new_cases) = (by_id(old), by_id(new));
    for (id, case) in &new_cases {
        match old_cases.get(id) {
            Some(before) if before["pass"] == true && case["pass"] == false => {
                let _ = writeln!(out, "now FAILS  {id}: {}", case["failures"]);
            }
            Some(before) if before["pass"] == false && case["pass"] == true => {
                let _ = writeln!(out, "now passes {id}");
            }
            None => {
                let _ = writeln!(
                    out,
                    "new case   {id}: {}",
                    if case["pass"] == true { "pass" } else { "FAIL" }
                );
            }
            _ => {}
        }
    }
    for id in old_cases.keys().filter(|id| !new_cases.contains_key(*id)) {
        let _ = writeln!(out, "removed    {id}");
    }
    (out, worse)
}

/// Metrics of `report` below (or, for costs, above) the committed `baseline`'s values.
pub fn below_baseline(report: &Value, baseline: &Value) -> Vec<String> {
    let mut failed = Vec::new();
    for (name, floor) in baseline["metrics"].as_object().into_iter().flatten() {
        let Some(floor) = floor.as_f64() else {
            continue;
        };
        let value = report["metrics"][name].as_f64();
        let ok = match value {
            None => false,
            Some(v) if LOWER_IS_BETTER.contains(&name.as_str()) => v <= floor + 1e-9,
            Some(v) => v >= floor - 1e-9,
        };
        if !ok {
            failed.push(format!(
                "{name}: {} against the baseline {floor}",
                fmt_metric(&report["metrics"][name])
            ));
        }
    }
    failed
}
