//! # Kakao Desk, the Tauri shell
//!
//! This crate wires the login core (`kakao-desk-core`, which knows nothing of
//! Tauri) into a desktop window: plugins, managed state, thin commands, and the
//! intake of deep links. It holds no login logic of its own.
//!
//! Layout:
//! - [`startup`]: configuration, demo emulator, vault key source and stores,
//!   opened off the window's critical path;
//! - [`publisher`]: the publisher's Kakao settings baked in at build time
//!   (`kakao.toml`, build environment);
//! - [`check`]: `kakao-desk --check-config`, the configuration doctor, run
//!   before any window opens;
//! - [`handle`]: the shell's handle on the login core — publish the view,
//!   report an error, hand over a link, follow a login attempt;
//! - [`view`]: the one pure function from the core's state to what the UI
//!   draws;
//! - [`links`]: every URL handed to the app (cold start, second instance,
//!   macOS open-URL events) is routed by one check;
//! - [`ui_channel`]: the UI's event channel and the queue before it connects;
//! - [`window`]: the main window, built once start-up knows the first view;
//! - [`ui_state`]: what the page needs to draw (`ui_ready`'s answer);
//! - [`commands`]: the `#[tauri::command]`s the UI may call, each allowed by
//!   an explicit permission in `src-tauri/permissions/`;
//! - [`browser`]: the system browser the core opens Kakao's page in;
//! - [`vault_store`]: the session vault's slots in tauri-plugin-store;
//! - [`files`]: the data directory and store files, private to the user;
//! - [`logs`]: stderr and the daily log file in the app's log directory;
//! - [`settings`]: the remembered UI language;
//! - [`ipc`]: what crosses to the webview (events, `{code, message}` errors).
#![warn(missing_docs)]

pub mod bench;
pub mod browser;
pub mod check;
pub mod commands;
pub mod files;
pub mod handle;
pub mod ipc;
pub mod links;
pub mod logs;
pub mod publisher;
pub mod settings;
pub mod startup;
pub mod ui_channel;
pub mod ui_state;
pub mod vault_store;
pub mod view;
pub mod window;

use tauri::Manager;

use crate::handle::LoginHandle;
use crate::settings::Settings;
use crate::ui_channel::UiChannel;

/// Starts the app. Returns when the last window closes.
///
/// # Panics
/// When Tauri cannot start at all (no display, broken WebKit installation);
/// there is nothing to show the user in that case but the panic message.
pub fn run() {
    let mut context = tauri::generate_context!();
    let scheme = links::configured_scheme(context.config());
    // Before anything else (single-instance would hand the arguments to a
    // running app): `--check-config` prints the doctor's report and exits.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(request) = check::Request::from_args(&args) {
        std::process::exit(check::run(&request, &context.config().identifier, &scheme));
    }
    // The deep-link plugin, given the schemes, keeps the URL of a cold start
    // (authorization code and state) for the app's lifetime and broadcasts it
    // as an app-wide event. On Linux and Windows the shell reads the process's
    // arguments itself and only needs the plugin to register the scheme, so
    // the plugin gets no schemes to match (the bundler reads them from
    // tauri.conf.json, not from here). macOS delivers links through the
    // plugin's open-URL events.
    #[cfg(not(target_os = "macos"))]
    context.config_mut().plugins.0.remove("deep-link");

    tauri::Builder::default()
        // The plugins' authors prescribe this order: single-instance first, so a
        // second process hands its arguments over before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| {
            focus_main_window(app);
            take_launch_args(app, argv.iter().skip(1).map(String::as_str));
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_store::Builder::new().build())
        .setup(move |app| {
            let handle = app.handle().clone();
            // First, so everything after it is in the log file too.
            app.manage(logs::init(handle.path().app_log_dir().ok().as_deref()));
            app.manage(Settings::load(&handle));
            app.manage(UiChannel::default());
            app.manage(window::Opened::default());
            let login = LoginHandle::new(handle.clone(), scheme.clone());
            app.manage(login.clone());
            // Vault, keychain and cache open first: the window is built
            // with the view they give.
            tauri::async_runtime::spawn(startup::start(login.clone()));
            // The window opens once start-up knows its first view, or after
            // a short wait with the "starting" view (window.rs).
            window::open_main_after_wait(login);

            register_scheme(&handle, &scheme);

            // A cold start by a link: the URL is the only argument (Linux,
            // Windows). macOS delivers links as open-URL events instead.
            #[cfg(not(target_os = "macos"))]
            {
                let args: Vec<String> = std::env::args().skip(1).collect();
                take_launch_args(&handle, args.iter().map(String::as_str));
            }
            // macOS: open-URL events. The one that cold-starts the app
            // arrives before `setup`, when nobody listens; the plugin keeps
            // it, so it is asked for once, after the handler is registered.
            // A URL that comes both ways is taken once (`links::OpenUrls`).
            #[cfg(target_os = "macos")]
            {
                use tauri_plugin_deep_link::DeepLinkExt;
                let intake = std::sync::Arc::new(links::OpenUrls::default());
                let (link_handle, event_intake) = (handle.clone(), intake.clone());
                app.deep_link().on_open_url(move |event| {
                    let urls = event.urls();
                    take_urls(
                        &link_handle,
                        &event_intake,
                        urls.iter().map(url::Url::as_str),
                    );
                });
                match app.deep_link().get_current() {
                    Ok(Some(urls)) => {
                        take_urls(&handle, &intake, urls.iter().map(url::Url::as_str));
                    }
                    Ok(None) => {}
                    Err(error) => tracing::warn!(%error, "could not ask for the launch URL"),
                }
            }
            Ok(())
        })
        // Back at the window while Kakao was unreachable: ask again now.
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::Focused(true) = event
                && let Some(handle) = window.try_state::<LoginHandle>()
            {
                let handle = handle.inner().clone();
                if handle.is_offline() {
                    tauri::async_runtime::spawn(async move { handle.recheck().await });
                }
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::ui_ready,
            commands::set_language,
            commands::begin_login,
            commands::reopen_browser,
            commands::cancel_login,
            commands::logout,
            commands::unlink,
            commands::bench_mark,
            commands::check_setup,
            commands::add_consent,
            commands::refresh_profile,
            commands::retry_connection,
            commands::withdraw_consent,
            commands::add_account,
            commands::switch_account,
            commands::remove_account,
        ])
        .run(context)
        .expect("Kakao Desk could not start");
}

/// A process's arguments (cold start, or forwarded by a second instance):
/// routed, then handed to the login core; a refusal is reported.
fn take_launch_args<'a>(app: &tauri::AppHandle, args: impl IntoIterator<Item = &'a str>) {
    let handle = app.state::<LoginHandle>();
    match links::from_launch_args(args, handle.scheme()) {
        Ok(Some(link)) => handle.take_link(link),
        Ok(None) => {}
        Err(refusal) => handle.report(refusal.code()),
    }
}

/// The URLs of an open-URL event (macOS), or the one kept from before
/// `setup`: each taken once, routed, then handed to the login core; a
/// refusal is reported.
#[cfg(target_os = "macos")]
fn take_urls<'a>(
    app: &tauri::AppHandle,
    intake: &links::OpenUrls,
    urls: impl IntoIterator<Item = &'a str>,
) {
    let handle = app.state::<LoginHandle>();
    for routed in intake.take(urls, handle.scheme()) {
        match routed {
            Ok(link) => handle.take_link(link),
            Err(refusal) => handle.report(refusal.code()),
        }
    }
}

fn focus_main_window(app: &tauri::AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Registers the app's scheme with the desktop at start-up where the OS gives
/// no install-time registration: on Linux (an AppImage or a binary run from a
/// build tree has no desktop entry) and in Windows debug builds. Off the
/// window's critical path: it spawns `xdg-mime` and `update-desktop-database`.
///
/// Skipped for a Linux package install (the binary under `/usr/`): the
/// package's desktop entry already registers the scheme, and the plugin's
/// per-user entry would shadow it with a quoted `Exec` that xdg-utils' generic
/// mode cannot run.
fn register_scheme(handle: &tauri::AppHandle, scheme: &str) {
    #[cfg(any(target_os = "linux", all(debug_assertions, windows)))]
    {
        use tauri_plugin_deep_link::DeepLinkExt;
        if cfg!(target_os = "linux")
            && std::env::current_exe().is_ok_and(|exe| exe.starts_with("/usr/"))
        {
            tracing::debug!("installed by a package: its desktop entry registers the scheme");
            return;
        }
        let handle = handle.clone();
        let scheme = scheme.to_owned();
        tauri::async_runtime::spawn_blocking(move || match handle.deep_link().register(&scheme) {
            Ok(()) => tracing::debug!("deep-link scheme registered"),
            Err(error) => tracing::warn!(%error, "could not register the deep-link scheme"),
        });
    }
    #[cfg(not(any(target_os = "linux", all(debug_assertions, windows))))]
    let _ = (handle, scheme);
}
