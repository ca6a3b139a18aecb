#!/usr/bin/env python3
"""Checks that the C++ quoted in the guide's chapters is the code that is compiled.

A source file in this folder marks a region with a line `// [snippet NAME]` and a line
`// [end]`. A chapter quotes it with an HTML comment right before a fenced code block:

    <!-- snippet: client_2_0.cpp protocol -->
    ```cpp
    ...the lines between the two markers, verbatim...
    ```

The check fails when a quoted block differs from its region, names a region that does not
exist, or when a region is quoted nowhere. A ```cpp block with no snippet comment must say
`<!-- illustration -->` instead, so that no C++ in the guide escapes the check by accident.

    check_snippets.py [--fix] [GUIDE_DIR]

--fix rewrites the quoted blocks from the sources (after an edit to a program) and reports what
it changed; without it nothing is written. Exit status: 0 in sync, 1 not, 2 a malformed file.
"""

import pathlib
import re
import sys

START = re.compile(r"^\s*// \[snippet ([\w-]+)\]\s*$")
END = re.compile(r"^\s*// \[end\]\s*$")
QUOTE = re.compile(r"^<!-- snippet: (\S+) ([\w-]+) -->\s*$")
ILLUSTRATION = "<!-- illustration -->"


class Malformed(Exception):
    pass


def regions(path):
    """{name: text} for the marked regions of one source file."""
    found, name, lines = {}, None, []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if m := START.match(line):
            if name is not None:
                raise Malformed(f"{path.name}:{number}: snippet '{m[1]}' inside '{name}'")
            if m[1] in found:
                raise Malformed(f"{path.name}:{number}: snippet '{m[1]}' defined twice")
            name, lines = m[1], []
        elif END.match(line):
            if name is None:
                raise Malformed(f"{path.name}:{number}: [end] without a snippet")
            found[name] = "\n".join(lines)
            name = None
        elif name is not None:
            lines.append(line)
    if name is not None:
        raise Malformed(f"{path.name}: snippet '{name}' has no [end]")
    return found


def check_chapter(path, sources, used, fix):
    """Compares (or, with fix, rewrites) the chapter's quotes; returns the list of problems."""
    lines = path.read_text().splitlines()
    problems, out, i = [], [], 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        quote = QUOTE.match(line)
        if line.startswith("```cpp") and not (len(out) > 1 and out[-2].strip() == ILLUSTRATION):
            problems.append(f"{path.name}:{i}: a cpp block that is neither a snippet nor marked "
                            f"{ILLUSTRATION}")
        if not quote:
            continue
        where = f"{path.name}:{i}"
        if i >= len(lines) or not lines[i].startswith("```"):
            raise Malformed(f"{where}: the snippet comment is not followed by a code block")
        try:
            close = lines.index("```", i + 1)
        except ValueError:
            raise Malformed(f"{where}: unterminated code block") from None
        quoted = "\n".join(lines[i + 1:close])
        key = (quote[1], quote[2])
        expected = sources.get(quote[1], {}).get(quote[2])
        used.add(key)
        if expected is None:
            problems.append(f"{where}: no snippet '{quote[2]}' in {quote[1]}")
        elif quoted != expected:
            problems.append(f"{where}: snippet '{quote[2]}' differs from {quote[1]}")
            if fix:
                quoted = expected
        out.append(lines[i])
        out.extend(quoted.splitlines() if quoted else [])
        out.append("```")
        i = close + 1
    if fix and out != lines:
        path.write_text("\n".join(out) + "\n")
    return problems


def main(argv):
    fix = "--fix" in argv
    args = [a for a in argv if a != "--fix"]
    guide = pathlib.Path(args[0] if args else pathlib.Path(__file__).parent)
    try:
        sources = {p.name: regions(p) for p in sorted(guide.iterdir())
                   if p.suffix in (".cpp", ".hpp")}
        used, problems = set(), []
        chapters = sorted(guide.glob("*.md"))
        for chapter in chapters:
            problems += check_chapter(chapter, sources, used, fix)
    except Malformed as e:
        print(f"check_snippets: {e}", file=sys.stderr)
        return 2
    for name, found in sources.items():
        for snippet in found:
            if (name, snippet) not in used:
                problems.append(f"{name}: snippet '{snippet}' is quoted in no chapter")
    for p in problems:
        print(p, file=sys.stderr)
    total = sum(len(found) for found in sources.values())
    if problems:
        print(f"check_snippets: {len(problems)} problem(s)" +
              (" (quotes rewritten from the sources)" if fix else
               "; run check_snippets.py --fix to copy the sources into the chapters"),
              file=sys.stderr)
        return 1
    print(f"check_snippets: {total} snippets in {len(chapters)} chapters match their sources")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
