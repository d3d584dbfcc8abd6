//! # kakao-emulator
//!
//! A local stand-in for Kakao's two login hosts, `kauth.kakao.com` (OAuth 2.0 and
//! OpenID Connect) and `kapi.kakao.com` (user APIs), served from one loopback port.
//!
//! Kakao's servers cannot be reached from the machines this project is built and
//! tested on, and people who want to try Kakao Desk have no Kakao app key. Every
//! test, benchmark and the app's demo mode therefore talk to this emulator. It is
//! only useful if it is faithful: a client that passes against it must work
//! against real Kakao, so it reproduces Kakao's response shapes, status codes,
//! error bodies and rules as recorded in the project's Kakao API reference.
#![warn(missing_docs)]
