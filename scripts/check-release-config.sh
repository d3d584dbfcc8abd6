#!/usr/bin/env bash
# Checks that a built Kakao Desk binary carries the publisher's Kakao
# configuration: the REST API key and the release redirect URI it was meant
# to be built with (the build environment's KAKAO_CLIENT_ID /
# KAKAO_REDIRECT_URI, else kakao.toml), and that its configuration doctor
# finds no error offline. Exits 1 with a message otherwise.
#
#   scripts/check-release-config.sh PATH/TO/kakao-desk[.exe]
#
# The release workflow runs it after the build, before anything is uploaded.
set -euo pipefail
cd "$(dirname "$0")/.."
binary="$1"

# What kakao.toml says (top-level client_id, [release] redirect_uri).
toml_value() { # $1 = key, $2 = table ("" for the top level)
  awk -v key="$1" -v want="$2" '
    /^\[/ { table = $0; gsub(/[\[\] ]/, "", table); next }
    table == want && $0 ~ "^" key "[ \t]*=" {
      sub(/^[^=]*=[ \t]*"/, ""); sub(/".*$/, ""); print; exit
    }' kakao.toml
}
want_key="${KAKAO_CLIENT_ID:-$(toml_value client_id "")}"
want_uri="${KAKAO_REDIRECT_URI:-$(toml_value redirect_uri release)}"
if [ -z "$want_key" ]; then
  echo "no Kakao REST API key configured (KAKAO_CLIENT_ID or client_id in kakao.toml)" >&2
  exit 1
fi

set +e
# Only what the binary carries: no KAKAO_* from this environment at run time.
report=$(env -u KAKAO_CLIENT_ID -u KAKAO_CLIENT_SECRET -u KAKAO_REDIRECT_URI \
  -u KAKAO_REDIRECT_MODE -u KAKAO_SCOPES -u KAKAO_OIDC -u KAKAO_AUTH_BASE_URL \
  -u KAKAO_API_BASE_URL -u KAKAO_OIDC_ISSUER "$binary" --check-config --offline --lang en 2>&1)
status=$?
set -e
printf '%s\n' "$report"
if [ "$status" -ne 0 ]; then
  echo "the configuration doctor found an error (exit $status)" >&2
  exit 1
fi
grep -Eq "^  REST API key +${want_key}\$" <<<"$report" || {
  echo "the binary does not carry the REST API key ${want_key}" >&2; exit 1; }
grep -Fq "Redirect URI (release build) ${want_uri}" <<<"$report" || {
  echo "the binary does not carry the release redirect URI ${want_uri}" >&2; exit 1; }
grep -q "(release build, " <<<"$report" || {
  echo "the binary is not a release build" >&2; exit 1; }
echo "ok: the binary carries key ${want_key} and redirect URI ${want_uri}"
