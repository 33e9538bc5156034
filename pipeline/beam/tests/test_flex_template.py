"""The Flex Template's metadata lists every pipeline option, and only those, with help text."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tideline_beam.options import TidelineOptions

FLEX = Path(__file__).resolve().parents[1] / "flex"


def option_names() -> set[str]:
    parser = argparse.ArgumentParser()
    TidelineOptions._add_argparse_args(parser)
    return {a.dest for a in parser._actions if a.dest != "help"}


def test_metadata_lists_every_option_with_help():
    params = json.loads((FLEX / "metadata.json").read_text())["parameters"]
    assert {p["name"] for p in params} == option_names()
    assert all(p["helpText"] and p["label"] for p in params)


def test_the_image_runs_the_pinned_lock_and_the_generated_contracts():
    dockerfile = (FLEX / "Dockerfile").read_text()
    assert "FROM apache/beam_python3.11_sdk:2.77.0" in dockerfile
    assert "--require-hashes -r /template/requirements.lock" in dockerfile
    assert "TIDELINE_CONTRACTS_DIR=/template/contracts/generated" in dockerfile
