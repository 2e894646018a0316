"""Errors of the Helm layer: values, charts and chart repositories, the engine, drift.

::

    HelmError (weir.errors.WeirError)          .reason is a Flux condition reason
    ├── ValuesError                            values or valuesFrom cannot be composed
    │   └── ValuesReferenceError               a referenced ConfigMap/Secret or key is missing
    ├── ChartError                             a chart cannot be loaded, packaged or selected
    │   └── ChartNotFoundError                 no chart version matches the range
    ├── ChartRepositoryError                   index.yaml or chart download failed
    │   └── RepositoryAuthError                the repository refused the credentials
    ├── EngineUnavailableError                 helm-python-sdk is not installed
    ├── UnsupportedOptionError                 the engine cannot honour a spec setting
    ├── RenderError                            templates (or values schema) fail
    │   └── PostRenderError                    Flux postRenderers (kustomize) fail
    ├── ReleaseError                           a release action failed; .action says which
    │   ├── ReleaseTimeoutError                wait or hooks ran past the timeout
    │   ├── ReleaseNotFoundError               no such release or revision
    │   ├── ReleaseLockedError                 another operation holds the release (pending)
    │   └── ReleaseTestError                   a test hook failed
    └── DriftError                             drift detection could not run

``retryable`` tells the reconciler whether backing off can help (False: stall until the spec,
chart or referenced objects change).
"""

from __future__ import annotations

from weir.errors import WeirError

# Flux reasons (helm-controller api/v2/condition_types.go, source-controller reasons).
INSTALL_FAILED = "InstallFailed"
UPGRADE_FAILED = "UpgradeFailed"
TEST_FAILED = "TestFailed"
ROLLBACK_FAILED = "RollbackFailed"
UNINSTALL_FAILED = "UninstallFailed"
ARTIFACT_FAILED = "ArtifactFailed"
INIT_FAILED = "InitFailed"
INDEXATION_FAILED = "IndexationFailed"
AUTHENTICATION_FAILED = "AuthenticationFailed"
CHART_PULL_FAILED = "ChartPullFailed"
CHART_PACKAGE_FAILED = "ChartPackageFailed"
URL_INVALID = "URLInvalid"

_ACTION_REASONS = {
    "install": INSTALL_FAILED,
    "upgrade": UPGRADE_FAILED,
    "test": TEST_FAILED,
    "rollback": ROLLBACK_FAILED,
    "uninstall": UNINSTALL_FAILED,
}


class HelmError(WeirError):
    """Base of every Helm-layer error."""

    reason: str = ARTIFACT_FAILED
    retryable: bool = True


# ------------------------------------------------------------------------------- values
class ValuesError(HelmError):
    """``values``/``valuesFrom`` cannot be turned into chart values (bad YAML, bad path)."""

    reason = INIT_FAILED
    retryable = False


class ValuesReferenceError(ValuesError):
    """A ``valuesFrom`` ConfigMap/Secret, or its key, does not exist (and is not optional).

    Retryable: the object may be created later.
    """

    retryable = True


# ------------------------------------------------------------------------------- charts
class ChartError(HelmError):
    """A chart cannot be loaded, packaged or selected."""

    reason = CHART_PACKAGE_FAILED


class ChartNotFoundError(ChartError):
    """No chart (version) in the repository index matches."""

    reason = CHART_PULL_FAILED


class ChartRepositoryError(HelmError):
    """A chart repository could not be read: index.yaml or a chart download failed."""

    reason = INDEXATION_FAILED


class RepositoryAuthError(ChartRepositoryError):
    """The repository answered 401/403: the credentials are missing or wrong."""

    reason = AUTHENTICATION_FAILED


# ------------------------------------------------------------------------------- engine
class EngineUnavailableError(HelmError):
    """The Helm engine (helm-python-sdk) cannot be loaded."""

    retryable = False


class UnsupportedOptionError(HelmError):
    """The engine cannot honour a setting of the spec (the message says which and why)."""

    reason = INIT_FAILED
    retryable = False


class RenderError(HelmError):
    """The chart's templates failed to render, or the values failed its schema."""

    retryable = False

    def __init__(self, message: str, *, action: str = "install") -> None:
        super().__init__(message)
        self.action = action
        self.reason = _ACTION_REASONS.get(action, INSTALL_FAILED)


class PostRenderError(RenderError):
    """Flux ``postRenderers`` (kustomize patches, images) could not be applied."""


class ReleaseError(HelmError):
    """A release action failed; ``action`` is install, upgrade, rollback, uninstall or test."""

    def __init__(self, message: str, *, action: str = "install") -> None:
        super().__init__(message)
        self.action = action
        self.reason = _ACTION_REASONS.get(action, INSTALL_FAILED)


class ReleaseTimeoutError(ReleaseError, TimeoutError):
    """Waiting for resources or hooks ran past the action's timeout."""


class ReleaseNotFoundError(ReleaseError, LookupError):
    """The release (or the asked revision) does not exist in the storage namespace."""


class ReleaseLockedError(ReleaseError):
    """The release is pending (another install/upgrade/rollback holds it)."""


class ReleaseTestError(ReleaseError):
    """A test hook failed; ``release`` holds the release with its hooks' last runs when the
    engine could read it."""

    release: object | None = None


# -------------------------------------------------------------------------------- drift
class DriftError(HelmError):
    """Drift detection or correction failed (the API refused a dry-run or a patch)."""
