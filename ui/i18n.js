// UI strings in Korean and English. Error messages are not here: they come
// from Rust with each error (and as a table in the UI state), so there is one
// source for them.
"use strict";

window.KakaoDeskI18n = Object.freeze({
  ko: Object.freeze({
    "app.name": "Kakao Desk",
    "language.label": "언어",
    "login.title": "카카오 계정으로 로그인",
    "login.lead": "브라우저에서 카카오 로그인을 마치면 이 앱으로 돌아옵니다.",
    "login.button": "카카오 로그인",
    "login.comingSoon": "로그인 기능은 준비 중입니다.",
    "link.received": "로그인 링크를 받았습니다.",
    "version": "버전",
  }),
  en: Object.freeze({
    "app.name": "Kakao Desk",
    "language.label": "Language",
    "login.title": "Log in with your Kakao account",
    "login.lead": "Finish the Kakao login in your browser and you will come back to this app.",
    "login.button": "Login with Kakao",
    "login.comingSoon": "Login is coming soon.",
    "link.received": "A login link was received.",
    "version": "Version",
  }),
});
