"""A directory file may be JSON (`*.json`): read with the JSON parser (10⁵ people load in seconds, YAML's parser
takes minutes, bench/bench_directory.py), written as JSON by `directory import|sync`, its errors located."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_DIRECTORY
from bot.directory.loading import load_directory
from bot.directory.model import DirectoryError
from bot.directory.writing import write_directory


def test_the_example_written_as_json_reads_back_the_same(tmp_path: Path) -> None:
    example = load_directory(DEFAULT_DIRECTORY)
    path = tmp_path / "katalog.json"
    write_directory(example.data, path, "sync")
    assert path.read_text(encoding="utf-8").startswith("{")  # JSON, no YAML comment header
    again = load_directory(path)
    assert again.data == example.data
    yaml_path = tmp_path / "katalog.yaml"
    write_directory(example.data, yaml_path, "sync")
    assert yaml_path.read_text(encoding="utf-8").startswith("# GFI-boten")
    assert load_directory(yaml_path).data == example.data


def test_a_broken_json_directory_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "katalog.json"
    path.write_text('{"principals": [],\n "units": [,]}\n', encoding="utf-8")
    with pytest.raises(DirectoryError) as caught:
        load_directory(path)
    [problem] = caught.value.problems
    assert problem.line == 2
