//! The emulator's notion of "now", injectable so tests can expire codes and
//! tokens without waiting.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A shared, movable clock. Clones share the same time.
///
/// [`Clock::system`] follows the wall clock plus whatever was added with
/// [`advance`](Clock::advance); [`Clock::fixed`] stands still until moved, so a
/// test can assert exact `expires_in` values.
///
/// id_token `iat`/`exp` follow this clock too: a test that verifies id_tokens
/// with a validator reading the real time (jsonwebtoken's `exp` check) should
/// use `Clock::system()`, or give its validator the same notion of now.
#[derive(Clone, Debug)]
pub struct Clock {
    inner: Arc<Mutex<Source>>,
}

#[derive(Debug)]
enum Source {
    /// Wall clock shifted by `offset` (which only grows).
    System { offset: Duration },
    /// A frozen instant.
    Fixed { now: SystemTime },
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// The wall clock (movable forward with [`advance`](Clock::advance)).
    pub fn system() -> Self {
        Self::from_source(Source::System {
            offset: Duration::ZERO,
        })
    }

    /// A clock frozen at `now`; it moves only through `advance` and `set`.
    pub fn fixed(now: SystemTime) -> Self {
        Self::from_source(Source::Fixed { now })
    }

    fn from_source(source: Source) -> Self {
        Self {
            inner: Arc::new(Mutex::new(source)),
        }
    }

    /// The current emulated time.
    pub fn now(&self) -> SystemTime {
        match *self.lock() {
            Source::System { offset } => SystemTime::now() + offset,
            Source::Fixed { now } => now,
        }
    }

    /// Moves time forward by `by`.
    pub fn advance(&self, by: Duration) {
        match &mut *self.lock() {
            Source::System { offset } => *offset += by,
            Source::Fixed { now } => *now += by,
        }
    }

    /// Freezes the clock at `at` (it stays there until moved again).
    pub fn set(&self, at: SystemTime) {
        *self.lock() = Source::Fixed { now: at };
    }

    /// Milliseconds since the Unix epoch (0 before it).
    pub(crate) fn now_millis(&self) -> u64 {
        millis_since_epoch(self.now())
    }

    /// Whole seconds since the Unix epoch, as JWT `iat`/`exp` want them.
    pub(crate) fn now_secs(&self) -> u64 {
        self.now_millis() / 1000
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Source> {
        // The guarded value is plain data; a panic elsewhere cannot leave it
        // half-written, so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

pub(crate) fn millis_since_epoch(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let clock = Clock::fixed(start);
        assert_eq!(
            clock.now(),
            start,
            "a fixed clock must not drift on its own"
        );
        clock.clone().advance(Duration::from_secs(60));
        assert_eq!(
            clock.now_secs(),
            1_700_000_060,
            "clones share one time, so advancing a clone moves the original"
        );
    }

    #[test]
    fn system_clock_advance_adds_an_offset() {
        let clock = Clock::system();
        clock.advance(Duration::from_secs(3600));
        assert!(
            clock.now() >= SystemTime::now() + Duration::from_secs(3599),
            "an advanced system clock must run ahead of the wall clock by the offset"
        );
    }
}
