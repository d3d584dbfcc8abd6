//! The login core's flow, end to end against the real Kakao emulator on a
//! loopback socket: one test binary, one shared [`rig`].

mod accounts;
mod consent;
mod doctor;
mod fixtures;
mod id_token;
mod kakao_errors;
mod login;
mod rig;
mod session;
