#!/usr/bin/env python3
"""Checks schemas/vectors/protocol-v1.json with an implementation independent of ours:
python3-msgpack decodes every vector, python3-jsonschema checks it against
schemas/protocol-v1.schema.json, and valid vectors must re-encode byte for byte.

usage: check_vectors.py SCHEMAS_DIR     (exit 0 when every check passes)
"""
import json
import sys

import jsonschema
import msgpack


def main(schemas_dir):
    schema = json.load(open(f"{schemas_dir}/protocol-v1.schema.json"))
    vectors = json.load(open(f"{schemas_dir}/vectors/protocol-v1.json"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = []

    def unpack(hexdigits):
        return msgpack.unpackb(bytes.fromhex(hexdigits), raw=False, strict_map_key=True)

    for v in vectors["valid"] + vectors["compatible"]:
        obj = unpack(v["hex"])
        errors = [e.message for e in validator.iter_errors(obj)]
        if errors:
            failures.append(f"{v['name']}: schema rejects a valid vector: {errors}")
        if v in vectors["valid"]:
            again = msgpack.packb(obj, use_bin_type=True).hex()
            if again != v["hex"]:
                failures.append(f"{v['name']}: re-encoding differs\n  {v['hex']}\n  {again}")
            if obj["type"] != v["type"]:
                failures.append(f"{v['name']}: type {obj['type']} != {v['type']}")

    for v in vectors["invalid"]:
        try:
            obj = unpack(v["hex"])
        except Exception:  # noqa: BLE001 - any decode failure is the expected refusal
            continue
        if validator.is_valid(obj):
            failures.append(f"{v['name']}: an invalid vector passes the schema")

    counts = {k: len(vectors[k]) for k in ("valid", "invalid", "compatible")}
    for f in failures:
        print("FAIL", f)
    print(f"checked {counts}: {len(failures)} failures")
    return 1 if failures or counts["valid"] == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "schemas"))
