// Forwards Kakao's redirect to Kakao Desk's private-use scheme.
"use strict";

(() => {
  const root = document.documentElement;
  const scheme = root.dataset.scheme;
  // One language: Korean for a Korean browser, English otherwise.
  const preferred = (navigator.languages && navigator.languages[0]) || navigator.language || "";
  root.lang = /^ko\b/i.test(preferred) ? "ko" : "en";

  const query = window.location.search;
  const params = new URLSearchParams(query);
  // The code must not stay in the address bar, the history or a bookmark:
  // the entry is rewritten before anything else happens.
  window.history.replaceState(null, "", window.location.pathname);

  // Only what Kakao sends back is forwarded (docs/kakao-api.md §1.3); any
  // other parameter is dropped. A parameter given twice, an oversized one,
  // or a response that is neither a code nor an error is refused.
  const KAKAO = ["code", "state", "error", "error_description"];
  const MAX_VALUE = 2048;
  const MAX_QUERY = 8192;
  const forwarded = new URLSearchParams();
  let valid = query.length <= MAX_QUERY;
  for (const name of KAKAO) {
    const values = params.getAll(name);
    if (values.length > 1 || values.some((v) => v.length > MAX_VALUE)) valid = false;
    if (values.length === 1) forwarded.set(name, values[0]);
  }
  valid = valid && forwarded.has("state") && forwarded.has("code") !== forwarded.has("error");
  if (!valid || !/^[a-z][a-z0-9.+-]*$/.test(scheme)) {
    document.getElementById("forwarding").hidden = true;
    document.getElementById("invalid").hidden = false;
    return;
  }
  const target = `${scheme}://oauth/callback?${forwarded.toString()}`;
  const link = document.getElementById("open");
  link.href = target;
  link.hidden = false;
  window.location.replace(target);
})();
