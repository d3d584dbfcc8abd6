//! Per-client rate limits on the auth routes, and who the client is.
//!
//! A token bucket per client address: `burst` requests at once, refilled at
//! `per_minute`. In memory, per instance (behind a load balancer each
//! instance limits on its own; the reverse proxy can add a global limit).
//! The table forgets full buckets once it grows past [`MAX_TRACKED`], so a
//! flood of addresses cannot grow it without bound.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::http::HeaderMap;

/// Addresses tracked before full buckets are forgotten.
pub const MAX_TRACKED: usize = 10_000;

/// The limiter.
#[derive(Debug)]
pub struct RateLimiter {
    burst: f64,
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_minute` requests a minute after a `burst`; `None` when
    /// `per_minute` is 0 (no limit).
    pub fn new(per_minute: u32, burst: u32) -> Option<Self> {
        (per_minute > 0).then(|| Self {
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_minute) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one request for `client` at `now`: `Err(seconds to wait)` when
    /// the bucket is empty.
    ///
    /// # Errors
    /// The whole seconds until a request is allowed again.
    pub fn check(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        let client = bucket_key(client);
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&client) {
            let (burst, rate) = (self.burst, self.per_second);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.saturating_duration_since(*at).as_secs_f64() * rate < burst
            });
            // Still full: more addresses than the table holds are active
            // right now (a flood). A new one waits rather than growing the
            // table; the ones already tracked keep their buckets.
            if buckets.len() >= MAX_TRACKED {
                return Err(1);
            }
        }
        let (tokens, at) = buckets.entry(client).or_insert((self.burst, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * self.per_second)
            .min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - *tokens) / self.per_second).ceil();
            // Finite and small: at most 1 / per_second seconds.
            Err((wait as u64).max(1))
        }
    }
}

/// The bucket of an address: itself for IPv4, its /64 for IPv6 (one
/// subscriber's allocation, which it can fill with addresses at will).
fn bucket_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(std::net::Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// The client's address: the peer, or, when the peer is a trusted reverse
/// proxy, the right-most X-Forwarded-For entry that is not one (the last
/// hop a trusted proxy saw; entries further left are the client's own
/// claims and can be forged).
pub fn client_address(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let peer = peer.ip().to_canonical();
    if !trusted.contains(&peer) {
        return peer;
    }
    let mut hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    hops.reverse();
    for hop in hops {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip.to_canonical()) => {}
            Ok(ip) => return ip.to_canonical(),
            // Garbage from a proxy we trust: the proxy is the best answer.
            Err(_) => return peer,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_its_pace() {
        let limiter = RateLimiter::new(60, 3).expect("on");
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        let other: IpAddr = "192.0.2.2".parse().expect("ip");
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check(ip, start), Ok(()));
        }
        assert_eq!(
            limiter.check(ip, start),
            Err(1),
            "the fourth waits a second"
        );
        assert_eq!(limiter.check(other, start), Ok(()), "per client");
        assert_eq!(limiter.check(ip, start + Duration::from_secs(1)), Ok(()));
        assert!(limiter.check(ip, start + Duration::from_secs(1)).is_err());
        assert!(RateLimiter::new(0, 3).is_none(), "0 turns it off");
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("ip");
        for _ in 0..3 {
            assert_eq!(limiter.check(a, start), Ok(()));
        }
        assert!(
            limiter.check(b, start).is_err(),
            "another address of the same /64 shares the bucket"
        );
    }

    #[test]
    fn the_table_stays_bounded() {
        let limiter = RateLimiter::new(60, 2).expect("on");
        let start = Instant::now();
        for i in 0..(MAX_TRACKED as u32 + 100) {
            let ip = IpAddr::from(i.to_be_bytes());
            let _ = limiter.check(ip, start);
        }
        assert!(limiter.buckets.lock().expect("lock").len() <= MAX_TRACKED);
        // Every tracked bucket is still draining: a new address waits.
        let newcomer: IpAddr = "198.51.100.1".parse().expect("ip");
        assert!(limiter.check(newcomer, start).is_err());
        // Later the full buckets are forgotten and it gets in.
        let later = start + Duration::from_secs(5);
        assert_eq!(limiter.check(newcomer, later), Ok(()));
        assert!(limiter.buckets.lock().expect("lock").len() <= MAX_TRACKED);
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxy: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let stranger: SocketAddr = "203.0.113.9:5000".parse().expect("addr");
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("10.9.9.9, 198.51.100.7"),
        );
        let trusted = ["127.0.0.1".parse().expect("ip")];
        assert_eq!(
            client_address(proxy, &headers, &trusted),
            "198.51.100.7".parse::<IpAddr>().expect("ip"),
            "the hop the proxy saw, not what the client wrote before it"
        );
        assert_eq!(
            client_address(stranger, &headers, &trusted),
            "203.0.113.9".parse::<IpAddr>().expect("ip"),
            "anyone else's header is ignored"
        );
        assert_eq!(
            client_address(proxy, &HeaderMap::new(), &trusted),
            "127.0.0.1".parse::<IpAddr>().expect("ip")
        );
    }
}
