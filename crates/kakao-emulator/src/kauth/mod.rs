//! `kauth.kakao.com`: OAuth 2.0 and OpenID Connect.

pub(crate) mod authorize;
pub(crate) mod logout;
pub(crate) mod oidc;
pub(crate) mod token;
pub(crate) mod tokeninfo;
