//! Rate limits on anonymous writes: a token bucket (`domain::limits`) per client address and per
//! contact e-mail address or phone number, kept in this process's memory. Staff (a live session
//! or an API key in `Authorization: Bearer`) are not limited. Over the limit: 429 with
//! `Retry-After`.
//!
//! The buckets are per process: N instances behind a balancer allow N times the rate. That keeps
//! the check off the database (a write refused here costs no query) and needs no shared store;
//! the limits are meant to stop scripts, which overrun any per-process allowance just the same.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde_json::json;

use super::extract::{caller, ClientIp};
use super::AppState;
use crate::config::EdgeArgs;
use crate::domain::limits::{Bucket, Rate, RetryAfter};
use crate::http::error::{ApiError, ApiResult};

/// Buckets by key, at most `max` of them: when full, the buckets that have refilled (idle) are
/// dropped, then the least recently used half.
struct Keyed {
    rate: Rate,
    max: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Keyed {
    fn new(rate: Rate, max: usize) -> Self {
        Keyed {
            rate,
            max: max.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn take(&self, key: &str, now: f64) -> Result<(), RetryAfter> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if !buckets.contains_key(key) && buckets.len() >= self.max {
            let rate = self.rate;
            buckets.retain(|_, b| !b.is_full(rate, now));
            if buckets.len() >= self.max {
                let mut used: Vec<f64> = buckets.values().map(Bucket::last_used).collect();
                let mid = used.len() / 2;
                let (_, cutoff, _) = used.select_nth_unstable_by(mid, f64::total_cmp);
                let cutoff = *cutoff;
                buckets.retain(|_, b| b.last_used() > cutoff);
            }
        }
        buckets
            .entry(key.to_owned())
            .or_insert_with(|| Bucket::full(self.rate, now))
            .take(self.rate, now)
    }

    fn len(&self) -> usize {
        self.buckets.lock().map(|b| b.len()).unwrap_or(0)
    }
}

/// The process's buckets for anonymous writes.
pub struct Limits {
    started: Instant,
    address: Keyed,
    contact: Keyed,
}

impl Limits {
    pub fn new(edge: &EdgeArgs) -> Self {
        Limits {
            started: Instant::now(),
            address: Keyed::new(
                Rate {
                    burst: edge.write_burst,
                    per_hour: edge.write_per_hour,
                },
                edge.limit_buckets,
            ),
            contact: Keyed::new(
                Rate {
                    burst: edge.contact_per_hour,
                    per_hour: edge.contact_per_hour,
                },
                edge.limit_buckets,
            ),
        }
    }

    fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Takes a token for an anonymous write from this client address.
    pub fn check_address(&self, ip: &str) -> ApiResult<()> {
        self.address
            .take(ip, self.now())
            .map_err(|r| limited("address", r, "from this address"))
    }

    /// Takes a token for each contact a body names (an e-mail address, a phone number).
    pub fn check_contact(&self, email: Option<&str>, phone: Option<&str>) -> ApiResult<()> {
        let now = self.now();
        if let Some(e) = email
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
        {
            self.contact
                .take(&format!("email:{e}"), now)
                .map_err(|r| limited("contact", r, "for this e-mail address"))?;
        }
        let digits = phone.map(|p| {
            p.chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect::<String>()
        });
        if let Some(p) = digits.filter(|p| !p.is_empty()) {
            self.contact
                .take(&format!("phone:{p}"), now)
                .map_err(|r| limited("contact", r, "for this phone number"))?;
        }
        Ok(())
    }

    /// Buckets held (addresses, contacts).
    pub fn sizes(&self) -> (usize, usize) {
        (self.address.len(), self.contact.len())
    }
}

fn limited(which: &'static str, RetryAfter(secs): RetryAfter, whom: &str) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many anonymous writes {whom} ({which} limit); try again in {secs} s"),
    )
    .with_detail(json!({"limit": which, "retry_after": secs}))
    .retry_after(secs)
}

/// An anonymous write that has passed the limit of its client address; `contact` checks the
/// contact its body names. Staff are not limited. Rejected with 429 (`rate_limited`).
pub struct WriteLimit {
    limits: Option<Arc<Limits>>,
}

impl WriteLimit {
    /// Takes a token for the contact (e-mail address, phone number) the body names.
    pub fn contact(&self, email: Option<&str>, phone: Option<&str>) -> ApiResult<()> {
        match &self.limits {
            Some(l) => l.check_contact(email, phone),
            None => Ok(()),
        }
    }
}

impl FromRequestParts<AppState> for WriteLimit {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let who = caller(&parts.headers, state).await?;
        if who.user.is_some() || who.api_key_role.is_some() {
            return Ok(WriteLimit { limits: None });
        }
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        state.limits.check_address(&ip)?;
        Ok(WriteLimit {
            limits: Some(state.limits.clone()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_keeps_at_most_its_size_and_drops_idle_buckets_first() {
        let rate = Rate {
            burst: 2,
            per_hour: 3600,
        };
        let keyed = Keyed::new(rate, 4);
        // "busy" is used up; the others are idle (full again a few seconds later).
        keyed.take("busy", 0.0).unwrap();
        keyed.take("busy", 0.0).unwrap();
        for k in ["a", "b", "c"] {
            keyed.take(k, 0.0).unwrap();
        }
        assert_eq!(keyed.len(), 4);
        keyed.take("busy", 0.5).unwrap_err();
        // At 1.5 s the idle ones are full again and dropped; busy is still owed a token.
        keyed.take("new", 1.5).unwrap();
        assert!(keyed.len() <= 4);
        assert!(keyed.buckets.lock().unwrap().contains_key("busy"));
        // With none idle, the least recently used half goes.
        for (i, k) in ["w", "x", "y", "z", "v"].iter().enumerate() {
            keyed.take(k, 2.0 + i as f64 * 0.01).unwrap();
            keyed.take(k, 2.0 + i as f64 * 0.01).unwrap();
        }
        assert!(keyed.len() <= 4, "{}", keyed.len());
    }

    #[test]
    fn over_the_limit_is_429_with_retry_after_and_the_limit_named() {
        let limits = Limits::new(&EdgeArgs {
            write_burst: 1,
            write_per_hour: 3600,
            contact_per_hour: 1,
            ..EdgeArgs::default()
        });
        limits.check_address("1.2.3.4").unwrap();
        let e = limits.check_address("1.2.3.4").unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (429, "rate_limited"));
        assert_eq!(e.retry_after, Some(1));
        assert!(e.message.contains("address"), "{}", e.message);
        limits.check_address("5.6.7.8").unwrap();
        limits.check_contact(Some("Ewa@Example.pl"), None).unwrap();
        let e = limits
            .check_contact(Some(" ewa@example.pl"), None)
            .unwrap_err();
        assert!(e.message.contains("e-mail"), "{}", e.message);
        assert_eq!(e.retry_after, Some(3600));
        limits.check_contact(None, Some("+48 600 100 200")).unwrap();
        assert!(limits.check_contact(None, Some("+48600100200")).is_err());
        assert_eq!(limits.sizes(), (2, 2));
    }
}
