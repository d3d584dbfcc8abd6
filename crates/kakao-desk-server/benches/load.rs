//! The server's load test: concurrent first logins (sign-ups) and refresh
//! rotations against the server and the Kakao emulator, on loopback, on one
//! database (SQLite, or PostgreSQL when `KDS_TEST_POSTGRES_URL` is set, as
//! `scripts/bench-server.sh` does). Bounded: a fixed number of requests per
//! concurrency level, and a time cap.
//!
//! ```text
//! cargo bench -p kakao-desk-server --bench load -- [--clients 1,8,64] [--logins 256] [--cap-secs 60]
//! ```
//!
//! For each level, the browser step is played first (outside the timing:
//! it is the user's, not the server's), then `clients` tasks post the codes
//! to `POST /v1/auth/kakao`, each login a new user; then as many refresh
//! rotations, one per session. Prints one Markdown table row per level:
//! requests per second over the wall time, and the p50/p99 latency of one
//! request as a client saw it. Everything shares the machine's cores:
//! client, server and emulator (which signs an RS256 id_token per login).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kakao_desk_server::Server;
use kakao_desk_server::config::parse_settings;
use kakao_emulator::{EmulatorConfig, Users};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

const SECRET: &str = "load-test-client-secret";

struct Options {
    clients: Vec<usize>,
    logins: usize,
    cap: Duration,
}

fn options() -> Options {
    let mut options = Options {
        clients: vec![1, 8, 64],
        logins: 256,
        cap: Duration::from_secs(60),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--clients" => {
                options.clients = value.split(',').filter_map(|c| c.parse().ok()).collect();
            }
            "--logins" => options.logins = value.parse().unwrap_or(options.logins),
            "--cap-secs" => {
                options.cap = Duration::from_secs(value.parse().unwrap_or(60));
            }
            // `cargo bench` passes `--bench`.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    options
}

/// `count` fixture users shaped like the emulator's fully consented one,
/// each with its own id and email.
fn users(count: usize) -> Result<Users> {
    let fixtures: Vec<Value> =
        serde_json::from_str(include_str!("../../kakao-emulator/fixtures/users.json"))?;
    let template = fixtures
        .into_iter()
        .find(|u| u["id"] == 3_095_134_389_i64)
        .ok_or("the solar-birthday fixture user")?;
    let users: Vec<Value> = (0..count)
        .map(|i| {
            let mut user = template.clone();
            user["id"] = json!(7_000_000_000_i64 + i as i64);
            user["kakao_account"]["email"] = json!(format!("load.{i}@example.com"));
            user["kakao_account"]["profile"]["nickname"] = json!(format!("부하{i}"));
            user
        })
        .collect();
    Ok(Users::from_json(&serde_json::to_string(&users)?)?)
}

fn random(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("random");
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn grant(
    http: &reqwest::Client,
    emulator: &kakao_emulator::RunningEmulator,
    user: i64,
) -> Result<Value> {
    emulator.set_auto_consent(Some(user))?;
    let verifier = random(48);
    let nonce = random(16);
    let mut url = url::Url::parse(&emulator.url("/oauth/authorize"))?;
    url.query_pairs_mut()
        .append_pair("client_id", emulator.client_id())
        .append_pair("redirect_uri", &emulator.bridge_redirect_uri())
        .append_pair("response_type", "code")
        .append_pair("state", &random(16))
        .append_pair("nonce", &nonce)
        .append_pair(
            "code_challenge",
            &URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        )
        .append_pair("code_challenge_method", "S256");
    let response = http.get(url).send().await?;
    let location = url::Url::parse(response.headers()["location"].to_str()?)?;
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .ok_or("a code")?;
    Ok(json!({
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": emulator.bridge_redirect_uri(),
        "nonce": nonce,
    }))
}

struct Run {
    wall: Duration,
    latencies: Vec<Duration>,
    answers: Vec<Value>,
}

/// Posts every body to `url` from `clients` tasks; stops taking new ones at
/// the cap.
async fn drive(
    http: &reqwest::Client,
    url: &str,
    bodies: Vec<Value>,
    clients: usize,
    cap: Duration,
) -> Result<Run> {
    let bodies = Arc::new(bodies);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, url, bodies, next) =
            (http.clone(), url.to_owned(), bodies.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= bodies.len() || started.elapsed() > cap {
                    return Ok::<_, reqwest::Error>(mine);
                }
                let sent = Instant::now();
                let response = http.post(&url).json(&bodies[i]).send().await?;
                let status = response.status();
                let body: Value = response.json().await?;
                let took = sent.elapsed();
                assert_eq!(status, 200, "{body}");
                mine.push((took, body));
            }
        }));
    }
    let mut latencies = Vec::new();
    let mut answers = Vec::new();
    for task in tasks {
        for (took, body) in task.await?? {
            latencies.push(took);
            answers.push(body);
        }
    }
    let wall = started.elapsed();
    latencies.sort();
    Ok(Run {
        wall,
        latencies,
        answers,
    })
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

async fn database_url(dir: &std::path::Path) -> Result<(String, &'static str)> {
    let Ok(admin) = std::env::var("KDS_TEST_POSTGRES_URL") else {
        return Ok((
            format!("sqlite:{}", dir.join("load.db").display()),
            "SQLite",
        ));
    };
    let (client, connection) = tokio_postgres::connect(&admin, tokio_postgres::NoTls).await?;
    let driver = tokio::spawn(connection);
    client
        .batch_execute("DROP DATABASE IF EXISTS kds_load")
        .await?;
    client.batch_execute("CREATE DATABASE kds_load").await?;
    drop(client);
    let _ = driver.await;
    let mut url: url::Url = admin.parse()?;
    url.set_path("/kds_load");
    Ok((url.to_string(), "PostgreSQL"))
}

fn main() -> Result {
    let options = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(options))
}

async fn run(options: Options) -> Result {
    // One user per login, and one for the warm-up.
    let total: usize = options.clients.len() * options.logins + 1;
    let emulator = kakao_emulator::start(EmulatorConfig {
        client_secret: Some(SECRET.to_owned()),
        users: users(total)?,
        issuance_limit: None,
        ..EmulatorConfig::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let (database, kind) = database_url(dir.path()).await?;
    let key = dir.path().join("sealing.key");
    kakao_desk_server::seal::SealingKey::read_or_create(&key)?;
    let args = [
        "kakao-desk-server",
        "--kakao-client-id",
        emulator.client_id(),
        "--kakao-auth-url",
        emulator.base_url(),
        "--kakao-api-url",
        emulator.base_url(),
        "--database-url",
        &database,
        "--database-pool",
        "16",
        "--sealing-key-file",
        &key.display().to_string(),
        "--rate-limit",
        "0",
    ]
    .map(std::ffi::OsString::from)
    .to_vec();
    // The client secret from the environment, as a deployment would.
    let mut settings = parse_settings(args)?;
    settings.client_secret_from_file = Some(kakao_desk_core::secret::ClientSecret::new(SECRET));
    let server = Server::new(&settings).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(server.serve(listener, std::future::pending()));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(128)
        .build()?;

    // Warm-up: discovery and the JWKS are cached after the first login.
    let mut next_user = 7_000_000_000_i64;
    let warm = grant(&http, &emulator, next_user).await?;
    next_user += 1;
    drive(
        &http,
        &format!("{base}/v1/auth/kakao"),
        vec![warm],
        1,
        options.cap,
    )
    .await?;

    println!(
        "| database | clients | logins | logins/s | p50 ms | p99 ms | refreshes/s | p50 ms | p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for &clients in &options.clients {
        let mut bodies = Vec::with_capacity(options.logins);
        for _ in 0..options.logins {
            bodies.push(grant(&http, &emulator, next_user).await?);
            next_user += 1;
        }
        let logins = drive(
            &http,
            &format!("{base}/v1/auth/kakao"),
            bodies,
            clients,
            options.cap,
        )
        .await?;
        let refresh_bodies: Vec<Value> = logins
            .answers
            .iter()
            .map(|a| json!({ "refresh_token": a["refresh_token"] }))
            .collect();
        let refreshes = drive(
            &http,
            &format!("{base}/v1/auth/refresh"),
            refresh_bodies,
            clients,
            options.cap,
        )
        .await?;
        println!(
            "| {kind} | {clients} | {} | {:.0} | {:.1} | {:.1} | {:.0} | {:.1} | {:.1} |",
            logins.latencies.len(),
            logins.latencies.len() as f64 / logins.wall.as_secs_f64(),
            percentile(&logins.latencies, 50.0),
            percentile(&logins.latencies, 99.0),
            refreshes.latencies.len() as f64 / refreshes.wall.as_secs_f64(),
            percentile(&refreshes.latencies, 50.0),
            percentile(&refreshes.latencies, 99.0),
        );
    }
    emulator.shutdown().await;
    Ok(())
}
