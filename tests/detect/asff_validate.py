#!/usr/bin/env python3
"""Checks BatchImportFindings request bodies against Security Hub's own service model.

Usage: asff_validate.py FILE   (FILE: lines of {"Findings":[...]}, as `score --format asff`)

botocore's ParamValidator checks what the AWS CLI checks before sending (required members,
types, enums, list lengths). It does not check the service model's patterns or the limits
Security Hub documents for ASFF, so this script checks those too: every string whose shape
has a pattern matches it (NonEmptyString is ".*\\S.*"), Title <= 256, Description <= 1024,
Id <= 512 characters, ProductFields at most 50 with keys <= 128 and values <= 2048
characters. Exit 0 when every batch passes, 1 with the problems on stderr, 77 when botocore
is missing.
"""
import json
import re
import sys

try:
    import botocore.session
    from botocore.validate import ParamValidator
except ImportError:
    print("botocore is not installed", file=sys.stderr)
    sys.exit(77)


def check_patterns(shape, value, path, problems):
    if shape.type_name == "structure" and isinstance(value, dict):
        for name, item in value.items():
            if name in shape.members:
                check_patterns(shape.members[name], item, f"{path}.{name}", problems)
    elif shape.type_name == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            check_patterns(shape.member, item, f"{path}[{i}]", problems)
    elif shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            check_patterns(shape.key, key, f"{path} key {key!r}", problems)
            check_patterns(shape.value, item, f"{path}[{key!r}]", problems)
    elif shape.type_name == "string" and isinstance(value, str):
        pattern = shape.metadata.get("pattern")
        if pattern and not re.fullmatch(pattern, value, re.DOTALL):
            problems.append(f"{path}: {value!r} does not match {pattern}")


def check_limits(finding, path, problems):
    for name, limit in (("Title", 256), ("Description", 1024), ("Id", 512)):
        if len(finding.get(name, "")) > limit:
            problems.append(f"{path}.{name}: {len(finding[name])} characters > {limit}")
    fields = finding.get("ProductFields", {})
    if len(fields) > 50:
        problems.append(f"{path}.ProductFields: {len(fields)} fields > 50")
    for key, value in fields.items():
        if len(key) > 128:
            problems.append(f"{path}.ProductFields key {key!r}: > 128 characters")
        if len(value) > 2048:
            problems.append(f"{path}.ProductFields[{key!r}]: > 2048 characters")


def main():
    model = botocore.session.get_session().get_service_model("securityhub")
    operation = model.operation_model("BatchImportFindings")
    validator = ParamValidator()
    problems = []
    batches = 0
    with open(sys.argv[1], encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            batches += 1
            body = json.loads(line)
            report = validator.validate(body, operation.input_shape)
            if report.has_errors():
                problems.append(f"line {number}: {report.generate_report()}")
            check_patterns(operation.input_shape, body, f"line {number}", problems)
            for i, finding in enumerate(body.get("Findings", [])):
                check_limits(finding, f"line {number}: Findings[{i}]", problems)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"{batches} batches, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
