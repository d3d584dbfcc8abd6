//! The Kakao emulator's tests: the real server on a loopback socket (and the
//! router in-process), driven over HTTP as a Kakao client would. One test
//! binary, one shared [`rig`].

mod authorize;
mod cli;
mod consent;
mod faults;
mod flow;
mod kapi;
mod oidc_bridge;
mod rig;
mod token;
