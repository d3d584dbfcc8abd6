//! Birthday parsing: Kakao's `/v2/user/me` fields to a checked date.

use std::hint::black_box;

use criterion::Criterion;
use kakao_desk_core::birthday::Birthday;

/// `Birthday::from_kakao` on the fields of a user whose year is known and
/// whose birthday is a leap day: the shape that runs every check (digits,
/// year range, calendar, days in February of that year).
pub fn from_kakao(c: &mut Criterion) {
    let parsed = Birthday::from_kakao("0229", Some("2000"), Some("SOLAR"), Some(false))
        .unwrap_or_else(|e| panic!("29 February 2000 exists: {e}"));
    assert_eq!(parsed.to_iso(), "2000-02-29", "the date as parsed");

    let mut group = c.benchmark_group("birthday");
    group.bench_function("from_kakao", |b| {
        b.iter(|| {
            Birthday::from_kakao(
                black_box("0229"),
                black_box(Some("2000")),
                black_box(Some("SOLAR")),
                black_box(Some(false)),
            )
        });
    });
    group.finish();
}
