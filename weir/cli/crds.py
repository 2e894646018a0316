"""``weir crds``: print the CustomResourceDefinitions of the Flux kinds weir serves."""

from __future__ import annotations

import enum
import sys
from typing import Annotated

import typer

from weir.api.crds import render


class CrdFormat(enum.StrEnum):
    yaml = "yaml"
    json = "json"


def crds(
    output: Annotated[
        CrdFormat, typer.Option("-o", "--output", help="Multi-document YAML or a JSON List.")
    ] = CrdFormat.yaml,
) -> None:
    """Print the CRDs (GitRepository, Kustomization, HelmRelease, ...) generated from the
    models; `weir crds | kubectl apply --server-side -f -` installs them."""
    sys.stdout.write(render("json" if output is CrdFormat.json else "yaml"))
