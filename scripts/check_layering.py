#!/usr/bin/env python3
"""Fails when a component includes one it may not depend on.

The allowed dependencies are the ones CMakeLists.txt declares: each
`ipinsights_component(NAME ipi_DEP ...)` line lets src/ipinsights/NAME/ include its own
headers and those of every component reachable through its ipi_ dependencies. Anything else
(an upward include, a sideways one, a cycle) is reported as FILE:LINE and the script exits 1.

Usage: scripts/check_layering.py [REPO_ROOT]
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
cmake = (root / "CMakeLists.txt").read_text()

direct = {}
for match in re.finditer(r"ipinsights_component\((\w+)([^)]*)\)", cmake):
    direct[match.group(1)] = re.findall(r"\bipi_(\w+)", match.group(2))

def reachable(name, seen=None):
    seen = set() if seen is None else seen
    for dep in direct.get(name, []):
        if dep not in seen:
            seen.add(dep)
            reachable(dep, seen)
    return seen

problems = []
include = re.compile(r'^\s*#\s*include\s+"ipinsights/(\w+)/')
for component in sorted(direct):
    allowed = reachable(component) | {component}
    folder = root / "src" / "ipinsights" / component
    for path in sorted(folder.glob("*")):
        if path.suffix not in (".h", ".cc", ".inc"):
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            found = include.match(line)
            if found and found.group(1) not in allowed:
                problems.append(f"{path.relative_to(root)}:{number}: {component} includes "
                                f"{found.group(1)}, which CMakeLists.txt does not put below it "
                                f"(allowed: {', '.join(sorted(allowed))})")

folders = {p.name for p in (root / "src" / "ipinsights").iterdir() if p.is_dir()}
for missing in sorted(folders - set(direct)):
    problems.append(f"src/ipinsights/{missing}: a component folder with no ipinsights_component() line")

for problem in problems:
    print(problem)
if problems:
    print(f"layering: {len(problems)} problem(s)", file=sys.stderr)
    sys.exit(1)
print(f"layering: {len(direct)} components, every include goes down the declared order")
