//! Open-loop submission load: `POST /api/v1/reports` at a fixed rate, whatever the responses.
//!
//! Request `i` is due at `start + i / rate` (or at the i-th arrival of a Poisson process of that
//! rate, as `pgbench --rate` schedules). A fixed number of connections take the due requests in
//! order; when every connection is busy the next request goes out late, and its latency still
//! counts from when it was due. A closed loop (wrk) would instead wait and send fewer requests
//! while the server is slow, hiding exactly the queueing a rate target is about (coordinated
//! omission). The bodies are those of bench/wrk/submit.lua: the points file's point and category,
//! one of its four descriptions.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::stats::percentile;

const DESCRIPTIONS: [&str; 4] = [
    "Zgłoszenie testowe z obciążenia",
    "Problem widoczny od rana, proszę o sprawdzenie",
    "Dotyczy odcinka przy skrzyżowaniu",
    "Load test report",
];

pub struct LoadOptions {
    /// Base URL of the service, e.g. `http://127.0.0.1:8787`.
    pub url: String,
    pub path: String,
    pub rate: f64,
    pub duration: Duration,
    pub connections: usize,
    pub poisson: bool,
    pub seed: u64,
    /// Requests not answered within this time count as errors (their latency as the timeout).
    pub timeout: Duration,
}

/// `(lon, lat, category)` rows of a `zglos-bench points` file.
pub fn read_points(path: &std::path::Path) -> Result<Vec<(String, String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let points: Vec<_> = text
        .lines()
        .filter_map(|l| {
            let mut cols = l.split('\t');
            Some((
                cols.next()?.to_owned(),
                cols.next()?.to_owned(),
                cols.next()?.trim().to_owned(),
            ))
        })
        .collect();
    if points.is_empty() {
        return Err(format!("no points in {}", path.display()));
    }
    Ok(points)
}

fn body(points: &[(String, String, String)], i: usize) -> String {
    let (lon, lat, category) = &points[i % points.len()];
    let description = DESCRIPTIONS[i % DESCRIPTIONS.len()];
    format!(
        r#"{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{lon},{lat}]}},"properties":{{"category":"{category}","description":"{description}"}}}}"#
    )
}

/// When each request is due, as offsets from the start.
fn schedule(opts: &LoadOptions) -> Vec<Duration> {
    let n = (opts.rate * opts.duration.as_secs_f64()).round() as usize;
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let mut t = 0.0f64;
    (0..n)
        .map(|i| {
            if opts.poisson {
                // Exponential gaps: -ln(U) / rate, U in (0, 1].
                t += -(1.0 - rng.gen::<f64>()).ln() / opts.rate;
            } else {
                t = i as f64 / opts.rate;
            }
            Duration::from_secs_f64(t)
        })
        .collect()
}

struct Outcome {
    latency_ms: f64,
    ok: bool,
    /// Transport error or timeout, rather than an HTTP status of 400 or more.
    failed: bool,
    /// How late the request went out, in milliseconds (waiting for a free connection).
    lag_ms: f64,
}

async fn worker(
    client: reqwest::Client,
    url: Arc<String>,
    points: Arc<Vec<(String, String, String)>>,
    due: Arc<Vec<Duration>>,
    next: Arc<AtomicUsize>,
    start: tokio::time::Instant,
    offset: usize,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(&at) = due.get(i) else { break };
        let scheduled = start + at;
        tokio::time::sleep_until(scheduled).await;
        let sent = tokio::time::Instant::now();
        let result = client
            .post(url.as_str())
            .header("content-type", "application/json")
            .body(body(&points, offset + i))
            .send()
            .await;
        let (ok, failed) = match result {
            Ok(r) => {
                let ok = r.status().as_u16() < 400;
                // Read the whole answer: the request is done when the body is.
                let read = r.bytes().await.is_ok();
                (ok && read, !read)
            }
            Err(_) => (false, true),
        };
        let done = tokio::time::Instant::now();
        out.push(Outcome {
            latency_ms: (done - scheduled).as_secs_f64() * 1e3,
            ok,
            failed,
            lag_ms: (sent - scheduled).as_secs_f64() * 1e3,
        });
    }
    out
}

/// Runs the load and returns the figures as JSON (the fields of bench/wrk's RESULT lines plus
/// `target_rps`, `lag_p99_ms` and `late`: requests sent more than 1 ms after they were due).
pub fn run(opts: &LoadOptions, points: Vec<(String, String, String)>) -> Result<Value, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let due = Arc::new(schedule(opts));
        let url = Arc::new(format!("{}{}", opts.url.trim_end_matches('/'), opts.path));
        // Start where wrk's first thread does not, so the two loads do not post the same sequence.
        let offset = (points.len() as f64 * 0.381_966) as usize;
        let points = Arc::new(points);
        let next = Arc::new(AtomicUsize::new(0));
        // Connections are opened before the clock starts, so the first requests do not pay for it.
        let mut clients = Vec::with_capacity(opts.connections);
        for _ in 0..opts.connections {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .timeout(opts.timeout)
                .build()
                .map_err(|e| e.to_string())?;
            let _ = client
                .get(format!("{}/healthz", opts.url.trim_end_matches('/')))
                .send()
                .await;
            clients.push(client);
        }
        let start = tokio::time::Instant::now();
        let wall = Instant::now();
        let tasks: Vec<_> = clients
            .into_iter()
            .map(|c| {
                tokio::spawn(worker(
                    c,
                    url.clone(),
                    points.clone(),
                    due.clone(),
                    next.clone(),
                    start,
                    offset,
                ))
            })
            .collect();
        let mut outcomes = Vec::with_capacity(due.len());
        for t in tasks {
            outcomes.extend(t.await.map_err(|e| e.to_string())?);
        }
        let elapsed = wall.elapsed().as_secs_f64();
        Ok(summary(opts, &outcomes, elapsed))
    })
}

fn summary(opts: &LoadOptions, outcomes: &[Outcome], elapsed: f64) -> Value {
    let mut lat: Vec<f64> = outcomes.iter().map(|o| o.latency_ms).collect();
    lat.sort_by(f64::total_cmp);
    let mut lag: Vec<f64> = outcomes.iter().map(|o| o.lag_ms).collect();
    lag.sort_by(f64::total_cmp);
    let failed = outcomes.iter().filter(|o| o.failed).count();
    let non2xx = outcomes.iter().filter(|o| !o.ok && !o.failed).count();
    let mean = lat.iter().sum::<f64>() / lat.len().max(1) as f64;
    json!({
        "requests": outcomes.len(),
        "duration_s": elapsed,
        "target_rps": opts.rate,
        "rps": outcomes.len() as f64 / elapsed.max(1e-9),
        "connections": opts.connections,
        "arrivals": if opts.poisson { "poisson" } else { "fixed" },
        "p50_ms": percentile(&lat, 50.0),
        "p90_ms": percentile(&lat, 90.0),
        "p99_ms": percentile(&lat, 99.0),
        "max_ms": lat.last().copied().unwrap_or(f64::NAN),
        "mean_ms": mean,
        "lag_p99_ms": percentile(&lag, 99.0),
        "late": lag.iter().filter(|l| **l > 1.0).count(),
        "non2xx": non2xx,
        "errors": failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(poisson: bool) -> LoadOptions {
        LoadOptions {
            url: String::new(),
            path: String::new(),
            rate: 500.0,
            duration: Duration::from_secs(10),
            connections: 8,
            poisson,
            seed: 1,
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn schedules_hold_the_rate() {
        let fixed = schedule(&opts(false));
        assert_eq!(fixed.len(), 5000);
        assert_eq!(fixed[1], Duration::from_millis(2));
        let poisson = schedule(&opts(true));
        assert_eq!(poisson.len(), 5000);
        let span = poisson.last().unwrap().as_secs_f64();
        assert!(
            (9.0..11.0).contains(&span),
            "5000 arrivals at 500/s span about 10 s, not {span}"
        );
        assert!(poisson.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn bodies_are_those_of_the_wrk_script() {
        let points = vec![(
            "19.9373".to_owned(),
            "50.0617".to_owned(),
            "pothole".to_owned(),
        )];
        let b: Value = serde_json::from_str(&body(&points, 3)).unwrap();
        assert_eq!(b["geometry"]["coordinates"][0], 19.9373);
        assert_eq!(b["properties"]["category"], "pothole");
        assert_eq!(b["properties"]["description"], "Load test report");
    }
}
