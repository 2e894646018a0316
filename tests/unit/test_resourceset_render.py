# ruff: noqa: E501 -- tables of templates and their expected output read best unwrapped
"""Offline ResourceSet rendering: the examples of the Flux Operator's ResourceSet
documentation and its CLI test data, with the objects the documentation says they produce
(ids computed as the operator computes them: adler32 of the permutation's parts)."""

from __future__ import annotations

import zlib

import pytest

from weir.api.resourceset import ResourceSet, ResourceSetInputProvider
from weir.operator.gotemplate.goyaml import load, load_all
from weir.operator.resourceset import (
    PermutationLimitError,
    RenderError,
    RenderOptions,
    combine_inputs,
    missing_providers,
    normalize_key,
    object_directives,
    render_resourceset,
    select_providers,
)
from weir.types import Obj


def rset(text: str) -> ResourceSet:
    return ResourceSet.model_validate(load(text))


def providers(text: str) -> list[ResourceSetInputProvider]:
    return [ResourceSetInputProvider.model_validate(d) for d in load_all(text) if d]


def names(objects: list[Obj]) -> list[str]:
    return [
        f"{o['kind']}/{o['metadata'].get('namespace', '')}/{o['metadata']['name']}" for o in objects
    ]


PODINFO = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata: {name: podinfo, namespace: default}
spec:
  commonMetadata:
    labels:
      app.kubernetes.io/name: podinfo
  inputs:
    - tenant: "team1"
      app: {version: "6.7.x", replicas: 2}
    - tenant: "team2"
      app: {version: "6.6.x", replicas: 3}
  resources:
    - apiVersion: source.toolkit.fluxcd.io/v1
      kind: OCIRepository
      metadata:
        name: podinfo-<< inputs.tenant >>
        namespace: default
      spec:
        interval: 10m
        url: oci://ghcr.io/stefanprodan/charts/podinfo
        ref:
          semver: << inputs.app.version | quote >>
    - apiVersion: helm.toolkit.fluxcd.io/v2
      kind: HelmRelease
      metadata:
        name: podinfo-<< inputs.tenant >>
        namespace: default
      spec:
        interval: 1h
        releaseName: podinfo-<< inputs.tenant >>
        chartRef: {kind: OCIRepository, name: podinfo-<< inputs.tenant >>}
        values:
          replicaCount: << inputs.app.replicas | int >>
"""


def test_the_documentation_example() -> None:
    objects = render_resourceset(rset(PODINFO)).objects
    # each template for every input set, in that order
    assert names(objects) == [
        "OCIRepository/default/podinfo-team1",
        "OCIRepository/default/podinfo-team2",
        "HelmRelease/default/podinfo-team1",
        "HelmRelease/default/podinfo-team2",
    ]
    assert objects[0]["spec"]["ref"] == {"semver": "6.7.x"}
    assert objects[3]["spec"]["values"] == {"replicaCount": 3}  # an integer, not "3"
    assert objects[2]["metadata"]["labels"] == {
        "app.kubernetes.io/name": "podinfo",
        "resourceset.fluxcd.controlplane.io/name": "podinfo",
        "resourceset.fluxcd.controlplane.io/namespace": "default",
    }


def test_shared_objects_are_rendered_once() -> None:
    text = PODINFO.replace(
        "name: podinfo-<< inputs.tenant >>\n        namespace: default\n      spec:\n        interval: 10m",
        "name: podinfo\n        namespace: default\n      spec:\n        interval: 10m",
        1,
    )
    objects = render_resourceset(rset(text)).objects
    assert names(objects)[0] == "OCIRepository/default/podinfo"
    assert len(objects) == 3


def test_conditional_exclusion_with_the_reconcile_annotation() -> None:
    text = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata: {name: tenants, namespace: default}
spec:
  inputs: [{tenant: team1}, {tenant: team2}]
  resources:
    - apiVersion: v1
      kind: Namespace
      metadata: {name: << inputs.tenant >>}
    - apiVersion: v1
      kind: ServiceAccount
      metadata:
        name: flux
        namespace: << inputs.tenant >>
        annotations:
          fluxcd.controlplane.io/reconcile: << if eq inputs.tenant "team1" >>enabled<< else >>disabled<< end >>
"""
    assert names(render_resourceset(rset(text)).objects) == [
        "Namespace//team1",
        "Namespace//team2",
        "ServiceAccount/team1/flux",
    ]


BUNDLES = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata: {name: bundles, namespace: flux-system}
spec:
  inputs:
    - bundle: addons
      decryption: false
      components: [ingress-nginx, cert-manager]
    - bundle: apps
      decryption: true
      components: [frontend, backend]
  resourcesTemplate: |
    ---
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: OCIRepository
    metadata:
      name: << inputs.bundle >>
      namespace: flux-system
    spec:
      interval: 10m
      url: oci://registry.example.com/<< inputs.bundle >>
    <<- range $component := inputs.components >>
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata:
      name: << $component >>
      namespace: flux-system
    spec:
      interval: 1h
      prune: true
      <<- if inputs.decryption >>
      decryption:
        provider: sops
        secretRef:
          name: << inputs.bundle >>-sops
      <<- end >>
      sourceRef:
        kind: OCIRepository
        name: << inputs.bundle >>
      path: ./<< $component >>
    <<- end >>
"""


def test_resources_template_with_range_and_if() -> None:
    objects = render_resourceset(rset(BUNDLES)).objects
    assert names(objects) == [
        "OCIRepository/flux-system/addons",
        "Kustomization/flux-system/ingress-nginx",
        "Kustomization/flux-system/cert-manager",
        "OCIRepository/flux-system/apps",
        "Kustomization/flux-system/frontend",
        "Kustomization/flux-system/backend",
    ]
    assert "decryption" not in objects[1]["spec"]
    assert objects[4]["spec"]["decryption"] == {
        "provider": "sops",
        "secretRef": {"name": "apps-sops"},
    }
    assert objects[5]["spec"]["path"] == "./backend"


def test_resources_win_over_the_template_on_duplicates() -> None:
    text = BUNDLES.replace(
        "  resourcesTemplate:",
        """  resources:
    - apiVersion: source.toolkit.fluxcd.io/v1
      kind: OCIRepository
      metadata: {name: apps, namespace: flux-system}
      spec: {interval: 5m, url: oci://other/apps}
  resourcesTemplate:""",
    )
    objects = render_resourceset(rset(text)).objects
    assert names(objects)[0] == "OCIRepository/flux-system/apps"
    assert objects[0]["spec"]["url"] == "oci://other/apps"
    assert len(objects) == 6


COLORS = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata: {name: color-environments, namespace: test}
spec:
  inputStrategy: {name: Permute}
  inputs: [{id: blue}, {id: green}, {id: red}, {id: yellow}]
  inputsFrom:
    - selector:
        matchLabels: {fluxcd.controlplane.io/role: provisioning}
  resourcesTemplate: |
    <<- $id := inputs.team1_apps.id >>
    <<- $tenant := inputs.team1_apps.tenantName >>
    <<- range $app := inputs.team1_apps.applications >>
    <<- $appName := $app.name >>
    <<- range $env := $app.envs >>
    ---
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: OCIRepository
    metadata:
      name: << $appName >>
      namespace: << $tenant >>-<< $env.name >>-<< inputs.color_environments.id >>
      annotations:
        permutation-id: << inputs.id | quote >>
        fluxcd.controlplane.io/id: << $id | quote >>
    spec:
      interval: 10m
      url: oci://registry.example.com/<< $appName >>
      ref:
        tag: << $env.version >>
    <<- end >>
    <<- end >>
"""
TEAM1_APPS = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSetInputProvider
metadata:
  name: team1-apps
  namespace: test
  labels: {fluxcd.controlplane.io/role: provisioning}
spec:
  type: Static
  defaultValues:
    tenantName: team1
    applications:
      - name: app1
        envs:
          - {name: staging, version: v1.0.1}
          - {name: production, version: v1.0.0}
---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSetInputProvider
metadata: {name: unrelated, namespace: test}
spec: {type: Static, defaultValues: {x: 1}}
"""


def test_permute_nests_each_source_and_ids_every_permutation() -> None:
    rs = rset(COLORS)
    chosen = select_providers(rs, providers(TEAM1_APPS))
    assert [p.name for p in chosen] == ["team1-apps"]
    objects = render_resourceset(rs, chosen).objects
    assert [o["metadata"]["namespace"] for o in objects] == [
        f"team1-{env}-{color}"
        for color in ("blue", "green", "red", "yellow")
        for env in ("staging", "production")
    ]
    # the Flux Operator's CLI test data gives these ids for this ResourceSet
    assert objects[0]["metadata"]["annotations"] == {
        "fluxcd.controlplane.io/id": "340788154",  # Static: adler32 of its name offline
        "permutation-id": "3776973979",  # adler32("color_environments=0/team1_apps=0")
    }
    assert [o["metadata"]["annotations"]["permutation-id"] for o in objects[::2]] == [
        "3776973979",
        "3777891484",
        "3778808989",
        "3779726494",
    ]
    assert objects[1]["spec"]["ref"] == {"tag": "v1.0.0"}


def test_flatten_concatenates_and_adds_the_provider_reference() -> None:
    rs = rset("""
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata: {name: apps, namespace: apps}
spec:
  inputs: [{tenant: inline, id: my-id}]
  inputsFrom: [{name: b-provider}, {name: a-provider}]
  resources: []
""")
    rsips = providers("""
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSetInputProvider
metadata: {name: b-provider, namespace: apps}
spec: {type: GitHubPullRequest, url: https://github.com/o/r}
status:
  exportedInputs:
    - {id: "4", branch: feat/x, sha: abc}
---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSetInputProvider
metadata: {name: a-provider, namespace: apps, uid: 6a1b}
spec: {type: Static, defaultValues: {tenant: static}}
""")
    sets = combine_inputs(rs, select_providers(rs, rsips))
    assert [s["id"] for s in sets] == ["my-id", str(zlib.adler32(b"6a1b")), "4"]
    assert sets[0]["provider"] == {
        "apiVersion": "fluxcd.controlplane.io/v1",
        "kind": "ResourceSet",
        "name": "apps",
        "namespace": "apps",
    }
    assert sets[2]["provider"]["kind"] == "ResourceSetInputProvider"
    assert sets[2]["provider"]["name"] == "b-provider"


def test_permutations_past_the_cap_are_refused() -> None:
    rs = rset("""
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata: {name: big, namespace: default}
spec:
  inputStrategy: {name: Permute}
  inputs: [{a: 1}, {a: 2}, {a: 3}]
  inputsFrom: [{name: many}]
""")
    many = ResourceSetInputProvider.model_validate(
        {
            "apiVersion": "fluxcd.controlplane.io/v1",
            "kind": "ResourceSetInputProvider",
            "metadata": {"name": "many", "namespace": "default"},
            "spec": {"type": "OCIArtifactTag", "url": "oci://r/x"},
            "status": {"exportedInputs": [{"id": str(i)} for i in range(4000)]},
        }
    )
    with pytest.raises(PermutationLimitError) as info:
        render_resourceset(rs, [many])
    assert str(info.value) == (
        "failed to get inputs from ResourceSetInputProvider/many: adding provider 'many' with "
        "4000 inputs would exceed the maximum allowed permutations. max: 10000, got: 12000"
    )
    assert len(combine_inputs(rs, [many], max_permutations=20000)) == 12000


def test_normalized_names() -> None:
    assert normalize_key("My-RSet.v2 (beta)") == "my_rset_v2_beta"
    assert normalize_key("--") == ""


def test_template_errors_say_where() -> None:
    text = PODINFO.replace(
        "replicaCount: << inputs.app.replicas | int >>", "replicaCount: << inputs.app.nope >>"
    )
    with pytest.raises(RenderError) as info:
        render_resourceset(rset(text))
    assert str(info.value) == (
        "failed to build resources[1]: failed to execute template: template: resourceset:13:21: "
        'executing "resourceset" at <inputs>: map has no entry for key "nope"'
    )
    bad = PODINFO.replace(
        "<< inputs.tenant >>\n        namespace", "<< inputs.tenant\n        namespace", 1
    )
    with pytest.raises(
        RenderError, match=r"failed to build resources\[0\]: failed to parse template"
    ):
        render_resourceset(rset(bad))


def test_without_inputs_templates_render_once() -> None:
    text = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata: {name: plain, namespace: default}
spec:
  resources:
    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: cm}
      data: {list: '<< len (list 1 2) >>'}
"""
    [obj] = render_resourceset(rset(text)).objects
    assert obj["data"] == {"list": 2}


def test_yaml_is_read_as_kubernetes_reads_it() -> None:
    text = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata: {name: yaml-rules, namespace: default}
spec:
  inputs: [{v: "y", port: "8080:80"}]
  resources:
    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: cm}
      data:
        quotedYes: "yes"
        rendered: << inputs.v >>
        port: << inputs.port >>
        big: << 1e3 >>
"""
    [obj] = render_resourceset(rset(text)).objects
    # "yes" stays a string (quoted when converted to YAML); a rendered y is go-yaml's true;
    # 8080:80 is not a base-60 number; 1e3 is a number
    assert obj["data"] == {"quotedYes": "yes", "rendered": True, "port": "8080:80", "big": 1000}


def test_steps_render_in_order_and_refuse_cross_step_duplicates() -> None:
    text = """
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata: {name: s, namespace: default}
spec:
  inputs: [{app: a}]
  steps:
    - name: crds
      resources:
        - {apiVersion: v1, kind: ConfigMap, metadata: {name: << inputs.app >>-1}}
    - name: apps
      timeout: 2m
      resourcesTemplate: |
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: << inputs.app >>-2}
"""
    rendering = render_resourceset(rset(text))
    assert [(s.name, s.timeout, names(s.objects)) for s in rendering.steps] == [
        ("crds", None, ["ConfigMap//a-1"]),
        ("apps", "2m", ["ConfigMap//a-2"]),
    ]
    with pytest.raises(
        RenderError,
        match='duplicate resource ConfigMap/a-1 in step "apps", already defined in step "crds"',
    ):
        render_resourceset(rset(text.replace("<< inputs.app >>-2", "<< inputs.app >>-1")))


def test_object_bounds() -> None:
    with pytest.raises(RenderError, match="more than 3 objects"):
        render_resourceset(rset(BUNDLES), options=RenderOptions(max_objects=3))


def test_object_directives() -> None:
    obj: Obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "s",
            "namespace": "team1",
            "annotations": {
                "fluxcd.controlplane.io/copyFrom": "flux-system/docker-auth",
                "fluxcd.controlplane.io/force": "enabled",
                "fluxcd.controlplane.io/prune": "disabled",
                "fluxcd.controlplane.io/checksumFrom": "ConfigMap/a/b, Secret/c/d",
                "kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent",
            },
        },
    }
    d = object_directives(obj)
    assert d.copy_from == ("flux-system", "docker-auth")
    assert d.force
    assert not d.prune
    assert d.ssa == "IfNotPresent"
    assert d.checksum_from == (("ConfigMap", "a", "b"), ("Secret", "c", "d"))
    obj["metadata"]["annotations"]["fluxcd.controlplane.io/copyFrom"] = "no-namespace"
    with pytest.raises(RenderError, match="expected namespace/name"):
        object_directives(obj)


def test_missing_providers_names_only_the_named_ones_not_in_the_namespace() -> None:
    rs = rset("""
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSet
metadata: {name: apps, namespace: apps}
spec:
  inputsFrom:
    - {kind: ResourceSetInputProvider, name: here}
    - {kind: ResourceSetInputProvider, name: elsewhere}
    - {kind: ResourceSetInputProvider, selector: {matchLabels: {team: a}}}
  resources: []
""")
    found = providers("""
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSetInputProvider
metadata: {name: here, namespace: apps}
spec: {type: Static}
---
apiVersion: fluxcd.controlplane.io/v1
kind: ResourceSetInputProvider
metadata: {name: elsewhere, namespace: other}
spec: {type: Static}
""")
    assert missing_providers(rs, found) == ["ResourceSetInputProvider/apps/elsewhere"]
    assert missing_providers(rs, []) == [
        "ResourceSetInputProvider/apps/here",
        "ResourceSetInputProvider/apps/elsewhere",
    ]
