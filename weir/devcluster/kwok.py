"""What kwok needs to fake kubelets: its Stage configuration and the fake Node objects.

The stages are weir's own minimal set: a node becomes Ready and keeps a heartbeat; a bound pod
becomes Running and Ready; a Job's pod completes; a pod being deleted is removed.
"""

from __future__ import annotations

from typing import Any

FAKE_NODE_ANNOTATION = "kwok.x-k8s.io/node"

_NODE_STATUS = """\
{{ $now := Now }}
conditions:
{{ range NodeConditions }}
- lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ or $.metadata.creationTimestamp $now | Quote }}
  message: {{ .message | Quote }}
  reason: {{ .reason | Quote }}
  status: {{ .status | Quote }}
  type: {{ .type | Quote }}
{{ end }}
addresses:
- address: {{ NodeIP | Quote }}
  type: InternalIP
- address: {{ NodeName | Quote }}
  type: Hostname
phase: Running
"""

_POD_RUNNING = """\
{{ $now := Now }}
conditions:
- {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: PodScheduled, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: ContainersReady, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: Ready, status: "True", lastTransitionTime: {{ $now | Quote }}}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: true
  started: true
  restartCount: 0
  state: {running: {startedAt: {{ $now | Quote }}}}
{{ end }}
{{ with NodeIPWith .spec.nodeName }}
hostIP: {{ . | Quote }}
{{ end }}
{{ $m := .metadata }}
{{ with PodIPWith .spec.nodeName false (or $m.uid "") (or $m.name "") (or $m.namespace "") }}
podIP: {{ . | Quote }}
{{ end }}
phase: Running
startTime: {{ $now | Quote }}
"""

_POD_SUCCEEDED = """\
{{ $now := Now }}
conditions:
- {type: Ready, status: "False", reason: PodCompleted, lastTransitionTime: {{ $now | Quote }}}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  ready: false
  started: false
  restartCount: 0
  state: {terminated: {exitCode: 0, reason: Completed, finishedAt: {{ $now | Quote }}}}
{{ end }}
phase: Succeeded
"""


def _stage(
    name: str,
    kind: str,
    expressions: list[dict[str, Any]],
    nxt: dict[str, Any],
    delay_ms: int | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "resourceRef": {"apiGroup": "v1", "kind": kind},
        "selector": {"matchExpressions": expressions},
        "next": nxt,
    }
    if delay_ms is not None:
        spec["delay"] = {"durationMilliseconds": delay_ms, "jitterDurationMilliseconds": delay_ms}
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "Stage",
        "metadata": {"name": f"weir-{name}"},
        "spec": spec,
    }


_READY = '.status.conditions.[] | select( .type == "Ready" ) | .status'


def stages() -> list[dict[str, Any]]:
    """The Stage objects kwok is started with."""
    return [
        _stage(
            "node-ready",
            "Node",
            [{"key": _READY, "operator": "NotIn", "values": ["True"]}],
            {"statusTemplate": _NODE_STATUS},
        ),
        _stage(
            "node-heartbeat",
            "Node",
            [{"key": _READY, "operator": "In", "values": ["True"]}],
            {"statusTemplate": _NODE_STATUS},
            delay_ms=20_000,
        ),
        _stage(
            "pod-running",
            "Pod",
            [
                {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
                {"key": ".status.phase", "operator": "In", "values": ["Pending"]},
            ],
            {"statusTemplate": _POD_RUNNING},
        ),
        _stage(
            "pod-job-complete",
            "Pod",
            [
                {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
                {"key": ".status.phase", "operator": "In", "values": ["Running"]},
                {"key": ".metadata.ownerReferences.[].kind", "operator": "In", "values": ["Job"]},
            ],
            {"statusTemplate": _POD_SUCCEEDED},
            delay_ms=1_000,
        ),
        _stage(
            "pod-delete",
            "Pod",
            [{"key": ".metadata.deletionTimestamp", "operator": "Exists"}],
            {"finalizers": {"empty": True}, "delete": True},
        ),
    ]


NODE_PODS = 1000
"""Pods one fake node holds."""


def node(name: str) -> dict[str, Any]:
    """A fake Node that kwok manages (selected by annotation).

    Its pods run nowhere, so it holds :data:`NODE_PODS` of them rather than a real kubelet's
    110: two nodes take the 1000 HelmReleases of a fleet-scale benchmark."""
    resources = {"cpu": "1000", "memory": "4Ti", "pods": str(NODE_PODS)}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {FAKE_NODE_ANNOTATION: "fake"},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
            },
        },
        "spec": {},
        "status": {"allocatable": resources, "capacity": resources},
    }
