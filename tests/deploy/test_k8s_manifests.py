"""The Kubernetes manifests (deploy/k8s), checked offline.

Every overlay, the base, and every overlay with the optional components is built with kustomize
(`kubectl kustomize`) and checked by kubeconform in strict mode against the JSON schemas kept in
deploy/k8s/schemas (Kubernetes' own kinds and the CRDs of Strimzi, CloudNativePG and the
Prometheus Operator; deploy/k8s/schemas/update.py regenerates them). No network: a resource
whose kind has no schema there is an error, never skipped. kubeconform is installed by
`make install` (target `kubeconform`); a missing tool fails the test, it does not skip it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
SCHEMAS = K8S / "schemas"
TOOLS = REPO / ".cache" / "bin"
# Components an overlay may add (the monitoring one needs the Prometheus Operator's CRDs).
OPTIONAL_COMPONENTS = ["monitoring"]
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())
INSTALL_KUBECONFORM = (
    "make kubeconform (that is: GOBIN=$PWD/.cache/bin go install "
    "github.com/yannh/kubeconform/cmd/kubeconform@<the Makefile's KUBECONFORM_VERSION>)"
)


def kubeconform() -> str:
    for candidate in (str(TOOLS / "kubeconform"), shutil.which("kubeconform")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(f"kubeconform is not installed: run `{INSTALL_KUBECONFORM}`")


def kustomize_build(directory: Path) -> str:
    kubectl = shutil.which("kubectl")
    if kubectl:
        command = [kubectl, "kustomize", str(directory)]
    else:
        kustomize = next(
            (
                c
                for c in (str(TOOLS / "kustomize"), shutil.which("kustomize"))
                if c and os.access(c, os.X_OK)
            ),
            None,
        )
        if kustomize is None:
            pytest.fail(
                "neither kubectl nor kustomize is installed: install kubectl, or run "
                "`make kubeconform`, which installs kustomize where kubectl is missing "
                "(GOBIN=$PWD/.cache/bin go install sigs.k8s.io/kustomize/kustomize/v5@v5.7.1)"
            )
        command = [kustomize, "build", str(directory)]
    built = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, f"{' '.join(command)} failed:\n{built.stderr}"
    return built.stdout


def check(manifests: str) -> dict[str, Any]:
    """kubeconform's JSON report on the manifests (every resource listed, with the summary)."""
    command = [
        kubeconform(),
        "-strict",
        "-summary",
        "-verbose",
        "-output",
        "json",
        "-schema-location",
        str(SCHEMAS / "{{ .ResourceKind }}{{ .KindSuffix }}.json"),
        "-",
    ]
    run = subprocess.run(command, input=manifests, capture_output=True, text=True, timeout=120)
    assert run.stdout, f"kubeconform printed nothing (exit {run.returncode}):\n{run.stderr}"
    report: dict[str, Any] = json.loads(run.stdout)
    return report


def problems(report: dict[str, Any]) -> list[str]:
    return [
        f"{r['kind']}/{r['name']} ({r['version']}): {r['status']} {r['msg']}"
        for r in report["resources"]
        if r["status"] != "statusValid"
    ]


def with_components(overlay: str, tmp_path: Path) -> Path:
    """A kustomization: the overlay plus every optional component (paths must be relative)."""
    root = tmp_path / f"{overlay}-with-components"
    root.mkdir()
    relative = Path(os.path.relpath(K8S, root))
    components = [f"  - {relative / 'components' / c}" for c in OPTIONAL_COMPONENTS]
    (root / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        f"resources:\n  - {relative / 'overlays' / overlay}\n"
        "components:\n" + "\n".join(components) + "\n"
    )
    return root


def assert_all_valid(manifests: str) -> None:
    documents = [d for d in yaml.safe_load_all(manifests) if d]
    assert documents, "kustomize built nothing"
    report = check(manifests)
    assert problems(report) == []
    summary = report["summary"]
    assert summary == {"valid": len(documents), "invalid": 0, "errors": 0, "skipped": 0}


def test_there_is_an_overlay() -> None:
    assert OVERLAYS, "no overlay under deploy/k8s/overlays"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_is_valid(overlay: str) -> None:
    assert_all_valid(kustomize_build(K8S / "overlays" / overlay))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_with_optional_components_is_valid(overlay: str, tmp_path: Path) -> None:
    manifests = kustomize_build(with_components(overlay, tmp_path))
    kinds = {d["kind"] for d in yaml.safe_load_all(manifests) if d}
    assert {"ServiceMonitor", "PrometheusRule"} <= kinds
    assert_all_valid(manifests)


def test_base_is_valid() -> None:
    assert_all_valid(kustomize_build(K8S / "base"))


def base_with(change: Callable[[list[dict[str, Any]]], None]) -> str:
    """The built base, changed by `change` (which edits its first Deployment or KafkaTopic)."""
    documents = [d for d in yaml.safe_load_all(kustomize_build(K8S / "base")) if d]
    change(documents)
    return str(yaml.safe_dump_all(documents))


def first(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(d for d in documents if d["kind"] == kind)


def misspelt_replicas(documents: list[dict[str, Any]]) -> None:
    spec = first(documents, "Deployment")["spec"]
    spec["replica"] = spec.pop("replicas", 1)


def replicas_as_text(documents: list[dict[str, Any]]) -> None:
    first(documents, "Deployment")["spec"]["replicas"] = "two"


def misspelt_container_field(documents: list[dict[str, Any]]) -> None:
    container = first(documents, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    container["imagePullPolicyy"] = "Always"


def misspelt_topic_field(documents: list[dict[str, Any]]) -> None:
    spec = first(documents, "KafkaTopic")["spec"]
    spec["partitons"] = spec.pop("partitions")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (misspelt_replicas, "additional properties 'replica' not allowed"),
        (replicas_as_text, "at '/spec/replicas': got string, want integer"),
        (misspelt_container_field, "additional properties 'imagePullPolicyy' not allowed"),
        (misspelt_topic_field, "additional properties 'partitons' not allowed"),
    ],
)
def test_a_wrong_manifest_is_invalid(
    change: Callable[[list[dict[str, Any]]], None], reason: str
) -> None:
    report = check(base_with(change))
    found = problems(report)
    assert report["summary"]["invalid"] == 1, found
    assert report["summary"]["errors"] == 0, found
    assert len(found) == 1
    assert reason in found[0]


def test_a_kind_without_schema_is_an_error_not_skipped() -> None:
    manifests = "apiVersion: example.org/v1\nkind: Widget\nmetadata:\n  name: w\n"
    report = check(manifests)
    assert report["summary"]["errors"] == 1, report
    assert report["summary"]["skipped"] == 0, report


def test_a_missing_tool_fails_with_the_command_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(globals(), "TOOLS", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match="make kubeconform"):
        kubeconform()
    with pytest.raises(pytest.fail.Exception, match=r"go install sigs\.k8s\.io/kustomize"):
        kustomize_build(K8S / "base")
