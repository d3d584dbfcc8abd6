//! Time, injected.
//!
//! Business logic never reads the system clock itself: deadlines, token expiry
//! and JWT lifetimes all ask a [`Clock`], so tests can move time instead of
//! sleeping.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now, on the wall clock: what expiries and deadlines are measured in.
    fn now(&self) -> SystemTime;

    /// Now, on a monotonic clock: what rate limits are measured in, so a
    /// wall clock set back cannot lift them.
    fn instant(&self) -> Instant {
        Instant::now()
    }

    /// Now, in whole seconds since the Unix epoch (the unit of JWT claims and
    /// of Kakao's `expires_in`).
    fn unix_now(&self) -> i64 {
        unix_seconds(self.now())
    }
}

/// Whole seconds since the Unix epoch; negative before it.
pub fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => -i64::try_from(before.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The time `seconds` after the Unix epoch (clamped at the epoch).
pub fn from_unix_seconds(seconds: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to: for tests and simulations. Its
/// monotonic time moves with its wall time from the instant it was made.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<(SystemTime, Instant)>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: SystemTime) -> Self {
        Self {
            now: Mutex::new((start, Instant::now())),
        }
    }

    /// A clock standing `seconds` after the Unix epoch.
    pub fn at_unix(seconds: i64) -> Self {
        Self::new(from_unix_seconds(seconds))
    }

    /// Moves the clock forward (wall and monotonic time alike).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        now.0 += by;
        now.1 += by;
    }

    /// Sets the wall clock (the monotonic time does not move: a wall clock
    /// can be set back, a monotonic one cannot).
    pub fn set(&self, to: SystemTime) {
        self.now.lock().unwrap_or_else(|e| e.into_inner()).0 = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        self.now.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    fn instant(&self) -> Instant {
        self.now.lock().unwrap_or_else(|e| e.into_inner()).1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::at_unix(1_000);
        assert_eq!(
            clock.unix_now(),
            1_000,
            "a manual clock starts where it was set"
        );
        clock.advance(Duration::from_secs(61));
        assert_eq!(
            clock.unix_now(),
            1_061,
            "advance moves it by exactly the duration"
        );
    }

    #[test]
    fn setting_the_wall_clock_back_does_not_move_monotonic_time() {
        let clock = ManualClock::at_unix(1_000);
        let start = clock.instant();
        clock.advance(Duration::from_secs(30));
        assert_eq!(
            clock.instant() - start,
            Duration::from_secs(30),
            "advance moves both"
        );
        clock.set(from_unix_seconds(0));
        assert_eq!(
            clock.instant() - start,
            Duration::from_secs(30),
            "a wall clock set back leaves the monotonic one where it was"
        );
    }

    #[test]
    fn unix_seconds_round_trip() {
        assert_eq!(
            unix_seconds(from_unix_seconds(1_697_146_022)),
            1_697_146_022,
            "JWT times survive"
        );
        assert_eq!(
            from_unix_seconds(-5),
            UNIX_EPOCH,
            "times before the epoch clamp to it"
        );
    }
}
