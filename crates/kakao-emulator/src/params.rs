//! Query strings and form bodies as ordered pairs (duplicates kept, so the
//! first value wins as Kakao's servlet stack does with `getParameter`).

use axum::body::Bytes;

/// Decoded `name=value` pairs.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(raw: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub(crate) fn from_query(query: Option<&str>) -> Self {
        Self::parse(query.unwrap_or("").as_bytes())
    }

    pub(crate) fn from_body(body: &Bytes) -> Self {
        Self::parse(body)
    }

    /// The first value of `name`; an empty value counts as absent.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// Merges another set after this one (query first, then body).
    pub(crate) fn extend(&mut self, other: Self) {
        self.0.extend(other.0);
    }
}

/// Splits a `scope` or `prompt` value. Sources disagree on the separator
/// (docs: comma; Flutter and iOS SDKs: space), so accept comma, space and
/// `+`, and trim (`docs/kakao-api.md` §1.1).
pub(crate) fn split_list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or("")
        .split([',', ' ', '+'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_accept_every_separator_seen_in_the_wild() {
        assert_eq!(
            split_list(Some("openid,profile_nickname account_email+birthday ")),
            ["openid", "profile_nickname", "account_email", "birthday"],
            "docs use commas, SDKs spaces (with a trailing one); all must parse"
        );
    }
}
