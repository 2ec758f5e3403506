"""Regenerate the JSON schemas kubeconform checks deploy/k8s against, offline, in this folder.

Only the kinds the manifests use are kept, one file each, named the way kubeconform looks them up
(`-schema-location 'deploy/k8s/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json'`), for
example `deployment-apps-v1.json`, `service-v1.json`, `kafkatopic-kafka-v1.json`.
tests/deploy/test_k8s_manifests.py runs the check; run this script only to move to new versions
or to add a kind, then commit the JSON files it writes.

Where each schema comes from (the versions are pinned below):

- Kubernetes (Namespace, ConfigMap, Service, Deployment, Ingress): `api/openapi-spec/swagger.json`
  of the Go module `k8s.io/kubernetes@v1.33.13`, which `go mod download -json` fetches from the Go
  module proxy (the script does it when `--kubernetes-swagger` is not given).
- Strimzi 1.2.0 (Kafka, KafkaNodePool, KafkaTopic, API kafka.strimzi.io/v1):
  `packaging/install/cluster-operator/04{0,3,5}-Crd-*.yaml` of strimzi/strimzi-kafka-operator,
  tag `1.2.0`.
- CloudNativePG 1.30.0 (Cluster, postgresql.cnpg.io/v1):
  `config/crd/bases/postgresql.cnpg.io_clusters.yaml` of cloudnative-pg/cloudnative-pg, tag
  `v1.30.0`.
- Prometheus Operator 0.93.0 (ServiceMonitor, PrometheusRule, monitoring.coreos.com/v1):
  `example/prometheus-operator-crd/monitoring.coreos.com_{servicemonitors,prometheusrules}.yaml`
  of prometheus-operator/prometheus-operator, tag `v0.93.0`.

Usage, with a clone of each operator's repository (its tags fetched; read with `git show`):

    .venv/bin/python deploy/k8s/schemas/update.py \
        --strimzi ../strimzi-kafka-operator --cnpg ../cloudnative-pg \
        --prometheus-operator ../prometheus-operator [--kubernetes-swagger swagger.json]

The conversion is the one of kubeconform's scripts/openapi2jsonschema.py (and of the
"-standalone-strict" schemas kubeconform uses by default), made self-contained: references are
inlined, every object that lists its properties refuses others (`additionalProperties: false`,
so a misspelt field is an error) unless it keeps unknown fields
(`x-kubernetes-preserve-unknown-fields`), int-or-string and quantities take a string or a
number, `nullable` allows null. Descriptions are dropped to keep the files small.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent

KUBERNETES_VERSION = "v1.33.13"
# (group, version, kind) of the built-in kinds the manifests use ("" is the core group).
KUBERNETES_KINDS = [
    ("", "v1", "Namespace"),
    ("", "v1", "ConfigMap"),
    ("", "v1", "Service"),
    ("apps", "v1", "Deployment"),
    ("networking.k8s.io", "v1", "Ingress"),
]

# option name -> (git tag, CRD files in the repository, the API version to keep)
CRDS: dict[str, tuple[str, list[str], str]] = {
    "strimzi": (
        "1.2.0",
        [
            "packaging/install/cluster-operator/040-Crd-kafka.yaml",
            "packaging/install/cluster-operator/043-Crd-kafkatopic.yaml",
            "packaging/install/cluster-operator/045-Crd-kafkanodepool.yaml",
        ],
        "v1",
    ),
    "cnpg": ("v1.30.0", ["config/crd/bases/postgresql.cnpg.io_clusters.yaml"], "v1"),
    "prometheus_operator": (
        "v0.93.0",
        [
            "example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml",
            "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml",
        ],
        "v1",
    ),
}

QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
STRING_OR_NUMBER = {"oneOf": [{"type": "string"}, {"type": "number"}]}
STRING_OR_INTEGER = {"oneOf": [{"type": "string"}, {"type": "integer"}]}


def file_name(group: str, version: str, kind: str) -> str:
    """kubeconform's `{{ .ResourceKind }}{{ .KindSuffix }}.json` for group/version, kind."""
    suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
    return f"{kind.lower()}{suffix}.json"


def convert(node: Any, definitions: dict[str, Any], in_properties: bool = False) -> Any:
    """A schema node made standalone and strict (see the module's docstring)."""
    if isinstance(node, list):
        return [convert(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    if in_properties:  # a map of property names: every value is a schema
        return {name: convert(schema, definitions) for name, schema in node.items()}
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.removeprefix("#/definitions/")
        if name == QUANTITY:
            return dict(STRING_OR_NUMBER)
        return convert(definitions[name], definitions)
    if node.get("format") == "int-or-string" or node.get("x-kubernetes-int-or-string"):
        return dict(STRING_OR_INTEGER)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("description", "example", "x-kubernetes-group-version-kind"):
            continue
        if key in ("default", "enum", "const"):  # values, not schemas
            out[key] = value
            continue
        out[key] = convert(value, definitions, in_properties=key in ("properties", "definitions"))
    if node.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def write(name: str, schema: dict[str, Any]) -> None:
    schema = {"$schema": "http://json-schema.org/schema#", **schema}
    (HERE / name).write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    print(f"wrote {name}")


def kubernetes(swagger: Path | None) -> None:
    if swagger is None:
        info = json.loads(
            subprocess.run(
                ["go", "mod", "download", "-json", f"k8s.io/kubernetes@{KUBERNETES_VERSION}"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        swagger = Path(info["Dir"]) / "api/openapi-spec/swagger.json"
    definitions: dict[str, Any] = json.loads(swagger.read_text())["definitions"]
    wanted = {(g, v, k): file_name(g, v, k) for g, v, k in KUBERNETES_KINDS}
    for definition in definitions.values():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            key = (gvk["group"], gvk["version"], gvk["kind"])
            if key in wanted:
                write(wanted.pop(key), convert(definition, definitions))
    if wanted:
        raise SystemExit(f"not in {swagger}: {sorted(wanted)}")


def crds(repository: Path, tag: str, paths: list[str], version: str) -> None:
    for path in paths:
        text = subprocess.run(
            ["git", "-C", str(repository), "show", f"{tag}:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for crd in yaml.safe_load_all(text):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            served = [v for v in spec["versions"] if v["name"] == version]
            if not served:
                raise SystemExit(f"{path}@{tag}: no version {version}")
            schema = convert(served[0]["schema"]["openAPIV3Schema"], {})
            write(file_name(spec["group"], version, spec["names"]["kind"]), schema)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubernetes-swagger", type=Path, help="swagger.json of Kubernetes")
    for option in CRDS:
        parser.add_argument(
            f"--{option.replace('_', '-')}", type=Path, required=True, help="a git clone"
        )
    args = parser.parse_args()
    for old in HERE.glob("*.json"):
        old.unlink()
    kubernetes(args.kubernetes_swagger)
    for option, (tag, paths, version) in CRDS.items():
        crds(getattr(args, option), tag, paths, version)


if __name__ == "__main__":
    main()
