"""Secret values and host paths are scrubbed from messages."""

from __future__ import annotations

import base64

from weir.kustomize.redact import Scrubber


def test_secret_values_in_every_form_are_masked() -> None:
    scrub = Scrubber()
    scrub.add_secrets(['S3cr3t"P@ss', "on"])
    encoded = base64.b64encode(b'S3cr3t"P@ss').decode()
    text = f'Invalid value: "S3cr3t\\"P@ss" and S3cr3t"P@ss and {encoded}; enabled: on'
    assert scrub(text) == 'Invalid value: "***" and *** and ***; enabled: on'


def test_paths_are_cut() -> None:
    scrub = Scrubber()
    scrub.add_path("/tmp/weir-artifacts-x/", "<artifact>")
    assert scrub("open /tmp/weir-artifacts-x/sha256-1/a.yaml") == "open sha256-1/a.yaml"
    assert scrub("in /tmp/weir-artifacts-x") == "in <artifact>"


def test_conditions_are_scrubbed_in_place() -> None:
    scrub = Scrubber()
    scrub.add_secrets(["hunter22"])
    obj = {"status": {"conditions": [{"type": "Ready", "message": "bad hunter22"}]}}
    scrub.conditions(obj)
    assert obj["status"]["conditions"][0]["message"] == "bad ***"
    assert not Scrubber()
