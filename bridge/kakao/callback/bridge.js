// Forwards Kakao's redirect to Kakao Desk's private-use scheme.
"use strict";

(() => {
  const scheme = document.documentElement.dataset.scheme;
  const params = new URLSearchParams(window.location.search);
  // Only what Kakao sends back is forwarded; anything else means the page
  // was not reached from Kakao's redirect.
  const allowed = new Set(["code", "state", "error", "error_description", "error_code"]);
  const forwarded = new URLSearchParams();
  let valid = params.has("state") && (params.has("code") || params.has("error"));
  for (const [name, value] of params) {
    if (!allowed.has(name) || value.length > 2048) valid = false;
    forwarded.append(name, value);
  }
  // The code must not stay in the address bar, the history or a bookmark.
  window.history.replaceState(null, "", window.location.pathname);
  if (!valid || !/^[a-z][a-z0-9.+-]*$/.test(scheme)) {
    document.getElementById("invalid").hidden = false;
    document.getElementById("hint").hidden = true;
    return;
  }
  const target = `${scheme}://oauth/callback?${forwarded.toString()}`;
  const link = document.getElementById("open");
  link.href = target;
  link.hidden = false;
  window.location.replace(target);
})();
