"""Objects as YAML text for the UI's spec, status and values tabs."""

from __future__ import annotations

from typing import Any

import yaml

_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def to_yaml(value: Any) -> str:
    """YAML as ``kubectl get -o yaml`` shows it (libyaml's emitter when available); "" for
    nothing."""
    if not value:
        return ""
    return yaml.dump(value, Dumper=_DUMPER, sort_keys=False, default_flow_style=False)
