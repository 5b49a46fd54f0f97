//! Latency figures from pgbench's per-transaction logs, and the side-by-side table.
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::PathBuf;

use serde_json::{json, Value};

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Reads pgbench `--log` files (`client tx latency_us script epoch_s epoch_us [lag]`) and returns
/// count, rate over the logged span and latency percentiles in milliseconds.
pub fn pgbench_logs(files: &[PathBuf]) -> Result<Value, String> {
    let mut lat = Vec::new();
    let (mut t_min, mut t_max) = (f64::INFINITY, f64::NEG_INFINITY);
    let mut failed = 0u64;
    for f in files {
        let file = std::fs::File::open(f).map_err(|e| format!("{}: {e}", f.display()))?;
        for line in std::io::BufReader::new(file).lines() {
            let line = line.map_err(|e| e.to_string())?;
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 6 {
                continue;
            }
            let us: f64 = match cols[2].parse() {
                Ok(v) => v,
                Err(_) => {
                    failed += 1; // "failed" / "skipped" in newer pgbench logs
                    continue;
                }
            };
            let end =
                cols[4].parse::<f64>().unwrap_or(0.0) + cols[5].parse::<f64>().unwrap_or(0.0) / 1e6;
            t_min = t_min.min(end - us / 1e6);
            t_max = t_max.max(end);
            lat.push(us / 1000.0);
        }
    }
    lat.sort_by(|a, b| a.total_cmp(b));
    let span = (t_max - t_min).max(1e-9);
    Ok(json!({
        "requests": lat.len(),
        "errors": failed,
        "rps": lat.len() as f64 / span,
        "p50_ms": percentile(&lat, 50.0),
        "p90_ms": percentile(&lat, 90.0),
        "p99_ms": percentile(&lat, 99.0),
        "max_ms": lat.last().copied().unwrap_or(f64::NAN),
        "span_s": span,
    }))
}

fn f(v: &Value, k: &str) -> f64 {
    v.get(k).and_then(|x| x.as_f64()).unwrap_or(f64::NAN)
}

fn fmt_ms(x: f64) -> String {
    if x.is_nan() {
        "–".into()
    } else if x < 10.0 {
        format!("{x:.2}")
    } else if x < 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

fn fmt_rate(x: f64) -> String {
    if x < 10.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.0}")
    }
}

/// Renders results.jsonl (one object per measurement: scenario, server, rps, p50_ms, p99_ms, ...)
/// as a Markdown table. Without `peer`, every other server of a scenario is compared with its
/// first one; with `peer`, every row with that server's row (this req/s ÷ peer's, peer's p99 ÷
/// this p99: above 1 means faster than the peer). With `goal_p99_ms` a column says whether each
/// row's p99 is within the goal.
pub fn report_with(
    path: &PathBuf,
    peer: Option<&str>,
    goal_p99_ms: Option<f64>,
) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut by_scenario: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut order = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).map_err(|e| format!("{line}: {e}"))?;
        let s = v["scenario"].as_str().unwrap_or("?").to_string();
        if !by_scenario.contains_key(&s) {
            order.push(s.clone());
        }
        by_scenario.entry(s).or_default().push(v);
    }
    let mut out = String::new();
    let goal_col = goal_p99_ms
        .map(|g| format!(" p99 ≤ {g} ms |"))
        .unwrap_or_default();
    let goal_sep = if goal_p99_ms.is_some() { "---|" } else { "" };
    match peer {
        Some(p) => out.push_str(&format!(
            "| scenario | server | requests | req/s | p50 ms | p99 ms | errors | req/s ÷ {p} | {p} p99 ÷ this p99 |{goal_col}\n"
        )),
        None => out.push_str(&format!(
            "| scenario | server | requests | req/s | p50 ms | p99 ms | errors | first ÷ this, req/s | this ÷ first, p99 |{goal_col}\n"
        )),
    }
    out.push_str(&format!(
        "|---|---|---:|---:|---:|---:|---:|---:|---:|{goal_sep}\n"
    ));
    for s in order {
        let rows = &by_scenario[&s];
        let first = &rows[0];
        let reference = peer.and_then(|p| rows.iter().find(|r| r["server"].as_str() == Some(p)));
        for (i, r) in rows.iter().enumerate() {
            let (ratio, p99r) = if let Some(pr) = reference {
                if std::ptr::eq(pr, r) {
                    ("".into(), "".into())
                } else {
                    (
                        format!("**{:.1}×**", f(r, "rps") / f(pr, "rps")),
                        format!("{:.1}×", f(pr, "p99_ms") / f(r, "p99_ms")),
                    )
                }
            } else if peer.is_some() {
                ("–".into(), "–".into())
            } else if i == 0 {
                ("".into(), "".into())
            } else {
                (
                    format!("**{:.1}×**", f(first, "rps") / f(r, "rps")),
                    format!("{:.1}×", f(r, "p99_ms") / f(first, "p99_ms")),
                )
            };
            let errors = r.get("errors").and_then(|x| x.as_u64()).unwrap_or(0)
                + r.get("non2xx").and_then(|x| x.as_u64()).unwrap_or(0)
                + r.get("timeouts").and_then(|x| x.as_u64()).unwrap_or(0);
            let goal = match goal_p99_ms {
                Some(g) if f(r, "p99_ms") <= g => " yes |".to_string(),
                Some(_) => " **no** |".to_string(),
                None => String::new(),
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |{}\n",
                s,
                r["server"].as_str().unwrap_or("?"),
                r.get("requests").and_then(|x| x.as_u64()).unwrap_or(0),
                fmt_rate(f(r, "rps")),
                fmt_ms(f(r, "p50_ms")),
                fmt_ms(f(r, "p99_ms")),
                errors,
                ratio,
                p99r,
                goal
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(|x| x as f64).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[3.0], 99.0), 3.0);
    }
}
