#!/usr/bin/env python3
"""Builds the bridge site of bridge mode from bridge/ and tauri.conf.json.

Usage: scripts/build-bridge-site.py [OUT_DIR]   (default: target/bridge-site)

Writes, for the identifier in tauri.conf.json (the release scheme):

  OUT/kakao/callback/         forwards to <identifier>://oauth/callback
  OUT/kakao/callback/debug/   forwards to <identifier>.debug://oauth/callback
  OUT/kakao/signed-out/       the logout redirect URI's page (static)
  OUT/index.html, OUT/.nojekyll

Register OUT's public URL of each page as the redirect URI of that build kind
(kakao.toml's [release] and [debug]). The debug suffix is the one
src-tauri/build.rs gives debug builds. Prints each page's path and scheme.
"""
import json
import os
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# As in src-tauri/build.rs (DEBUG_SUFFIX).
DEBUG_SUFFIX = ".debug"
SCHEME = re.compile(r"^[a-z][a-z0-9.+-]*$")


def main():
    out = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "bridge-site"))
    with open(os.path.join(ROOT, "tauri.conf.json"), encoding="utf-8") as f:
        config = json.load(f)
    identifier = config["identifier"]
    schemes = config["plugins"]["deep-link"]["desktop"]["schemes"]
    if schemes[0] != identifier:
        sys.exit(f"the deep-link scheme {schemes[0]!r} must equal the identifier {identifier!r}")
    with open(os.path.join(ROOT, "bridge", "callback.html"), encoding="utf-8") as f:
        template = f.read()
    if os.path.exists(out):
        shutil.rmtree(out)
    pages = [("kakao/callback", identifier, ""), ("kakao/callback/debug", identifier + DEBUG_SUFFIX, "../")]
    for path, scheme, assets in pages:
        if not SCHEME.match(scheme):
            sys.exit(f"{scheme!r} is not a valid URI scheme (lowercase letters, digits, '.', '+', '-')")
        directory = os.path.join(out, path)
        os.makedirs(directory, exist_ok=True)
        page = template.replace("__SCHEME__", scheme).replace("__ASSETS__", assets)
        with open(os.path.join(directory, "index.html"), "w", encoding="utf-8") as f:
            f.write(page)
        print(f"/{path}/ -> {scheme}://oauth/callback")
    for asset in ("bridge.js", "bridge.css"):
        shutil.copy(os.path.join(ROOT, "bridge", asset), os.path.join(out, "kakao", "callback", asset))
    os.makedirs(os.path.join(out, "kakao", "signed-out"), exist_ok=True)
    shutil.copy(os.path.join(ROOT, "bridge", "signed-out.html"), os.path.join(out, "kakao", "signed-out", "index.html"))
    print("/kakao/signed-out/ (logout redirect URI)")
    with open(os.path.join(out, "index.html"), "w", encoding="utf-8") as f:
        f.write(
            "<!doctype html><meta charset=utf-8><meta name=robots content=noindex>"
            "<title>Kakao Desk</title><p>Kakao Desk's login bridge. Open Kakao Desk to log in.</p>\n"
        )
    # GitHub Pages: serve the files as they are.
    open(os.path.join(out, ".nojekyll"), "w").close()
    print(f"bridge site written to {out}")


if __name__ == "__main__":
    main()
