//! The token-bucket rule of the rate limits on anonymous writes. A bucket holds up to `burst`
//! tokens and gains `per_hour` tokens an hour (continuously); each write takes one. Time is
//! passed in (seconds on any monotonic clock), so the rule is tested without waiting.

/// How many writes a key may make at once, and how fast the allowance comes back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub burst: u32,
    pub per_hour: u32,
}

impl Rate {
    /// Seconds for one token to come back (infinite when the rate is zero).
    fn seconds_per_token(&self) -> f64 {
        if self.per_hour == 0 {
            f64::INFINITY
        } else {
            3600.0 / f64::from(self.per_hour)
        }
    }
}

/// A bucket: its tokens at the moment `at` (seconds).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bucket {
    tokens: f64,
    at: f64,
}

/// Refused: the whole seconds until a token is back (at least 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

impl Bucket {
    /// A full bucket.
    pub fn full(rate: Rate, now: f64) -> Self {
        Bucket {
            tokens: f64::from(rate.burst),
            at: now,
        }
    }

    fn refill(&mut self, rate: Rate, now: f64) {
        let elapsed = (now - self.at).max(0.0);
        let gained = if rate.per_hour == 0 {
            0.0
        } else {
            elapsed / rate.seconds_per_token()
        };
        self.tokens = (self.tokens + gained).min(f64::from(rate.burst));
        self.at = self.at.max(now);
    }

    /// Takes a token, or says how long until there is one.
    pub fn take(&mut self, rate: Rate, now: f64) -> Result<(), RetryAfter> {
        self.refill(rate, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let wait = (1.0 - self.tokens) * rate.seconds_per_token();
        let secs = if wait.is_finite() {
            // Rounded up to whole seconds, ignoring float noise (40.000000001 is 40).
            ((wait - 1e-6).ceil() as u64).max(1)
        } else {
            // A rate of zero never refills: ask to come back in a day.
            86_400
        };
        Err(RetryAfter(secs))
    }

    /// Whether the bucket would be full at `now`: it then says nothing a new bucket would not,
    /// and can be forgotten.
    pub fn is_full(&self, rate: Rate, now: f64) -> bool {
        let mut b = *self;
        b.refill(rate, now);
        b.tokens >= f64::from(rate.burst)
    }

    /// When the bucket was last used.
    pub fn last_used(&self) -> f64 {
        self.at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: Rate = Rate {
        burst: 3,
        per_hour: 60,
    };

    #[test]
    fn a_burst_passes_then_the_next_write_waits_for_a_token() {
        let mut b = Bucket::full(RATE, 0.0);
        for _ in 0..3 {
            assert_eq!(b.take(RATE, 0.0), Ok(()));
        }
        // 60 an hour: one token a minute.
        assert_eq!(b.take(RATE, 0.0), Err(RetryAfter(60)));
        assert_eq!(b.take(RATE, 20.0), Err(RetryAfter(40)));
        assert_eq!(b.take(RATE, 59.5), Err(RetryAfter(1)));
        assert_eq!(b.take(RATE, 60.0), Ok(()));
        assert_eq!(b.take(RATE, 60.0), Err(RetryAfter(60)));
    }

    #[test]
    fn an_idle_bucket_fills_up_to_the_burst_and_no_further() {
        let mut b = Bucket::full(RATE, 0.0);
        for _ in 0..3 {
            b.take(RATE, 0.0).unwrap();
        }
        assert!(!b.is_full(RATE, 120.0));
        assert!(b.is_full(RATE, 180.0));
        // A day later: still only the burst.
        for _ in 0..3 {
            assert_eq!(b.take(RATE, 86_400.0), Ok(()));
        }
        assert!(b.take(RATE, 86_400.0).is_err());
        assert_eq!(b.last_used(), 86_400.0);
    }

    #[test]
    fn a_clock_that_goes_back_gives_no_tokens() {
        let mut b = Bucket::full(RATE, 100.0);
        for _ in 0..3 {
            b.take(RATE, 100.0).unwrap();
        }
        assert_eq!(b.take(RATE, 50.0), Err(RetryAfter(60)));
    }

    #[test]
    fn a_rate_of_zero_allows_the_burst_only() {
        let rate = Rate {
            burst: 1,
            per_hour: 0,
        };
        let mut b = Bucket::full(rate, 0.0);
        assert!(b.take(rate, 0.0).is_ok());
        assert_eq!(b.take(rate, 1e6), Err(RetryAfter(86_400)));
        let none = Rate {
            burst: 0,
            per_hour: 3600,
        };
        assert_eq!(Bucket::full(none, 0.0).take(none, 0.0), Err(RetryAfter(1)));
    }
}
