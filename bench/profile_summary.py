"""Summarise py-spy collapsed stacks (``bench/run --profile DIR``).

``python -m bench.profile_summary DIR/pg-*.txt [--top 25]`` prints, per
scenario (the rounds' files ``<db>-<scenario>-<n>.txt`` added up), for the
samples of one worker: the share of time inside each function
(inclusive), for the project's own code (app/, bench/, templates) and for
the library calls made from it, plus the leaf functions by self time.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^:]+)(?::\d+)?\)$")


def _short(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    # py-spy names files relative to their sys.path entry: app/..., flask/...
    return f"{match['func']} ({match['file']})"


# Where a sample's leaf frame lives, first match wins.
LEAF_GROUPS = [
    ("database driver (incl. waiting for PostgreSQL)", ("psycopg", "sqlite3", "_sqlite3")),
    ("SQLAlchemy (ORM/Core, compile, rows)", ("sqlalchemy/",)),
    ("Jinja templates", ("jinja2/", ".html", "markupsafe/")),
    ("Babel / i18n", ("babel/", "flask_babel/")),
    ("gunicorn, sockets", ("gunicorn/", "socket.py", "selectors.py")),
    ("Flask / Werkzeug / extensions", ("flask/", "werkzeug/", "flask_", "itsdangerous/",
                                       "limits/", "blinker/", "wtforms/")),
    ("project code (app/, bench/)", ("app/", "bench/")),
]
# Samples with one of these frames anywhere on the stack (inclusive).
INSIDE = [("render_template", "render_template (flask/templating.py)"),
          ("SQL statements (Session/Connection.execute)", "Connection._execute_context"),
          ("ORM loading of rows", "sqlalchemy/orm/loading.py")]


def _group(frame: str) -> str:
    file = frame.rsplit(" (", 1)[-1]
    for name, markers in LEAF_GROUPS:
        if any(m in file for m in markers):
            return name
    return "other (stdlib, json, ...)"


def summarise(name: str, paths: list[Path], top: int) -> str:
    inclusive, leaf, groups, inside = Counter(), Counter(), Counter(), Counter()
    total = 0
    lines_in = [ln for path in paths for ln in path.read_text().splitlines()]
    for line in lines_in:
        stack, _sep, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_short(f) for f in stack.split(";")]
        for frame in set(frames):
            inclusive[frame] += n
        leaf[frames[-1]] += n
        groups[_group(frames[-1])] += n
        for label, marker in INSIDE:
            if any(marker in f for f in frames):
                inside[label] += n
    if not total:
        return f"{name}: no samples"
    lines = [f"{name}: {total} samples ({len(paths)} files)", "  by the leaf's package:"]
    lines += [f"    {n / total:6.1%}  {g}" for g, n in groups.most_common()]
    lines += ["  inside (inclusive):"] + [f"    {inside[label] / total:6.1%}  {label}"
                                         for label, _marker in INSIDE]
    own = [(f, n) for f, n in inclusive.most_common()
           if f.split(" (", 1)[-1].startswith(("app/", "bench/", "templates/"))]
    lines.append("  project code, inclusive:")
    lines += [f"    {n / total:6.1%}  {f}" for f, n in own[:top]]
    lines.append("  everything, inclusive:")
    lines += [f"    {n / total:6.1%}  {f}" for f, n in inclusive.most_common(top)]
    lines.append("  leaf (self) time:")
    lines += [f"    {n / total:6.1%}  {f}" for f, n in leaf.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    groups: dict[str, list[Path]] = {}
    for path in args.files:
        groups.setdefault(re.sub(r"-\d+$", "", path.stem), []).append(path)
    for name, paths in groups.items():
        print(summarise(name, paths, args.top))
        print()


if __name__ == "__main__":
    main()
