// Kakao Desk UI. Talks to Rust through the app's commands and one event
// channel; it receives the public profile and session state only, never a
// token, code or key. It switches on error codes, never on message text.
"use strict";

(() => {
  const { invoke, Channel } = window.__TAURI__.core;
  const strings = window.KakaoDeskI18n;
  const format = window.KakaoDeskFormat;

  const state = {
    language: "ko",
    errorMessages: {},
    session: null, // until Rust sends the first view
    lastError: null, // { code, message }
    status: null, // { key, vars }
    busy: false,
    countdown: null,
    bench: false, // report timing marks (benchmarks only)
    marked: {},
    // The "Having trouble?" panel of the attempt waiting since `since`.
    trouble: { since: null, timer: null, findings: null, checking: false },
  };

  // A login that has not come back after this long may be stuck on one of
  // Kakao's error pages: offer the configuration check.
  const TROUBLE_AFTER_MS = 12000;

  const $ = (id) => document.getElementById(id);

  function displayName(nickname) {
    return format.displayName(nickname, state.language);
  }

  function t(key, vars) {
    return format.fill((strings[state.language] || strings.en)[key] || key, vars);
  }

  // ---- rendering -------------------------------------------------------

  function applyLanguage() {
    document.documentElement.lang = state.language;
    for (const el of document.querySelectorAll("[data-i18n]")) {
      el.textContent = t(el.dataset.i18n);
    }
    $("language").value = state.language;
    render();
    if (state.lastError) showError(state.lastError.code, null, state.lastError.port);
    if (state.status) showStatus(state.status.key, state.status.vars);
  }

  function show(screen) {
    const screens = { signed_out: "screen-login", waiting: "screen-waiting", signed_in: "screen-profile" };
    // "starting" (the vault is still opening) shows no screen at all.
    const wanted = screens[screen] || null;
    for (const id of Object.values(screens)) {
      const el = $(id);
      const visible = id === wanted;
      if (el.hidden === visible) {
        el.hidden = !visible;
        if (visible && document.body.dataset.ready) {
          // Move focus to the new screen's heading for keyboard and screen
          // reader users.
          const heading = el.querySelector("h1");
          if (heading) {
            heading.tabIndex = -1;
            heading.focus();
          }
        }
      }
    }
    document.body.dataset.screen = screen;
  }

  function setAvatar(img, placeholder, dataUrl, nickname) {
    if (format.isImageDataUrl(dataUrl)) {
      img.src = dataUrl;
      img.alt = t("profile.avatarAlt", { name: displayName(nickname) });
      img.hidden = false;
      if (placeholder) placeholder.hidden = true;
    } else {
      img.removeAttribute("src");
      img.hidden = true;
      if (placeholder) {
        placeholder.textContent = format.initial(displayName(nickname));
        placeholder.hidden = false;
      }
    }
  }

  function render() {
    const session = state.session || { state: "starting" };
    show(session.state);
    $("demo-banner").hidden = !session.demo;
    stopCountdown();

    const switcher = renderAccounts(session);
    if (session.state === "signed_out") {
      // The switcher lists the last account too: "continue as" only when it
      // is the one account known here.
      const last = switcher ? null : session.continueAs;
      $("continue-as").hidden = !last;
      if (last) {
        $("continue-text").textContent = t("login.continueAs", { name: displayName(last.nickname) });
        const img = $("continue-avatar");
        if (format.isImageDataUrl(last.thumbnailDataUrl)) {
          img.src = last.thumbnailDataUrl;
          img.hidden = false;
        } else {
          img.removeAttribute("src");
          img.hidden = true;
        }
      }
    } else if (session.state === "waiting") {
      const login = session.login || {};
      startCountdown(login.deadline);
      renderTrouble(login.deadline, session.demo);
      const first = login.firstPaint;
      $("first-paint").hidden = !first;
      if (first) {
        $("first-paint-initial").textContent = format.initial(displayName(first.nickname));
        $("first-paint-text").textContent = t("waiting.firstPaint", { name: displayName(first.nickname) });
        benchMark("first-paint-rendered");
      }
    } else if (session.state === "signed_in") {
      const p = session.profile || {};
      const nickname = p.nickname || "";
      $("profile-nickname").textContent = displayName(nickname);
      setAvatar($("avatar"), $("avatar-initial"), p.thumbnailDataUrl, nickname);
      const birthday = format.birthday(p.birthday, state.language);
      $("profile-birthday").textContent = birthday;
      $("row-birthday").hidden = !birthday;
      $("profile-email").textContent = p.email || "";
      $("row-email").hidden = !p.email;
      $("profile-last-login").textContent = format.moment(session.lastLoginAt, state.language);
      const badge = $("offline-badge");
      badge.hidden = !session.offline;
      badge.title = t("profile.offlineHint");
      $("retry-connection").hidden = !session.offline;
      $("logout-browser-row").hidden = !session.browserSignOut;
      renderConsent(session);
      for (const button of document.querySelectorAll("[data-testid='withdraw-consent']")) {
        button.setAttribute("aria-label", t("profile.withdrawLabel", { item: t(itemKey(button.dataset.scope)) }));
        button.disabled = state.busy;
        button.hidden = !session.withdraw;
      }
      if (nickname) benchMark("profile-rendered");
    }
    if (session.state !== "waiting") resetTrouble();
    for (const id of ["login", "reopen", "cancel", "logout", "unlink", "check-setup", "refresh-profile", "retry-connection", "add-account", "logout-browser"]) {
      $(id).disabled = state.busy;
    }
    markScreenRendered();
  }

  // The account switcher: every account signed in here (the one in use
  // first), then the latest signed-out ones. Picking a signed-in account
  // switches without the browser; a signed-out one logs in with Kakao's
  // account chooser. Shown on the profile screen, and on the login screen
  // when it has more to offer than "continue as". Returns whether it shows.
  function renderAccounts(session) {
    const section = $("accounts");
    const accounts = session.accounts || [];
    const wanted =
      session.state === "signed_in" ||
      (session.state === "signed_out" && (accounts.length > 1 || accounts.some((a) => a.signedIn)));
    section.hidden = !wanted;
    if (!wanted) {
      state.refocusAccounts = false;
      return false;
    }
    const host = session.state === "signed_in" ? $("screen-profile") : $("screen-login");
    if (section.parentElement !== host) host.append(section);
    const list = $("account-list");
    // Keep keyboard focus on the same control across the redraw.
    const focused = document.activeElement && list.contains(document.activeElement)
      ? [document.activeElement.dataset.testid, document.activeElement.dataset.kakaoId]
      : null;
    list.replaceChildren();
    for (const account of accounts) {
      const name = displayName(account.nickname);
      const item = document.createElement("li");
      const pick = document.createElement("button");
      pick.type = "button";
      pick.className = "account-item";
      pick.dataset.testid = "account-item";
      pick.dataset.kakaoId = account.kakaoId;
      pick.dataset.signedIn = String(account.signedIn);
      const avatar = document.createElement(format.isImageDataUrl(account.thumbnailDataUrl) ? "img" : "span");
      avatar.className = "avatar tiny";
      avatar.setAttribute("aria-hidden", "true");
      if (avatar.tagName === "IMG") {
        avatar.src = account.thumbnailDataUrl;
        avatar.alt = "";
      } else {
        avatar.classList.add("initial");
        avatar.textContent = format.initial(name);
      }
      const text = document.createElement("span");
      text.className = "account-text";
      const label = document.createElement("span");
      label.className = "account-name";
      label.textContent = name;
      const status = document.createElement("span");
      status.className = "account-state";
      status.textContent = t(account.active ? "accounts.inUse" : account.signedIn ? "accounts.signedIn" : "accounts.signedOut");
      text.append(label, status);
      pick.append(avatar, text);
      if (account.active) {
        // Focusable and announced as the current one; pressing it does
        // nothing.
        pick.setAttribute("aria-current", "true");
        pick.setAttribute("aria-disabled", "true");
        pick.setAttribute("aria-label", t("accounts.inUseLabel", { name }));
      } else {
        pick.setAttribute("aria-label", t(account.signedIn ? "accounts.switchLabel" : "accounts.loginLabel", { name }));
        pick.disabled = state.busy;
        pick.addEventListener("click", () => {
          clearError();
          state.refocusAccounts = true;
          if (account.signedIn) {
            run("switch_account", { kakaoId: account.kakaoId }, () =>
              showStatus("status.switched", { nickname: account.nickname || "" }));
          } else {
            run("add_account");
          }
        });
      }
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "link remove-account";
      remove.dataset.testid = "remove-account";
      remove.dataset.kakaoId = account.kakaoId;
      remove.textContent = t("accounts.remove");
      remove.setAttribute("aria-label", t("accounts.removeLabel", { name }));
      remove.disabled = state.busy;
      remove.addEventListener("click", () => confirmRemove(account));
      item.append(pick, remove);
      list.append(item);
    }
    if (state.refocusAccounts && !state.busy) {
      // After a switch or a removal the pressed control is gone or
      // disabled: keyboard focus goes to the account now in use.
      state.refocusAccounts = false;
      const current = list.querySelector("[aria-current='true']") || $("add-account");
      current.focus();
    } else if (focused) {
      const again = list.querySelector(`[data-testid='${focused[0]}'][data-kakao-id='${focused[1]}']`);
      if (again && !again.disabled) again.focus();
    }
    return true;
  }

  let removing = null;

  // A dialog keeps its last returnValue when closed with Escape (WebKit):
  // clear it first, so only the confirm button confirms.
  function openDialog(id) {
    const dialog = $(id);
    dialog.returnValue = "";
    dialog.showModal();
  }

  function confirmRemove(account) {
    removing = account;
    $("remove-title").textContent = t("remove.title", { name: displayName(account.nickname) });
    $("remove-body").textContent = t(account.signedIn ? "remove.body" : "remove.bodySignedOut");
    openDialog("remove-dialog");
  }

  // The card's additional-consent actions: one button per offer Rust makes
  // (an item the user has not agreed to, or what a -402 named), and the note
  // after a decline.
  const KNOWN_OFFERS = ["birthday", "account_email", "profile"];

  function itemKey(offer) {
    return `consent.item.${KNOWN_OFFERS.includes(offer) ? offer : "other"}`;
  }

  function renderConsent(session) {
    const box = $("consent-offers");
    for (const old of box.querySelectorAll("button")) old.remove();
    const offers = session.consentOffers || [];
    for (const offer of offers) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "secondary add-consent";
      button.dataset.testid = "add-consent";
      button.dataset.scope = offer.id;
      button.textContent = KNOWN_OFFERS.includes(offer.id)
        ? t(`consent.add.${offer.id}`)
        : t("consent.add.other", { scope: offer.id });
      button.disabled = state.busy;
      button.addEventListener("click", () => {
        clearError();
        run("add_consent", { offer: offer.id });
      });
      box.append(button);
    }
    box.hidden = offers.length === 0;
    const declined = $("consent-declined");
    const note = session.consentNote;
    const item = note && note.outcome === "declined" ? note.offer : null;
    declined.hidden = !item;
    declined.textContent = item ? t("consent.declined", { item: t(itemKey(item)) }) : "";
  }

  // Timing marks for the benchmark, once each per page load, as soon as the
  // DOM shows the state (the next frame paints it).
  function benchMark(name) {
    if (!state.bench || state.marked[name]) return;
    state.marked[name] = true;
    invoke("bench_mark", { mark: name });
  }

  // The first screen is on display: the page is visible, its fonts are
  // loaded, its images decoded, and two frames have been painted since.
  // A headless `scripts/run.sh` takes its screenshot at this mark.
  function markScreenRendered() {
    const session = state.session || { state: "starting" };
    if (!state.bench || state.marked["screen-rendered"]) return;
    if (!document.body.dataset.ready || session.state === "starting") return;
    state.marked["screen-rendered"] = true;
    const images = [...document.images].filter((i) => !i.hidden && i.src);
    Promise.all([document.fonts.ready, ...images.map((i) => i.decode().catch(() => {}))]).then(() =>
      requestAnimationFrame(() =>
        requestAnimationFrame(() => invoke("bench_mark", { mark: "screen-rendered" }))));
  }

  // The panel appears TROUBLE_AFTER_MS into an attempt (never in demo mode,
  // whose emulator cannot be set up wrongly) and lists the doctor's findings.
  function renderTrouble(attempt, demo) {
    if (state.trouble.since !== attempt) resetTrouble();
    const trouble = state.trouble;
    if (trouble.since !== attempt) {
      trouble.since = attempt;
      if (!demo) {
        trouble.timer = setTimeout(() => {
          $("trouble").hidden = false;
        }, TROUBLE_AFTER_MS);
      }
    }
    const list = $("findings");
    list.replaceChildren();
    if (trouble.checking) {
      const item = document.createElement("li");
      item.textContent = t("trouble.checking");
      list.append(item);
    } else if (trouble.findings) {
      if (trouble.findings.length === 0) {
        const item = document.createElement("li");
        item.dataset.findingId = "none";
        item.textContent = t("trouble.none");
        list.append(item);
      }
      for (const finding of trouble.findings) {
        const item = document.createElement("li");
        item.dataset.findingId = finding.id;
        item.className = `finding ${finding.severity}`;
        item.textContent = finding.message;
        list.append(item);
      }
    }
  }

  function resetTrouble() {
    const trouble = state.trouble;
    if (trouble.timer) clearTimeout(trouble.timer);
    state.trouble = { since: null, timer: null, findings: null, checking: false };
    $("trouble").hidden = true;
    $("findings").replaceChildren();
  }

  async function checkSetup() {
    if (state.trouble.checking) return;
    const since = state.trouble.since;
    state.trouble.checking = true;
    render();
    let findings;
    try {
      findings = await invoke("check_setup");
    } catch (error) {
      findings = null;
      if (error && error.code) showError(error.code, error.message, error.port);
    }
    // A result for an attempt that ended meanwhile is dropped.
    if (state.trouble.since === since) {
      state.trouble.checking = false;
      state.trouble.findings = findings;
      render();
    }
  }

  function startCountdown(deadline) {
    const tick = () => {
      const left = (deadline - Date.now()) / 1000;
      $("time-left").textContent = format.timeLeft(left);
    };
    if (typeof deadline !== "number") return;
    tick();
    state.countdown = setInterval(tick, 1000);
  }

  function stopCountdown() {
    if (state.countdown) clearInterval(state.countdown);
    state.countdown = null;
  }

  // An error names facts (the port of `port_unavailable`) that the table's
  // template leaves as `{port}`: filled in here, in either language.
  function showError(code, message, port) {
    const el = $("error");
    const template = state.errorMessages[code];
    const text = template ? format.fill(template, { port: port ?? "?" }) : message || code;
    state.lastError = { code, message: text, port };
    el.dataset.errorCode = code;
    el.textContent = text;
    el.hidden = false;
  }

  function clearError() {
    state.lastError = null;
    const el = $("error");
    el.hidden = true;
    el.textContent = "";
    delete el.dataset.errorCode;
  }

  function clearStatus() {
    state.status = null;
    $("status").textContent = "";
  }

  // A status naming a user keeps the nickname (and one naming an item keeps
  // its string key), so a switch of language rewords them too.
  function showStatus(key, vars) {
    state.status = { key, vars };
    const named = { ...vars };
    if (vars && "nickname" in vars) named.name = displayName(vars.nickname);
    if (vars && "itemKey" in vars) named.item = t(vars.itemKey);
    $("status").textContent = t(key, named);
  }

  // The status line for a change of state: a login that just completed, or
  // the start of waiting. Other changes clear it (an action's own outcome,
  // such as "logged out", is set by the action).
  function statusFor(previous, session) {
    if (session.state === "signed_in" && previous === "waiting") {
      // Back from additional consent (the only login while signed in):
      // Rust says how it ended; a decline is on the card, a failure was
      // reported as an error.
      const note = session.consentNote;
      if (note) {
        return note.outcome === "added" ? ["status.consentAdded", { itemKey: itemKey(note.offer) }] : null;
      }
      return ["status.signedIn", { nickname: (session.profile && session.profile.nickname) || "" }];
    }
    if (session.state === "waiting" && previous !== "waiting") return ["status.waiting"];
    // From the login screen straight to the profile: an account still
    // signed in was picked in the switcher.
    if (session.state === "signed_in" && previous === "signed_out") {
      return ["status.switched", { nickname: (session.profile && session.profile.nickname) || "" }];
    }
    return null;
  }

  // Draws a session view unless a newer one is already on screen: the view
  // ui_ready answers with and the channel's events arrive separately, in
  // either order. `draw` false leaves the drawing to the caller.
  function applySession(session, draw = true) {
    if (state.session && session.seq < state.session.seq) return;
    const previous = state.session && state.session.state;
    state.session = session;
    // Moving on to waiting or signed in makes an old error moot; an error
    // that arrives while the state stays (a forged link while waiting) stays,
    // and so does the one that ended an additional consent.
    const failedConsent = session.consentNote && session.consentNote.outcome === "failed";
    // An error reported during start-up (a keychain problem) stays: the first
    // real view may come before or after it (ui_ready's answer and the
    // channel travel separately).
    const fromStart = !previous || previous === "starting";
    if (session.state !== previous && session.state !== "signed_out" && !failedConsent && !fromStart) clearError();
    const status = statusFor(previous, session);
    if (status) showStatus(...status);
    else if (previous !== session.state) clearStatus();
    if (draw) render();
  }

  // ---- actions ----------------------------------------------------------

  // Runs one command; the state it changes arrives as a session event.
  async function run(command, args, onDone) {
    if (state.busy) return;
    state.busy = true;
    render();
    try {
      await invoke(command, args || {});
      if (onDone) onDone();
    } catch (error) {
      if (error && error.code) showError(error.code, error.message, error.port);
      else showError("internal", String(error));
    } finally {
      state.busy = false;
      render();
    }
  }

  $("login").addEventListener("click", () => {
    clearError();
    run("begin_login");
  });
  $("reopen").addEventListener("click", () => run("reopen_browser"));
  $("check-setup").addEventListener("click", checkSetup);
  $("cancel").addEventListener("click", () =>
    run("cancel_login", {}, () => showStatus("status.cancelled")));
  $("logout").addEventListener("click", () => {
    const alsoBrowser = !$("logout-browser-row").hidden && $("logout-browser").checked;
    run("logout", { alsoBrowser }, () =>
      showStatus(alsoBrowser ? "status.browserSignOut" : "status.signedOut"));
  });
  $("add-account").addEventListener("click", () => {
    clearError();
    run("add_account");
  });
  $("remove-dialog").addEventListener("close", () => {
    const account = removing;
    removing = null;
    if (account && $("remove-dialog").returnValue === "confirm") {
      clearError();
      state.refocusAccounts = true;
      run("remove_account", { kakaoId: account.kakaoId }, () =>
        showStatus("status.removed", { nickname: account.nickname || "" }));
    } else if (account) {
      const again = document.querySelector(`[data-testid='remove-account'][data-kakao-id='${account.kakaoId}']`);
      if (again) again.focus();
    }
  });
  $("refresh-profile").addEventListener("click", () =>
    run("refresh_profile", {}, () => showStatus("status.refreshed")));
  $("retry-connection").addEventListener("click", () => run("retry_connection"));
  for (const button of document.querySelectorAll("[data-testid='withdraw-consent']")) {
    const item = button.dataset.scope;
    button.addEventListener("click", () => {
      clearError();
      run("withdraw_consent", { item }, () => showStatus("status.withdrawn", { itemKey: itemKey(item) }));
    });
  }
  $("unlink").addEventListener("click", () => openDialog("unlink-dialog"));
  $("unlink-dialog").addEventListener("close", () => {
    if ($("unlink-dialog").returnValue === "confirm") {
      run("unlink", {}, () => showStatus("status.unlinked"));
    } else {
      $("unlink").focus();
    }
  });

  $("language").addEventListener("change", async (e) => {
    try {
      applyUiState(await invoke("set_language", { language: e.target.value }));
      // Findings came in the old language: check again to read them anew.
      state.trouble.findings = null;
      render();
    } catch (error) {
      if (error && error.code) showError(error.code, error.message, error.port);
    }
  });

  // ---- events from Rust ---------------------------------------------------

  function onEvent(event) {
    switch (event.type) {
      case "session":
        applySession(event.session);
        break;
      case "error":
        showError(event.code, event.message, event.port);
        break;
      default:
        console.warn("unknown event", event.type);
    }
  }

  // Draws what the page was handed (ui_ready's answer, or the first UI the
  // window was built with): the session view, then everything in the page's
  // language (applyUiState draws).
  function applyUi(ui) {
    if (ui.session) applySession(ui.session, false);
    applyUiState(ui);
  }

  function applyUiState(ui) {
    state.language = ui.language;
    state.errorMessages = ui.errorMessages;
    state.bench = Boolean(ui.bench);
    $("version").textContent = ui.version;
    $("log-dir").textContent = ui.logDir || "";
    $("row-log-dir").hidden = !ui.logDir;
    applyLanguage();
  }

  // The window was built with the first view of this run (window.rs): draw
  // it now, before the first layout, and take it once per window so a
  // reloaded page waits for ui_ready instead.
  const firstUi = window.__KAKAO_DESK_FIRST_UI__;
  delete window.__KAKAO_DESK_FIRST_UI__;
  if (firstUi && firstUi.session) {
    try {
      window.sessionStorage.setItem("kakaoDesk.firstUiTaken", "1");
    } catch (_) {
      // No storage: a reload draws the same first view, then the newer one.
    }
    applyUi(firstUi);
  }

  const events = new Channel();
  events.onmessage = onEvent;
  invoke("ui_ready", { events })
    .then((ui) => {
      // The view of now comes with the answer (through the channel a view
      // with avatars would take one more round trip).
      state.bench = Boolean(ui.bench);
      benchMark("ui-answered");
      applyUi(ui);
      document.body.dataset.ready = "true";
      markScreenRendered();
    })
    .catch((error) => {
      console.error("ui_ready failed", error);
      document.body.dataset.ready = "true";
      showError("internal", String(error));
    });
})();
