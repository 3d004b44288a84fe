#!/usr/bin/env python3
"""Strict check of a daemon log written with observability.log_format: json.

Every non-empty line must be exactly one JSON object (no NaN/Infinity, no
duplicate keys, no trailing text). Lines whose KEY equals VALUE (--select
KEY=VALUE) are decision lines: each must carry every --keys key, the
--numbers keys as JSON numbers and the rest as non-empty strings. Prints
each selected line re-serialised (sorted keys, compact) so the calling test
can assert values; exits 1 with the reason on the first violation.

  check-json-log.py LOG --select stage=eom --keys tx,queue,... --numbers rcpts,score
"""
import argparse
import json
import sys


def strict_object(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in %r" % keys)
    return dict(pairs)


def reject_constant(name):
    raise ValueError("non-JSON constant %s" % name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--select", required=True)
    ap.add_argument("--keys", required=True)
    ap.add_argument("--numbers", default="")
    a = ap.parse_args()
    sel_key, sel_value = a.select.split("=", 1)
    keys = [k for k in a.keys.split(",") if k]
    numbers = {k for k in a.numbers.split(",") if k}
    decoder = json.JSONDecoder(object_pairs_hook=strict_object, parse_constant=reject_constant)
    selected = 0
    with open(a.log, "rb") as f:
        for n, raw in enumerate(f, 1):
            line = raw.decode("utf-8")  # invalid UTF-8 raises: also a failure
            if not line.strip():
                continue
            try:
                obj, end = decoder.raw_decode(line)
                if line[end:].strip():
                    raise ValueError("text after the object")
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
            except ValueError as e:
                print("%s:%d: not one JSON object (%s): %s" % (a.log, n, e, line.rstrip()), file=sys.stderr)
                return 1
            if str(obj.get(sel_key)) != sel_value:
                continue
            selected += 1
            for k in keys:
                v = obj.get(k)
                ok = (isinstance(v, (int, float)) and not isinstance(v, bool)) if k in numbers \
                    else isinstance(v, str) and v != ""
                if not ok:
                    print("%s:%d: key %r missing or of the wrong type: %s" % (a.log, n, k, line.rstrip()),
                          file=sys.stderr)
                    return 1
            print(json.dumps(obj, sort_keys=True, separators=(",", ":")))
    if selected == 0:
        print("%s: no line with %s" % (a.log, a.select), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
