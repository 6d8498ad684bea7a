#!/usr/bin/env python3
"""Builds the fuzzers' starting inputs in fuzz/target/seeds/<target>/ (git-ignored) from
../shared: libcloud's recorded answers, the examples of the providers' OpenAPI specs (or an
example built from the schema when a response has none), libvirt's test driver and freshly
generated SSH keys. `./dev fuzz` runs it before fuzzing; the small curated corpus that is
committed (and replayed by tests/fuzz_corpus.rs) lives in fuzz/corpus/<target>/.

Usage: fuzz/seed.py [SHARED_DIR]   (default: $SKYDECK_SHARED_DIR or ../shared beside the repo)
Only the Python standard library is required; PyYAML (if installed) adds the YAML specs.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
REPO = FUZZ.parent
OUT = FUZZ / "target" / "seeds"

# libcloud fixture folders per target.
FIXTURES = {
    "digitalocean_json": ["digitalocean_v2"],
    "linode_json": ["linode_v4"],
    "vultr_json": ["vultr_v2"],
    "hostvirtual_json": ["hostvirtual"],
    "ec2_xml": ["ec2", "fcu"],
}

# (spec file, path suffixes whose responses are seeds) per target: the calls Skydeck makes.
SPECS = {
    "digitalocean_json": ("digitalocean/DigitalOcean-public.v2.bundled.yaml",
                          ["/v2/droplets", "/v2/droplets/{droplet_id}", "/v2/regions", "/v2/sizes",
                           "/v2/images", "/v2/account/keys", "/v2/account/keys/{ssh_key_identifier}", "/v2/tags"]),
    "linode_json": ("linode/openapi.yaml",
                    ["/linode/instances", "/linode/instances/{linodeId}", "/regions", "/linode/types", "/images"]),
    "vultr_json": ("vultr/vultr-v2.json",
                   ["/instances", "/instances/{instance-id}", "/regions", "/plans", "/os", "/ssh-keys",
                    "/ssh-keys/{ssh-key-id}"]),
    "hetzner_json": ("hetzner/hcloud.json",
                     ["/servers", "/servers/{id}", "/images", "/locations", "/server_types", "/ssh_keys",
                      "/ssh_keys/{id}"]),
    "docker_json": ("docker/swagger.yaml", ["/containers/json", "/images/json", "/info"]),
}

HEADERS = [
    "0", "120", " 7 ", "18446744073709551615", "18446744073709551616", "-1", "1.5",
    "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT",
    "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "1700000060", "4102444800", "soon",
]


def write(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)


def load_spec(path):
    if path.suffix == ".json":
        return json.loads(path.read_text())
    try:
        import yaml  # optional: only the YAML specs need it
    except ImportError:
        print(f"  (PyYAML missing: skipping {path.name})", file=sys.stderr)
        return None
    return yaml.safe_load(path.read_text())


def resolve(spec, node, depth=0):
    while isinstance(node, dict) and "$ref" in node and depth < 50:
        cur = spec
        for part in node["$ref"].lstrip("#/").split("/"):
            cur = cur[part.replace("~1", "/").replace("~0", "~")]
        node, depth = cur, depth + 1
    return node


def synth(spec, schema, depth=0):
    """An example value built from a schema: its own example, else one built from its parts."""
    schema = resolve(spec, schema)
    if not isinstance(schema, dict) or depth > 12:
        return None
    if "example" in schema:
        return schema["example"]
    for key in ("allOf",):
        if key in schema:
            out = {}
            for part in schema[key]:
                v = synth(spec, part, depth + 1)
                if isinstance(v, dict):
                    out.update(v)
            return out
    for key in ("oneOf", "anyOf"):
        if key in schema and schema[key]:
            return synth(spec, schema[key][0], depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: synth(spec, v, depth + 1) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [synth(spec, schema.get("items", {}), depth + 1)]
    if "enum" in schema and schema["enum"]:
        return schema["enum"][0]
    return {"string": "x", "integer": 1, "number": 1.5, "boolean": True}.get(kind)


def spec_examples(spec, suffixes):
    for path, item in spec.get("paths", {}).items():
        if not any(path.endswith(s) for s in suffixes):
            continue
        for method, op in resolve(spec, item).items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for status, resp in op["responses"].items():
                resp = resolve(spec, resp)
                media = (resp.get("content") or {}).get("application/json") or {}
                if not media and "schema" in resp:  # Swagger 2 (Docker)
                    media = {"schema": resp["schema"], "examples": resp.get("examples", {})}
                found = []
                if "example" in media:
                    found.append(media["example"])
                for ex in (media.get("examples") or {}).values():
                    ex = resolve(spec, ex)
                    found.append(ex.get("value", ex) if isinstance(ex, dict) else ex)
                if not found and "schema" in media:
                    found.append(synth(spec, media["schema"]))
                for i, value in enumerate(found):
                    yield f"{method}{path}_{status}_{i}", value


def ssh_keys():
    if not shutil.which("ssh-keygen"):
        print("  (ssh-keygen missing: no generated keys)", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        for label, kind, extra in [("ed25519", "ed25519", []), ("rsa", "rsa", ["-b", "2048"]),
                                   ("ecdsa", "ecdsa", []), ("ed25519_encrypted", "ed25519", ["-N", "fuzz", "-a", "4"])]:
            f = Path(tmp) / label
            args = ["ssh-keygen", "-q", "-t", kind, "-C", "fuzz@seed", "-f", str(f)] + extra
            if "-N" not in extra:
                args += ["-N", ""]
            subprocess.run(args, check=True)
            write("ssh_key", f.name, f.read_bytes())
            write("ssh_key", f.name + ".pub", Path(f"{f}.pub").read_bytes())


def libvirt():
    if not shutil.which("virsh"):
        print("  (virsh missing: only the committed libvirt seeds)", file=sys.stderr)
        return
    for name, args in [("test_domain.xml", ["dumpxml", "test"]), ("capabilities.xml", ["capabilities"]),
                       ("test_domain_inactive.xml", ["dumpxml", "--inactive", "test"])]:
        r = subprocess.run(["virsh", "-c", "test:///default"] + args, capture_output=True)
        if r.returncode == 0:
            write("libvirt_xml", name, r.stdout)


def main():
    shared = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SKYDECK_SHARED_DIR", REPO.parent / "shared"))
    if not (shared / "fixtures").is_dir():
        sys.exit(f"seed.py: {shared}/fixtures not found; pass the shared directory as the first argument")
    if OUT.exists():
        shutil.rmtree(OUT)
    for target, dirs in FIXTURES.items():
        for d in dirs:
            for f in sorted((shared / "fixtures/libcloud" / d).glob("*")):
                write(target, f"{d}_{f.name}", f.read_bytes())
    for target, (file, suffixes) in SPECS.items():
        spec = load_spec(shared / "specs" / file)
        if spec is None:
            continue
        for name, value in spec_examples(spec, suffixes):
            body = json.dumps(value, indent=1)
            # Names from paths: keep them short and unique.
            safe = "".join(c if c.isalnum() else "_" for c in name)[:60]
            write(target, f"spec_{safe}_{hashlib.sha1(body.encode()).hexdigest()[:8]}.json", body)
    ssh_keys()
    libvirt()
    for i, h in enumerate(HEADERS):
        write("http_headers", f"header_{i}", h)
    for d in sorted(OUT.iterdir()):
        print(f"  {d.name}: {len(list(d.iterdir()))} seeds")


if __name__ == "__main__":
    main()
