// Kakao Desk UI shell. Talks to Rust through two commands (ui_ready,
// set_language) and one event channel; it never sees a token, code or key.
"use strict";

(() => {
  const { invoke, Channel } = window.__TAURI__.core;
  const strings = window.KakaoDeskI18n;

  const state = {
    language: "ko",
    errorMessages: {},
    lastError: null, // { code, message }
    lastStatusKey: null,
  };

  const $ = (id) => document.getElementById(id);

  function t(key) {
    return (strings[state.language] || strings.en)[key] || key;
  }

  function applyLanguage() {
    document.documentElement.lang = state.language;
    for (const el of document.querySelectorAll("[data-i18n]")) {
      el.textContent = t(el.dataset.i18n);
    }
    $("language").value = state.language;
    if (state.lastError) showError(state.lastError.code);
    if (state.lastStatusKey) showStatus(state.lastStatusKey);
  }

  function applyUiState(ui) {
    state.language = ui.language;
    state.errorMessages = ui.errorMessages;
    $("version").textContent = `${ui.version}`;
    applyLanguage();
  }

  function showError(code, message) {
    const el = $("error");
    const text = state.errorMessages[code] || message || code;
    state.lastError = { code, message: text };
    el.dataset.errorCode = code;
    el.textContent = text;
    el.hidden = false;
  }

  function showStatus(key) {
    state.lastStatusKey = key;
    $("status").textContent = t(key);
  }

  function onEvent(event) {
    switch (event.type) {
      case "callback_received":
        $("status").dataset.linkParameters = event.parameters.join(",");
        showStatus("link.received");
        break;
      case "error":
        showError(event.code, event.message);
        break;
      default:
        console.warn("unknown event", event.type);
    }
  }

  $("language").addEventListener("change", async (e) => {
    try {
      applyUiState(await invoke("set_language", { language: e.target.value }));
    } catch (error) {
      if (error && error.code) showError(error.code, error.message);
    }
  });

  const events = new Channel();
  events.onmessage = onEvent;
  invoke("ui_ready", { events })
    .then((ui) => {
      applyUiState(ui);
      document.body.dataset.ready = "true";
    })
    .catch((error) => {
      console.error("ui_ready failed", error);
      showError("internal", String(error));
    });
})();
