"""Lazy loading of ``kubernetes_asyncio``'s generated packages, for a fast ``weir`` start.

``import kubernetes_asyncio`` executes package ``__init__`` files that import every generated
API class and model (over 1,000 modules, about 2.5 s on a 2-core machine) although weir uses
a handful. :func:`install` registers the three heavy packages (``kubernetes_asyncio``,
``kubernetes_asyncio.client`` and ``kubernetes_asyncio.client.models``) as lazy modules that
import a name's own module the first time it is used. The name-to-module maps are read from the
packages' real ``__init__`` files, so every public name still resolves to the very same object;
a name the maps do not cover falls back to executing the real ``__init__``.

Nothing changes if ``kubernetes_asyncio`` was imported before :func:`install` runs.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import re
import sys
import types
from pathlib import Path
from typing import Any

_FROM = re.compile(r"^from ([\w.]+) import (\w+)(?: as (\w+))?\s*$", re.MULTILINE)
_IMPORT_AS = re.compile(r"^import ([\w.]+) as (\w+)\s*$", re.MULTILINE)
_VERSION = re.compile(r"^__version__ = [\"']([^\"']+)[\"']", re.MULTILINE)
LAZY_PACKAGES = (
    "kubernetes_asyncio",
    "kubernetes_asyncio.client",
    "kubernetes_asyncio.client.models",
)


class LazyPackage(types.ModuleType):
    """A package whose public names are imported from their own modules on first access."""

    def __init__(self, name: str, directory: Path) -> None:
        super().__init__(name)
        init = directory / "__init__.py"
        self.__file__ = str(init)
        self.__path__ = [str(directory)]
        self.__package__ = name
        spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
        spec.submodule_search_locations = [str(directory)]
        self.__spec__ = spec
        source = init.read_text()
        self._weir_source = source
        self._weir_names: dict[str, tuple[str, str]] = {}
        for module, attr, alias in _FROM.findall(source):
            if module != "__future__":
                self._weir_names[alias or attr] = (module, attr)
        for module, alias in _IMPORT_AS.findall(source):
            self._weir_names[alias] = (module, "")
        version = _VERSION.search(source)
        if version:
            self.__version__ = version.group(1)
        self._weir_loaded = False

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name.startswith("_weir"):
            raise AttributeError(name)
        target = self._weir_names.get(name)
        if target is not None:
            module, attr = target
            loaded = importlib.import_module(module)
            value = getattr(loaded, attr) if attr else loaded
        else:
            value = self._submodule_or_full_load(name)
        setattr(self, name, value)
        return value

    def _submodule_or_full_load(self, name: str) -> Any:
        try:
            return importlib.import_module(f"{self.__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{self.__name__}.{name}":
                raise
        if not self._weir_loaded:  # an unmapped name: run the real __init__ once
            self._weir_loaded = True
            code = compile(self._weir_source, str(self.__file__), "exec")
            exec(code, self.__dict__)  # the package's own __init__, as Python would run it
            if name in self.__dict__:
                return self.__dict__[name]
        raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._weir_names))


def install() -> bool:
    """Register the lazy packages; False when ``kubernetes_asyncio`` is already imported or
    missing."""
    if any(name in sys.modules for name in LAZY_PACKAGES):
        return False
    spec = importlib.util.find_spec("kubernetes_asyncio")
    if spec is None or spec.origin is None:
        return False
    root = Path(spec.origin).parent
    top = LazyPackage("kubernetes_asyncio", root)
    client = LazyPackage("kubernetes_asyncio.client", root / "client")
    models = LazyPackage("kubernetes_asyncio.client.models", root / "client" / "models")
    sys.modules[top.__name__] = top
    sys.modules[client.__name__] = client
    sys.modules[models.__name__] = models
    top.__dict__["client"] = client  # as the real __init__ binds its subpackages
    client.__dict__["models"] = models
    return True
