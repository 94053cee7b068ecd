#!/usr/bin/env python3
"""Check the /proc/net/netstat knowledge-base files against the [[counter]] schema of kb/README.md.

Usage: tools/validate_kb_counters.py [--coverage NETSTAT_FILE]... [TOML...]

Without TOML arguments kb/counters/{tcpext,ipext,mptcpext}.toml are checked. It is stricter than
build.rs on purpose (phrases and is_error must be written out, summaries are one line, no stray
spaces in phrases), and needs only Python 3.11. With --coverage FILE (repeatable), every TcpExt,
IpExt and MPTcpExt field printed in that /proc/net/netstat-style file must have an entry.
Exit status 0 when everything is fine, 1 when a problem was found (each one printed).
"""

import pathlib
import sys
import tomllib

REQUIRED = {
    "name": str,
    "section": str,
    "field": str,
    "file": str,
    "phrases": list,
    "summary": str,
    "meaning": str,
    "when_rising": str,
    "kind": str,
    "is_error": bool,
}
OPTIONAL = {
    "netstat_section": str,
    "sysctls": list,
    "related": list,
    "since": str,
    "removed": str,
}
KINDS = {"counter", "gauge"}


def check_file(path, seen, problems):
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as err:
        problems.append(f"{path}: cannot parse: {err}")
        return
    unknown_top = set(data) - {"counter"}
    if unknown_top:
        problems.append(f"{path}: unexpected top-level keys {sorted(unknown_top)}")
    for index, entry in enumerate(data.get("counter", [])):
        where = f"{path} counter #{index + 1} ({entry.get('name', '?')})"
        for key, kind in REQUIRED.items():
            if key not in entry:
                problems.append(f"{where}: missing {key}")
            elif not isinstance(entry[key], kind):
                problems.append(f"{where}: {key} should be {kind.__name__}")
        for key, kind in OPTIONAL.items():
            if key in entry and not isinstance(entry[key], kind):
                problems.append(f"{where}: {key} should be {kind.__name__}")
        extra = set(entry) - set(REQUIRED) - set(OPTIONAL)
        if extra:
            problems.append(f"{where}: unknown keys {sorted(extra)}")
        name = entry.get("name")
        if name != f"{entry.get('section')}{entry.get('field')}":
            problems.append(f"{where}: name is not section + field")
        if name in seen:
            problems.append(f"{where}: duplicate name, first in {seen[name]}")
        seen[name] = str(path)
        if entry.get("kind") not in KINDS:
            problems.append(f"{where}: kind must be one of {sorted(KINDS)}")
        for phrase in entry.get("phrases", []):
            if not isinstance(phrase, str) or phrase.count("{n}") != 1:
                problems.append(f"{where}: phrase needs exactly one {{n}}: {phrase!r}")
            elif phrase.strip() != phrase or "  " in phrase:
                problems.append(f"{where}: phrase has stray spaces: {phrase!r}")
        for key in ("sysctls", "related", "phrases"):
            values = entry.get(key, [])
            if isinstance(values, list) and len(set(map(str, values))) != len(values):
                problems.append(f"{where}: {key} has duplicates")
        for key in ("summary",):
            text = entry.get(key, "")
            if isinstance(text, str) and ("\n" in text.strip() or not text.strip()):
                problems.append(f"{where}: {key} must be one non-empty line")
        for key in ("meaning", "when_rising"):
            text = entry.get(key, "")
            if isinstance(text, str) and not text.strip():
                problems.append(f"{where}: {key} is empty")


def fields_of(netstat_path):
    """Section+field names printed in a /proc/net/netstat-style file (header/value pairs)."""
    names = set()
    lines = pathlib.Path(netstat_path).read_text(errors="replace").splitlines()
    for header, values in zip(lines, lines[1:]):
        head, vals = header.split(), values.split()
        if not head or not head[0].endswith(":") or not vals or vals[0] != head[0]:
            continue
        if len(vals) < 2 or not vals[1].lstrip("-").isdigit():
            continue
        section = head[0][:-1]
        names.update(section + field for field in head[1:])
    return names


def main(argv):
    coverage = []
    tomls = []
    args = iter(argv)
    for arg in args:
        if arg == "--coverage":
            coverage.append(next(args, ""))
        else:
            tomls.append(pathlib.Path(arg))
    if not tomls:
        root = pathlib.Path(__file__).resolve().parent.parent
        tomls = [root / "kb" / "counters" / f"{n}.toml" for n in ("tcpext", "ipext", "mptcpext")]
    problems = []
    seen = {}
    for path in tomls:
        check_file(path, seen, problems)
    related_missing = set()
    for path in tomls:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            continue
        for entry in data.get("counter", []):
            for other in entry.get("related", []):
                if other not in seen:
                    related_missing.add(other)
    for source in coverage:
        for name in sorted(fields_of(source)):
            if name not in seen and name.startswith(("TcpExt", "IpExt", "MPTcpExt")):
                problems.append(f"{source}: no entry for {name}")
    for problem in problems:
        print(problem)
    if related_missing:
        print("note: related names without an entry here (may live in other files):",
              " ".join(sorted(related_missing)))
    print(f"{len(seen)} entries checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
