//! The server against the Kakao emulator, on SQLite and on PostgreSQL
//! (`rig::both!`): sign-up and sign-in, the service's tokens, the session's
//! Kakao calls, and every failure the app can meet.

mod rig;

mod binary;
mod failures;
mod http;
mod login;
mod refresh;
mod session;
