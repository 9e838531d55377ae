#!/usr/bin/env python3
"""yaml2json — docs/openapi.yaml as compact JSON, at build time (meson.build).

    yaml2json.py INPUT.yaml OUTPUT.json

YAML's implicit timestamps stay strings (an example date must not turn into a
Python datetime). Fails with one line when the input is not an OpenAPI 3.1 document.
Needs Debian's python3-yaml.
"""
import json
import sys

try:
    import yaml
except ImportError:
    sys.exit("yaml2json.py: needs PyYAML (Debian: apt-get install python3-yaml)")


class Loader(yaml.SafeLoader):
    pass


# keep "2026-11-27" a string: drop the timestamp resolver
Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: yaml2json.py INPUT.yaml OUTPUT.json")
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = yaml.load(f, Loader=Loader)
    if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3.1"):
        sys.exit(f"{sys.argv[1]}: not an OpenAPI 3.1 document")
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
