// Locale formatting of profile facts. Pure functions, shared by the page and
// by the Node unit tests (ui/format.test.js).
"use strict";

(function (root) {
  const MONTHS_EN = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
  ];

  // A birthday as sent by Rust: { date: "YYYY-MM-DD" (year 0000 when
  // unknown), yearKnown, calendar: "solar" | "lunar", leapMonth }.
  function birthday(b, language) {
    if (!b || typeof b.date !== "string") return "";
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(b.date);
    if (!match) return "";
    const year = Number(match[1]);
    const month = Number(match[2]);
    const day = Number(match[3]);
    const withYear = Boolean(b.yearKnown) && year > 0;
    const lunar = b.calendar === "lunar";
    if (language === "ko") {
      // The leap-month marker belongs to the month: 음력 1993년 윤3월 10일.
      const leap = lunar && b.leapMonth ? "윤" : "";
      const date = `${withYear ? `${year}년 ` : ""}${leap}${month}월 ${day}일`;
      return lunar ? `음력 ${date}` : date;
    }
    const name = MONTHS_EN[month - 1];
    if (!name) return "";
    const date = withYear ? `${name} ${day}, ${year}` : `${name} ${day}`;
    if (!lunar) return date;
    return `${date} (lunar${b.leapMonth ? ", leap month" : ""})`;
  }

  // A moment (Unix milliseconds) in the user's language, in local time.
  function moment(ms, language) {
    if (typeof ms !== "number" || !Number.isFinite(ms)) return "";
    return new Intl.DateTimeFormat(language === "ko" ? "ko-KR" : "en-US", {
      dateStyle: "medium",
      timeStyle: "short",
    }).format(new Date(ms));
  }

  // Seconds left as m:ss.
  function timeLeft(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  // The name to greet a user by: their nickname, or a placeholder when they
  // shared none (an empty or blank nickname).
  function displayName(nickname, language) {
    const name = typeof nickname === "string" ? nickname.trim() : "";
    if (name) return nickname;
    return language === "ko" ? "카카오 사용자" : "Kakao user";
  }

  // The first letter of a nickname, for an avatar placeholder.
  function initial(nickname) {
    const first = Array.from((nickname || "").trim())[0];
    return first ? first.toUpperCase() : "?";
  }

  // A UI string with its {name} placeholders filled in. The values are
  // inserted as they are: a nickname may hold `$&` or `$1`, which
  // String.prototype.replace would read as patterns.
  function fill(template, vars) {
    let text = String(template);
    for (const [name, value] of Object.entries(vars || {})) {
      text = text.split(`{${name}}`).join(String(value));
    }
    return text;
  }

  // Whether a URL from Rust may be put in an <img src>: only the data: URLs
  // of cached raster images, never a network or script URL.
  function isImageDataUrl(url) {
    return typeof url === "string" && /^data:image\/(png|jpeg|gif|webp);base64,/.test(url);
  }

  const api = Object.freeze({ birthday, moment, timeLeft, displayName, initial, fill, isImageDataUrl });
  if (typeof module !== "undefined" && module.exports) {
    module.exports = api;
  } else {
    root.KakaoDeskFormat = api;
  }
})(this);
