// Unit tests of ui/format.js: node --test ui/
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const format = require("./format.js");

test("Korean birthdays follow the product's examples", () => {
  const cases = [
    [{ date: "0000-11-30", yearKnown: false, calendar: "solar", leapMonth: false }, "11월 30일"],
    [{ date: "2002-11-30", yearKnown: true, calendar: "solar", leapMonth: false }, "2002년 11월 30일"],
    [{ date: "0000-11-30", yearKnown: false, calendar: "lunar", leapMonth: false }, "음력 11월 30일"],
    [{ date: "0000-04-05", yearKnown: false, calendar: "lunar", leapMonth: true }, "음력 윤4월 5일"],
    [{ date: "1993-03-10", yearKnown: true, calendar: "lunar", leapMonth: true }, "음력 1993년 윤3월 10일"],
    [{ date: "1993-03-10", yearKnown: true, calendar: "solar", leapMonth: true }, "1993년 3월 10일"],
    [{ date: "0000-02-29", yearKnown: false, calendar: "solar", leapMonth: false }, "2월 29일"],
  ];
  for (const [input, want] of cases) {
    assert.equal(format.birthday(input, "ko"), want, JSON.stringify(input));
  }
});

test("English birthdays never show an unknown year", () => {
  assert.equal(
    format.birthday({ date: "0000-11-30", yearKnown: false, calendar: "solar" }, "en"),
    "November 30",
  );
  assert.equal(
    format.birthday({ date: "2002-11-30", yearKnown: true, calendar: "solar" }, "en"),
    "November 30, 2002",
  );
  assert.equal(
    format.birthday({ date: "0000-04-05", yearKnown: false, calendar: "lunar", leapMonth: true }, "en"),
    "April 5 (lunar, leap month)",
  );
});

test("malformed birthdays render as nothing rather than garbage", () => {
  for (const bad of [null, {}, { date: "birthday" }, { date: "0000-13-01", calendar: "solar" }]) {
    assert.equal(format.birthday(bad, "en"), "", JSON.stringify(bad));
  }
});

test("time left counts down in m:ss and never goes negative", () => {
  assert.equal(format.timeLeft(600), "10:00");
  assert.equal(format.timeLeft(61.9), "1:01");
  assert.equal(format.timeLeft(-5), "0:00");
});

test("initials handle Hangul, emoji and empty nicknames", () => {
  assert.equal(format.initial("홍길동"), "홍");
  assert.equal(format.initial("😀 smile"), "😀");
  assert.equal(format.initial("kim"), "K");
  assert.equal(format.initial(""), "?");
});

test("moments are formatted in the user's language", () => {
  const ms = Date.UTC(2026, 10, 23, 3, 4);
  assert.match(format.moment(ms, "ko"), /2026/);
  assert.match(format.moment(ms, "en"), /2026/);
  assert.notEqual(format.moment(ms, "ko"), format.moment(ms, "en"));
  assert.equal(format.moment(undefined, "en"), "");
});

test("placeholders take nicknames as they are, dollar signs and all", () => {
  assert.equal(
    format.fill("{name} 님으로 로그인했습니다.", { name: "$& $1 $$ $`" }),
    "$& $1 $$ $` 님으로 로그인했습니다.",
    "String.replace would expand $& into the placeholder itself"
  );
  assert.equal(format.fill("{a} and {a}", { a: "x" }), "x and x", "every occurrence");
  assert.equal(format.fill("no placeholders", { a: "x" }), "no placeholders");
  assert.equal(format.fill("{missing}", {}), "{missing}", "an unknown name stays visible");
});

test("only cached raster images may become an <img> source", () => {
  assert.ok(format.isImageDataUrl("data:image/png;base64,iVBORw0KGgo="));
  assert.ok(format.isImageDataUrl("data:image/jpeg;base64,/9j/4AAQ"));
  for (const url of [
    "https://k.kakaocdn.net/dn/a/img_110x110.jpg",
    "javascript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD4=",
    "data:image/svg+xml;base64,PHN2Zz4=",
    "",
    null,
    undefined,
    42,
  ]) {
    assert.ok(!format.isImageDataUrl(url), `${String(url)} must not be shown`);
  }
});

test("a user who shared no nickname is greeted by a placeholder", () => {
  assert.strictEqual(format.displayName("", "ko"), "카카오 사용자");
  assert.strictEqual(format.displayName("   ", "en"), "Kakao user");
  assert.strictEqual(format.displayName(null, "en"), "Kakao user");
  assert.strictEqual(format.displayName(undefined, "ko"), "카카오 사용자");
  assert.strictEqual(format.displayName("박양력", "en"), "박양력", "a nickname is kept as it is");
});
