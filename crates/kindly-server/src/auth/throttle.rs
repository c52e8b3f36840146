//! Slows password guessing on the sign-in form: after [`MAX_FAILURES`] failed sign-ins for one
//! email within [`WINDOW`], that email is refused (even with the right password) until the
//! window that began with its first failure is over. A success clears the count. Unknown emails
//! are counted like known ones, so the refusal tells nobody which emails exist.
//!
//! The count is per email, not per client address: behind a reverse proxy every client has the
//! proxy's address, and one guesser would lock the whole team out. It lives in memory (a restart
//! forgets it), which fits the one-binary deployment.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed sign-ins for one email that are tolerated within [`WINDOW`].
pub const MAX_FAILURES: u32 = 5;
/// How long failures are remembered, counted from the first.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Emails remembered at most; beyond it, expired entries are swept first.
const MAX_EMAILS: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

#[derive(Debug, Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, Failures>>,
}

fn key(email: &str) -> String {
    email.trim().to_lowercase()
}

impl SignInThrottle {
    /// `Err(wait)` while this email may not try again, with how long until it may.
    pub fn check(&self, email: &str, now: Instant) -> Result<(), Duration> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        match failures.get(&key(email)) {
            Some(f) if f.count >= MAX_FAILURES && now < f.since + WINDOW => Err(f.since + WINDOW - now),
            _ => Ok(()),
        }
    }

    /// Counts a failed sign-in.
    pub fn failed(&self, email: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= MAX_EMAILS {
            failures.retain(|_, f| now < f.since + WINDOW);
        }
        let key = key(email);
        if failures.len() >= MAX_EMAILS && !failures.contains_key(&key) {
            return;
        }
        let f = failures.entry(key).or_insert(Failures { count: 0, since: now });
        if now >= f.since + WINDOW {
            *f = Failures { count: 0, since: now };
        }
        f.count += 1;
    }

    /// Forgets an email's failures after it signed in.
    pub fn succeeded(&self, email: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(&key(email));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_refused_after_five_failures_until_its_window_ends() {
        let throttle = SignInThrottle::default();
        let start = Instant::now();
        for i in 0..MAX_FAILURES {
            assert!(throttle.check("ana@example.com", start).is_ok(), "attempt {i}");
            throttle.failed("ana@example.com", start + Duration::from_secs(u64::from(i) * 60));
        }
        let later = start + Duration::from_secs(5 * 60);
        assert_eq!(throttle.check("Ana@Example.com ", later), Err(Duration::from_secs(10 * 60)));
        assert!(throttle.check("bo@example.com", later).is_ok(), "other emails are not affected");
        assert!(throttle.check("ana@example.com", start + WINDOW).is_ok(), "the window is over");
        // a new failure after the window starts a new count
        throttle.failed("ana@example.com", start + WINDOW);
        assert!(throttle.check("ana@example.com", start + WINDOW).is_ok());
    }

    #[test]
    fn a_success_clears_the_count() {
        let throttle = SignInThrottle::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            throttle.failed("ana@example.com", now);
        }
        throttle.succeeded("ana@example.com");
        throttle.failed("ana@example.com", now);
        assert!(throttle.check("ana@example.com", now).is_ok());
    }
}
