#!/usr/bin/env python3
"""Writes docs/config-reference.md from the comments of the config schemas
(proto/hive/config/v1/*.proto): one table per message, one row per field,
the comment above the field as its meaning; enums list their values as the
YAML spells them. tests/docs (ctest docs_config_reference) fails when the
checked-in file differs from what this prints, so it cannot drift.

  gen-config-reference.py SOURCE_DIR            # print
  gen-config-reference.py SOURCE_DIR --check FILE
"""
import re
import sys
from pathlib import Path

FILES = ["policy_config.proto", "milter_config.proto", "observability.proto", "tls.proto",
         "hivectl_config.proto"]


def parse(text):
    """[(kind, name, comment, [(field, type, comment)])] in file order."""
    blocks, stack, comment = [], [], []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("//"):
            comment.append(line[2:].strip())
            continue
        m = re.match(r"(message|enum)\s+(\w+)\s*\{", line)
        if m:
            blocks.append((m.group(1), m.group(2), " ".join(comment), []))
            stack.append(len(blocks) - 1)
            comment = []
            continue
        if line.startswith("}") and stack:
            stack.pop()
            comment = []
            continue
        trailing = ""
        if "//" in line:
            line, trailing = line.split("//", 1)
            line, trailing = line.strip(), trailing.strip()
        f = re.match(r"(repeated\s+|optional\s+)?([\w.]+)\s+(\w+)\s*=\s*\d+;", line)
        e = re.match(r"(\w+)\s*=\s*\d+;", line)
        text_ = " ".join(comment + ([trailing] if trailing else []))
        if stack and f:
            typ = ("list of " if (f.group(1) or "").startswith("repeated") else "") + f.group(2).replace("google.protobuf.Duration", "duration")
            blocks[stack[-1]][3].append((f.group(3), typ, text_))
        elif stack and e:
            blocks[stack[-1]][3].append((e.group(1), "", text_))
        comment = [] if line else comment
    return blocks


def yaml_enum_value(enum_name, value):
    prefix = re.sub(r"(?<!^)(?=[A-Z])", "_", enum_name).upper() + "_"
    return value[len(prefix):].lower() if value.startswith(prefix) else value.lower()


def render(src):
    out = ["# Configuration reference", "",
           "Generated from the comments of `proto/hive/config/v1/*.proto` by",
           "`docs/gen-config-reference.py`; do not edit by hand. hive-policyd reads",
           "`PolicyConfig` (`/etc/hive/policyd.yaml`), hive-milter `MilterConfig`",
           "(`/etc/hive/milter.yaml`). Fields are YAML keys as written here; durations",
           "are written `250ms`, `2s`, `5m`, `1h`, `1d`; enum values in lower case.", ""]
    for name in FILES:
        out += [f"## {name}", ""]
        for kind, block, comment, fields in parse((src / "proto/hive/config/v1" / name).read_text()):
            out += [f"### {kind} `{block}`", ""]
            if comment:
                out += [comment, ""]
            if kind == "enum":
                vals = [(yaml_enum_value(block, v), c) for v, _, c in fields if not v.endswith("_UNSPECIFIED")]
                out += ["| value | meaning |", "|---|---|"] + [f"| `{v}` | {c} |" for v, c in vals] + [""]
            elif fields:
                out += ["| field | type | meaning |", "|---|---|---|"]
                out += [f"| `{f}` | {t} | {c} |" for f, t, c in fields] + [""]
    return "\n".join(out)


def main():
    src = Path(sys.argv[1])
    text = render(src)
    if len(sys.argv) == 4 and sys.argv[2] == "--check":
        if Path(sys.argv[3]).read_text() != text:
            sys.stderr.write(f"{sys.argv[3]} is stale: run docs/gen-config-reference.py {src} > {sys.argv[3]}\n")
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
