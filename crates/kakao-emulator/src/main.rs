//! `kakao-emulator`: run the local Kakao Login emulator on a loopback port.

fn main() {
    eprintln!("kakao-emulator: not built yet");
    std::process::exit(2);
}
