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


def summarise(name: str, paths: list[Path], top: int) -> str:
    inclusive, leaf = Counter(), Counter()
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
    if not total:
        return f"{name}: no samples"
    lines = [f"{name}: {total} samples ({len(paths)} files)"]
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
