"""``weir build rset -f rset.yaml [--inputs-from inputs.yaml] [--inputs-from-provider rsip.yaml]``:
the objects a ResourceSet generates, rendered offline as the Flux Operator renders them (like
``flux-operator build rset``), printed as multi-document YAML or a JSON ``List``.

``--inputs-from`` replaces ``spec.inputs`` with a YAML list of input sets;
``--inputs-from-provider`` gives the ResourceSetInputProviders that ``spec.inputsFrom``
selects (their ``status.exportedInputs``, or a Static provider's ``defaultValues``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from weir.errors import ConfigError, UsageError
from weir.types import Obj


def _read(path: Path | str, what: str) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        raise UsageError(f"invalid {what} {str(path)!r}: no such file") from None
    except OSError as e:
        raise UsageError(f"cannot read {what} {str(path)!r}: {e.strerror or e}") from e


def _docs(text: str, what: str) -> list[Any]:
    from weir.operator.gotemplate.goyaml import load_all  # noqa: PLC0415

    try:
        return [d for d in load_all(text) if d is not None]
    except Exception as e:
        raise ConfigError(f"cannot parse {what}: {' '.join(str(e).split())}") from e


def _validation_message(e: ValidationError) -> str:
    first = e.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def load_resourceset(path: Path | str) -> Any:
    """The ResourceSet in a file (the first one if there are several documents)."""
    from weir.api.resourceset import ResourceSet  # noqa: PLC0415

    docs = _docs(_read(path, "filename"), str(path))
    found = [d for d in docs if isinstance(d, dict) and d.get("kind") == "ResourceSet"]
    if not found:
        raise ConfigError(f"{path} has no ResourceSet (kind: ResourceSet)")
    try:
        return ResourceSet.model_validate(found[0])
    except ValidationError as e:
        raise ConfigError(f"invalid ResourceSet in {path}: {_validation_message(e)}") from e


def load_inputs(path: Path | str) -> list[Obj]:
    """A YAML list of input sets (what ``spec.inputs`` holds)."""
    docs = _docs(_read(path, "inputs file"), str(path))
    if len(docs) == 1 and isinstance(docs[0], list):
        items = docs[0]
    elif len(docs) == 1 and isinstance(docs[0], dict) and isinstance(docs[0].get("inputs"), list):
        items = docs[0]["inputs"]
    else:
        raise ConfigError(f"{path} must hold a YAML list of input sets (maps)")
    if not all(isinstance(i, dict) for i in items):
        raise ConfigError(f"{path} must hold a YAML list of input sets (maps)")
    return items


def load_providers(paths: list[str]) -> list[Any]:
    """Every ResourceSetInputProvider in the given files."""
    from weir.api.resourceset import ResourceSetInputProvider  # noqa: PLC0415

    providers = []
    for path in paths:
        for doc in _docs(_read(path, "provider file"), path):
            if not isinstance(doc, dict) or doc.get("kind") != "ResourceSetInputProvider":
                continue
            try:
                providers.append(ResourceSetInputProvider.model_validate(doc))
            except ValidationError as e:
                name = (doc.get("metadata") or {}).get("name", "?")
                raise ConfigError(
                    f"invalid ResourceSetInputProvider {name} in {path}: {_validation_message(e)}"
                ) from e
    return providers


def build(
    filename: str | None,
    inputs_from: str | None,
    inputs_from_provider: list[str] | None,
    namespace: str | None,
) -> tuple[list[tuple[str, Obj]], Any]:
    """Render; returns (step name, object) pairs in apply order and the rendering."""
    from weir.operator.resourceset import (  # noqa: PLC0415
        render_resourceset,
        select_providers,
    )

    if not filename:
        raise UsageError("--filename is required: weir build rset -f rset.yaml")
    rset = load_resourceset(filename)
    if namespace:
        rset.metadata.namespace = namespace
    elif not rset.metadata.namespace:
        rset.metadata.namespace = "default"
    providers: list[Any] = []
    if inputs_from:
        rset.spec.inputs = load_inputs(inputs_from)
    if rset.spec.inputs_from:
        if inputs_from_provider:
            for p in (candidates := load_providers(inputs_from_provider)):
                if not p.metadata.namespace:
                    p.metadata.namespace = rset.metadata.namespace
            providers = select_providers(rset, candidates)
        elif not inputs_from:
            raise UsageError(
                "ResourceSet has '.spec.inputsFrom', please provide the inputs with "
                "--inputs-from (a list of input sets) or --inputs-from-provider "
                "(ResourceSetInputProvider manifests)"
            )
    rendering = render_resourceset(rset, providers)
    pairs = [(step.name, obj) for step in rendering.steps for obj in step.objects]
    if not pairs:
        raise ConfigError("no objects were generated")
    return pairs, rendering


def to_yaml(pairs: list[tuple[str, Obj]]) -> str:
    """``---`` separated documents, ``# step: <name>`` before the first object of a step."""
    from weir.operator.gotemplate.goyaml import dump  # noqa: PLC0415

    out: list[str] = []
    last_step: str | None = None
    for step, obj in pairs:
        out.append("---\n")
        if step and step != last_step:
            out.append(f"# step: {step}\n")
        last_step = step
        out.append(dump(obj))
    return "".join(out)
