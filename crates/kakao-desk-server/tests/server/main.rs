//! The server against the Kakao emulator, on SQLite and on PostgreSQL
//! (`rig::both!`): sign-up and sign-in, the service's tokens, the session's
//! Kakao calls, every failure the app can meet, and the app's login core
//! in backend mode against it.

mod rig;

mod app;
mod binary;
mod failures;
mod http;
mod login;
mod refresh;
mod session;
