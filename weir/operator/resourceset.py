"""Offline rendering of a ResourceSet, as the Flux Operator builds it: input sets combined
(``Flatten`` or ``Permute``, each with its ``id`` and ``provider``), every ``resources`` entry
and the ``resourcesTemplate`` rendered per input set with Go templates (``<< >>``,
``missingkey=error``), objects excluded by ``fluxcd.controlplane.io/reconcile: disabled``,
deduplicated, and labelled with ``commonMetadata`` and the owner labels.

A reconciler calls :func:`render_resourceset` with the ResourceSet and the providers its
``inputsFrom`` selects (:func:`select_providers`); errors are :class:`RenderError`
(``Ready=False``, reason ``BuildFailed``) or its subclass :class:`PermutationLimitError`
(``Stalled``). Nothing here touches a cluster.
"""

from __future__ import annotations

import copy
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from weir.api.resourceset import (
    API_VERSION,
    ResourceSet,
    ResourceSetInputProvider,
)
from weir.errors import ConfigError
from weir.kube.labels import selector_matches
from weir.operator.gotemplate import Func, Limits, Template, TemplateError
from weir.operator.gotemplate.goyaml import dump, load_all, to_json_value
from weir.operator.gotemplate.sprig import FUNCS
from weir.operator.gotemplate.values import Int64
from weir.types import Obj

GROUP = "fluxcd.controlplane.io"
TEMPLATE_NAME = "resourceset"
DELIMS = ("<<", ">>")
MAX_PERMUTATIONS = 10_000
MAX_OBJECTS = 10_000

RECONCILE_ANNOTATION = f"{GROUP}/reconcile"
FORCE_ANNOTATION = f"{GROUP}/force"
PRUNE_ANNOTATION = f"{GROUP}/prune"
COPY_FROM_ANNOTATION = f"{GROUP}/copyFrom"
CONVERT_KUBECONFIG_ANNOTATION = f"{GROUP}/convertKubeConfigFrom"
CHECKSUM_FROM_ANNOTATION = f"{GROUP}/checksumFrom"
SSA_ANNOTATION = "kustomize.toolkit.fluxcd.io/ssa"
DISABLED = "disabled"
ENABLED = "enabled"
OWNER_NAME_LABEL = f"resourceset.{GROUP}/name"
OWNER_NAMESPACE_LABEL = f"resourceset.{GROUP}/namespace"


class RenderError(ConfigError):
    """The ResourceSet cannot be rendered (a template, an input or an object is wrong):
    ``Ready=False`` with reason ``BuildFailed``; the objects applied before stay."""


class PermutationLimitError(RenderError):
    """``Permute`` would produce more input sets than allowed (``Stalled``)."""


@dataclass(frozen=True)
class RenderOptions:
    """Bounds and switches of one rendering."""

    max_permutations: int = MAX_PERMUTATIONS
    """Most input sets ``Permute`` may produce (the Flux Operator's 10000)."""
    max_objects: int = MAX_OBJECTS
    """Most objects a rendering may produce (both strategies)."""
    limits: Limits = field(default_factory=Limits)
    """Bounds on each template execution (output size, steps, depth)."""
    owner_labels: bool = True
    """Add ``resourceset.fluxcd.controlplane.io/name|namespace`` as the operator does."""


@dataclass
class RenderedStep:
    """The objects of one step (the whole ResourceSet is one unnamed step without steps)."""

    name: str
    objects: list[Obj]
    timeout: str | None = None


@dataclass
class Rendering:
    """The result: the combined input sets and the objects, per step, in apply order."""

    inputs: list[Obj]
    steps: list[RenderedStep]

    @property
    def objects(self) -> list[Obj]:
        return [o for step in self.steps for o in step.objects]


# ----------------------------------------------------------------------------- ids and values
def input_id(text: str) -> str:
    """The Flux Operator's input id: the adler32 checksum of ``text``, in decimal."""
    return str(zlib.adler32(text.encode()))


def to_go(value: Any) -> Any:
    """JSON values as Kubernetes' decoder gives them to Go: integers are ``int64``."""
    if isinstance(value, dict):
        return {str(k): to_go(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_go(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return Int64(value)
    return value


def normalize_key(name: str) -> str:
    """The key a ``Permute`` source's input sets are nested under: lower case, spaces and
    punctuation as ``_``, other characters dropped, runs of ``_`` collapsed."""
    import unicodedata  # noqa: PLC0415

    out: list[str] = []
    for c in name.lower():
        cat = unicodedata.category(c)
        if c.isspace() or cat.startswith("P"):
            out.append("_")
        elif ("a" <= c <= "z") or ("0" <= c <= "9"):
            out.append(c)
    return "_".join(w for w in "".join(out).split("_") if w)


# ----------------------------------------------------------------------------- providers
def selects_provider(rset: Mapping[str, Any], provider: Mapping[str, Any]) -> bool:
    """Whether ``rset``'s ``spec.inputsFrom`` selects ``provider`` (objects as JSON): the same
    namespace, and an entry naming it or a label selector its labels satisfy."""
    rset_meta = rset.get("metadata") or {}
    meta = provider.get("metadata") or {}
    if meta.get("namespace") != rset_meta.get("namespace"):
        return False
    labels = meta.get("labels") or {}
    for ref in (rset.get("spec") or {}).get("inputsFrom") or []:
        if ref.get("name") and ref.get("name") == meta.get("name"):
            return True
        selector = ref.get("selector")
        if isinstance(selector, Mapping) and selector_matches(selector, labels):
            return True
    return False


def select_providers(
    rset: ResourceSet, candidates: Iterable[ResourceSetInputProvider]
) -> list[ResourceSetInputProvider]:
    """The providers ``spec.inputsFrom`` selects among ``candidates`` (same namespace, by
    name or label selector), each once. A name that matches nothing is an error."""
    namespace = rset.namespace
    pool = [p for p in candidates if not namespace or not p.namespace or p.namespace == namespace]
    chosen: dict[str, ResourceSetInputProvider] = {}
    for ref in rset.spec.inputs_from or []:
        if ref.name is not None:
            found = [p for p in pool if p.name == ref.name]
            if not found:
                raise RenderError(
                    f"ResourceSetInputProvider/{namespace or 'default'}/{ref.name} not found: "
                    "give its manifest (with status.exportedInputs, or a Static provider)"
                )
            chosen.setdefault(ref.name, found[0])
        elif ref.selector is not None:
            for p in pool:
                selector = ref.selector.model_dump(by_alias=True, exclude_none=True)
                if selector_matches(selector, p.metadata.labels or {}):
                    chosen.setdefault(p.name, p)
    return list(chosen.values())


def provider_inputs(provider: ResourceSetInputProvider) -> list[Obj]:
    """A provider's exported input sets: ``status.exportedInputs``; for a ``Static``
    provider without status (a manifest from Git), its ``defaultValues`` with the id the
    operator gives it (adler32 of the UID; of the name offline)."""
    if provider.status is not None and provider.status.exported_inputs is not None:
        return [to_go(copy.deepcopy(i)) for i in provider.status.exported_inputs]
    if provider.spec.type == "Static":
        values = to_go(copy.deepcopy(provider.spec.default_values or {}))
        values["id"] = input_id(provider.metadata.uid or provider.name)
        return [values]
    return []


def _provider_ref(kind: str, name: str, namespace: str) -> Obj:
    return {"apiVersion": API_VERSION, "kind": kind, "name": name, "namespace": namespace}


def _rset_inputs(rset: ResourceSet) -> list[Obj]:
    sets: list[Obj] = []
    for index, raw in enumerate(rset.spec.inputs or []):
        values = to_go(copy.deepcopy(raw))
        values.setdefault("id", input_id(f"{rset.namespace}/{rset.name}/{index}"))
        sets.append(values)
    return sets


def combine_inputs(
    rset: ResourceSet,
    providers: Sequence[ResourceSetInputProvider] = (),
    *,
    max_permutations: int = MAX_PERMUTATIONS,
) -> list[Obj]:
    """The input sets the templates are rendered with, as the Flux Operator combines them:
    the ResourceSet's own first, then the providers sorted by kind, namespace and name."""
    ordered = sorted(providers, key=lambda p: (p.namespace, p.name))
    sources: list[tuple[str, str, list[Obj]]] = []
    for kind, name, namespace, sets in (
        ("ResourceSet", rset.name, rset.namespace, _rset_inputs(rset)),
        *(("ResourceSetInputProvider", p.name, p.namespace, provider_inputs(p)) for p in ordered),
    ):
        for s in sets:
            s["provider"] = _provider_ref(kind, name, namespace)
        sources.append((kind, name, sets))
    strategy = rset.spec.input_strategy.name if rset.spec.input_strategy else "Flatten"
    if strategy == "Flatten":
        return [s for _, _, sets in sources for s in sets]
    include_empty = bool(
        rset.spec.input_strategy and rset.spec.input_strategy.include_empty_providers
    )
    scoped: list[tuple[str, list[Obj]]] = []
    expected = 0
    for kind, name, sets in sources:
        if not sets and not include_empty:
            continue
        expected = len(sets) if not scoped else expected * len(sets)
        if expected > max_permutations:
            raise PermutationLimitError(
                f"failed to get inputs from {kind}/{name}: adding provider '{name}' with "
                f"{len(sets)} inputs would exceed the maximum allowed permutations. "
                f"max: {max_permutations}, got: {expected}"
            )
        key = normalize_key(name)
        if not key:
            raise RenderError(
                f"failed to get inputs from {kind}/{name}: normalized provider name is "
                f"empty: '{name}'"
            )
        scoped.append((key, sets))
    if not scoped or any(not sets for _, sets in scoped):
        return []
    permutations: list[Obj] = []
    indexes = [0] * len(scoped)
    while True:
        perm: Obj = {}
        parts: list[str] = []
        for (key, sets), i in zip(scoped, indexes, strict=True):
            perm[key] = sets[i]
            parts.append(f"{key}={i}")
        perm["id"] = input_id("/".join(parts))
        permutations.append(perm)
        pos = len(scoped) - 1
        while pos >= 0:
            indexes[pos] += 1
            if indexes[pos] < len(scoped[pos][1]):
                break
            indexes[pos] = 0
            pos -= 1
        if pos < 0:
            return permutations


# ----------------------------------------------------------------------------- templates
class _Inputs:
    """The ``inputs`` function of the templates, pointed at one input set at a time."""

    def __init__(self) -> None:
        self.current: Obj = {}

    def __call__(self) -> Obj:
        return self.current


def _new_template(text: str, inputs: _Inputs, limits: Limits) -> Template:
    funcs: dict[str, Func] = dict(FUNCS)
    funcs["inputs"] = Func("inputs", inputs, ())
    return Template(
        TEMPLATE_NAME, funcs=funcs, delims=DELIMS, missingkey="error", limits=limits
    ).parse(text)


def object_key(obj: Obj) -> str:
    """Group, kind, namespace and name: objects with the same key are the same object."""
    api_version = str(obj.get("apiVersion", ""))
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    meta = obj.get("metadata") or {}
    return "/".join(
        (group, str(obj.get("kind", "")), str(meta.get("namespace", "")), str(meta.get("name", "")))
    )


def describe(obj: Obj) -> str:
    """``Kind/namespace/name`` (``Kind/name`` for cluster-scoped objects)."""
    meta = obj.get("metadata") or {}
    parts = [str(obj.get("kind", "")), str(meta.get("namespace", "")), str(meta.get("name", ""))]
    return "/".join(p for p in parts if p)


def _check_object(doc: Any, text: str) -> Obj:
    if not isinstance(doc, dict):
        raise RenderError(f"expected a Kubernetes object, got {type(doc).__name__}: {text[:200]}")
    if not doc.get("kind"):
        import json  # noqa: PLC0415

        raise RenderError(
            f"Object 'Kind' is missing in '{json.dumps(doc, separators=(',', ':'))[:500]}'"
        )
    return doc


def _read_object(text: str) -> Obj:
    try:
        docs = [d for d in load_all(text) if d is not None]
    except Exception as e:
        raise RenderError(f"failed to read object: {_yaml_error(e)}") from e
    if not docs:
        raise RenderError("failed to read object: EOF")
    return _check_object(docs[0], text)


def _read_objects(text: str) -> list[Obj]:
    try:
        docs = [d for d in load_all(text) if d is not None]
    except Exception as e:
        raise RenderError(f"failed to read objects from multi-doc YAML: {_yaml_error(e)}") from e
    objects: list[Obj] = []
    for doc in docs:
        obj = _check_object(doc, text)
        if obj.get("kind", "").endswith("List") and isinstance(obj.get("items"), list):
            objects.extend(_check_object(item, text) for item in obj["items"])
            continue
        meta = obj.get("metadata") or {}
        is_object = bool(meta.get("name")) and bool(obj.get("apiVersion"))
        is_kustomization = obj.get("kind") == "Kustomization" and str(
            obj.get("apiVersion", "")
        ).startswith("kustomize.config.k8s.io/")
        if is_object and not is_kustomization:
            objects.append(obj)
    return objects


def _yaml_error(e: Exception) -> str:
    return " ".join(str(e).split())


def _disabled(obj: Obj) -> bool:
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    return annotations.get(RECONCILE_ANNOTATION) == DISABLED


def _render(template: Template, inputs: _Inputs, input_set: Obj | None) -> str:
    inputs.current = input_set if input_set is not None else {}
    return template.execute(None)


def build_objects(
    resources_template: str | None,
    resources: Sequence[Obj] | None,
    input_sets: Sequence[Obj],
    options: RenderOptions,
) -> list[Obj]:
    """``BuildResourceSet``: the objects of one set of templates for all input sets."""
    objects: list[Obj] = []
    keys: set[str] = set()

    def add(obj: Obj, dedup: bool) -> None:
        key = object_key(obj)
        if dedup and key in keys:
            return
        keys.add(key)
        objects.append(obj)
        if len(objects) > options.max_objects:
            raise RenderError(
                f"the ResourceSet renders more than {options.max_objects} objects; "
                "narrow its inputs or split it"
            )

    inputs = _Inputs()
    per_input: list[Obj | None] = list(input_sets) if input_sets else [None]
    for index, resource in enumerate(resources or []):
        where = f"resources[{index}]" if input_sets else "resource"
        try:
            text = dump(to_json_value(resource))
        except ValueError as e:
            raise RenderError(
                f"failed to build {where}: failed to convert template to YAML: {e}"
            ) from e
        try:
            template = _new_template(text, inputs, options.limits)
        except TemplateError as e:
            raise RenderError(f"failed to build {where}: failed to parse template: {e}") from e
        for input_set in per_input:
            try:
                rendered = _render(template, inputs, input_set)
            except TemplateError as e:
                raise RenderError(
                    f"failed to build {where}: failed to execute template: {e}"
                ) from e
            try:
                obj = _read_object(rendered)
            except RenderError as e:
                raise RenderError(f"failed to build {where}: {e}") from e
            if input_set is None:
                add(obj, dedup=False)
                continue
            if _disabled(obj):
                continue
            add(obj, dedup=True)

    if resources_template:
        try:
            template = _new_template(resources_template, inputs, options.limits)
        except TemplateError as e:
            where = "resources" if input_sets else "resource"
            raise RenderError(
                f"failed to build {where}: failed to parse multi-doc YAML template: {e}"
            ) from e
        from_template: list[Obj] = []
        for input_set in per_input:
            where = "resources" if input_set is not None else "resource"
            try:
                rendered = _render(template, inputs, input_set)
            except TemplateError as e:
                raise RenderError(
                    f"failed to build {where}: failed to execute multi-doc YAML template: {e}"
                ) from e
            try:
                from_template.extend(_read_objects(rendered))
            except RenderError as e:
                raise RenderError(f"failed to build {where}: {e}") from e
        for obj in from_template:
            if _disabled(obj):
                continue
            add(obj, dedup=True)
    return objects


def _set_metadata(
    objects: Iterable[Obj], labels: dict[str, str], annotations: dict[str, str]
) -> None:
    for obj in objects:
        meta = obj.setdefault("metadata", {})
        if labels:
            meta["labels"] = {**(meta.get("labels") or {}), **labels}
        if annotations:
            meta["annotations"] = {**(meta.get("annotations") or {}), **annotations}


def render_resourceset(
    rset: ResourceSet,
    providers: Sequence[ResourceSetInputProvider] = (),
    *,
    options: RenderOptions | None = None,
) -> Rendering:
    """Render ``rset`` with the input sets of its own inputs and of ``providers`` (those its
    ``inputsFrom`` selects; see :func:`select_providers`)."""
    options = options or RenderOptions()
    input_sets = combine_inputs(rset, providers, max_permutations=options.max_permutations)
    spec = rset.spec
    steps: list[RenderedStep] = []
    if spec.steps:
        owner: dict[str, str] = {}
        for step in spec.steps:
            try:
                objects = build_objects(
                    step.resources_template, step.resources, input_sets, options
                )
            except RenderError as e:
                raise RenderError(f'step "{step.name}": {e}') from e
            for obj in objects:
                key = object_key(obj)
                previous = owner.get(key)
                if previous is not None and previous != step.name:
                    raise RenderError(
                        f'duplicate resource {describe(obj)} in step "{step.name}", already '
                        f'defined in step "{previous}"'
                    )
                owner[key] = step.name
            steps.append(RenderedStep(step.name, objects, step.timeout))
    else:
        objects = build_objects(spec.resources_template, spec.resources, input_sets, options)
        steps.append(RenderedStep("", objects))
    all_objects = [o for s in steps for o in s.objects]
    if spec.common_metadata is not None:
        _set_metadata(
            all_objects,
            dict(spec.common_metadata.labels or {}),
            dict(spec.common_metadata.annotations or {}),
        )
    if options.owner_labels:
        _set_metadata(
            all_objects,
            {OWNER_NAME_LABEL: rset.name, OWNER_NAMESPACE_LABEL: rset.namespace},
            {},
        )
    return Rendering(inputs=input_sets, steps=steps)


# ----------------------------------------------------------------------------- directives
@dataclass(frozen=True)
class ObjectDirectives:
    """The per-object annotations the Flux Operator honours when applying an object."""

    force: bool = False
    """``fluxcd.controlplane.io/force: enabled``: recreate on immutable-field changes."""
    prune: bool = True
    """``fluxcd.controlplane.io/prune: disabled`` keeps the object out of garbage collection."""
    ssa: str | None = None
    """``kustomize.toolkit.fluxcd.io/ssa``: ``Override`` (default), ``Merge``,
    ``IfNotPresent`` or ``Ignore``."""
    copy_from: tuple[str, str] | None = None
    """``fluxcd.controlplane.io/copyFrom: namespace/name``: the ConfigMap or Secret whose data
    the object gets."""
    convert_kubeconfig_from: tuple[str, str, str] | None = None
    """``fluxcd.controlplane.io/convertKubeConfigFrom: namespace/name[:key]``."""
    checksum_from: tuple[tuple[str, str, str], ...] = ()
    """``fluxcd.controlplane.io/checksumFrom: Kind/namespace/name,...``."""


def _namespaced(value: str, what: str, obj: Obj) -> tuple[str, str]:
    parts = value.split("/")
    if len(parts) != 2 or not all(parts):
        raise RenderError(
            f"{describe(obj)}: invalid {what} annotation {value!r}: expected namespace/name"
        )
    return parts[0], parts[1]


def object_directives(obj: Obj) -> ObjectDirectives:
    """Parse and check the operator annotations of a rendered object."""
    ann = (obj.get("metadata") or {}).get("annotations") or {}
    copy_from = None
    if COPY_FROM_ANNOTATION in ann:
        if obj.get("kind") not in ("ConfigMap", "Secret"):
            raise RenderError(
                f"{describe(obj)}: {COPY_FROM_ANNOTATION} works on ConfigMaps and Secrets only"
            )
        copy_from = _namespaced(str(ann[COPY_FROM_ANNOTATION]), COPY_FROM_ANNOTATION, obj)
    convert = None
    if CONVERT_KUBECONFIG_ANNOTATION in ann:
        ref, _, key = str(ann[CONVERT_KUBECONFIG_ANNOTATION]).partition(":")
        ns, name = _namespaced(ref, CONVERT_KUBECONFIG_ANNOTATION, obj)
        convert = (ns, name, key or "value")
    checksums: list[tuple[str, str, str]] = []
    for item in filter(
        None, (s.strip() for s in str(ann.get(CHECKSUM_FROM_ANNOTATION, "")).split(","))
    ):
        parts = item.split("/")
        if len(parts) != 3 or parts[0] not in ("ConfigMap", "Secret") or not all(parts):
            raise RenderError(
                f"{describe(obj)}: invalid {CHECKSUM_FROM_ANNOTATION} entry {item!r}: expected "
                "ConfigMap/namespace/name or Secret/namespace/name"
            )
        checksums.append((parts[0], parts[1], parts[2]))
    ssa = ann.get(SSA_ANNOTATION)
    return ObjectDirectives(
        force=ann.get(FORCE_ANNOTATION) == ENABLED,
        prune=ann.get(PRUNE_ANNOTATION) != DISABLED,
        ssa=str(ssa) if ssa is not None else None,
        copy_from=copy_from,
        convert_kubeconfig_from=convert,
        checksum_from=tuple(checksums),
    )
