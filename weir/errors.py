"""weir's exception tree. Every error a user can see derives from :class:`WeirError`.

Messages say what went wrong *and* what to do about it; causes are chained with ``raise ... from``.
"""

from __future__ import annotations


class WeirError(Exception):
    """Base of every error weir raises on purpose."""

    exit_code: int = 1


class UsageError(WeirError):
    """A flag, argument or setting is wrong."""

    exit_code = 2


class ConfigError(WeirError):
    """A configuration file or object is invalid."""


class ClusterError(WeirError):
    """The local development control plane could not be started, reached or stopped."""


class MissingBinaryError(ClusterError):
    """A binary the development control plane needs is not built yet."""


class PortInUseError(ClusterError):
    """A port asked for explicitly is taken."""


class KubeError(WeirError):
    """A call to the Kubernetes API failed."""
