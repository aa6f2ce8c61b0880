#!/usr/bin/env bash
# Every `import X` in a target's folder must name a module the target declares in Package.swift
# (a target, or a product whose module has that name). An undeclared import builds only while
# some other dependency happens to pull X in, and breaks when that one goes away.
# Also: a target that takes a `Mutex` declares DuetCrypto, through which `make check-tsan`
# swaps in a lock ThreadSanitizer can see (docs/sanitizers.md).
#
# Usage: scripts/check-imports.sh   (from anywhere; `make check-imports` and `make lint` run it)
# Reads the manifest through `swift package dump-package`; prints each offending
# file:line and exits 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT=${SWIFT:-swift}

manifest=$(mktemp)
trap 'rm -f "$manifest"' EXIT
"$SWIFT" package ${DUET_IGNORE_LOCK:+--ignore-lock} dump-package 2>/dev/null > "$manifest"

python3 - "$manifest" <<'PY'
import json, os, re, sys

# Modules of the toolchain and the system, which no target declares.
SYSTEM = {
    "Foundation", "FoundationEssentials", "FoundationInternationalization", "FoundationNetworking",
    "Glibc", "Musl", "Darwin", "Synchronization", "Dispatch", "_Concurrency", "_StringProcessing",
    "RegexBuilder", "Observation", "Swift", "SwiftShims", "Testing", "XCTest", "os",
}
# Products whose module has another name (none today: add "Product": "Module" pairs here).
PRODUCT_MODULES = {}

package = json.load(open(sys.argv[1]))
IMPORT = re.compile(
    r"^\s*(?:@[\w]+(?:\([^)]*\))?\s+)*import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?([A-Za-z_][\w]*)")

def declared(target):
    names = set()
    for dependency in target.get("dependencies", []):
        for kind in ("byName", "target"):
            if kind in dependency:
                names.add(dependency[kind][0])
        if "product" in dependency:
            product = dependency["product"][0]
            names.add(PRODUCT_MODULES.get(product, product))
    return names

# Targets that take a lock but keep Synchronization.Mutex under `make check-tsan` (test support
# with no DuetCrypto; docs/sanitizers.md).
PLAIN_MUTEX = {"NetworkLab", "PostgresLab"}
MUTEX = re.compile(r"\bMutex\s*[<(]")

failures = 0
for target in package["targets"]:
    if target["type"] in ("system", "binary", "plugin", "macro"):
        continue
    name = target["name"]
    folder = target.get("path") or os.path.join("Tests" if target["type"] == "test" else "Sources", name)
    allowed = declared(target) | SYSTEM | {name}
    # `make check-tsan` swaps Mutex through DuetCrypto, imported into the targets that declare it.
    needs_crypto = name != "DuetCrypto" and "DuetCrypto" not in allowed and name not in PLAIN_MUTEX
    for root, _, files in os.walk(folder):
        for file in sorted(files):
            if not file.endswith(".swift"):
                continue
            path = os.path.join(root, file)
            with open(path, encoding="utf-8") as source:
                for number, line in enumerate(source, 1):
                    if needs_crypto and MUTEX.search(line) and not line.lstrip().startswith("//"):
                        print(f"{path}:{number}: target {name} takes a Mutex but does not declare DuetCrypto "
                              "(make check-tsan swaps Mutex through it: docs/sanitizers.md)")
                        failures += 1
                    match = IMPORT.match(line)
                    if match and match.group(1) not in allowed:
                        print(f"{path}:{number}: target {name} imports {match.group(1)} but does not declare it in Package.swift")
                        failures += 1
if failures:
    print(f"check-imports: {failures} problem(s)")
    sys.exit(1)
print("check-imports: every import is declared")
PY
