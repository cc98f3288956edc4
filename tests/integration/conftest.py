"""The service and store tests run on SQLite, and a focused subset of them also on PostgreSQL (issue #22;
skipped without a server or binaries, see tests/pg.py): the store's own tests, the case's life, the process
with time, consent and erasure, absences, disputes, brister, statistics, the journal and the bounded reads. The
rest are about rules above the store and would only run the same statements again (the suite must stay fast on
2 cores)."""

from __future__ import annotations

import pytest

ALSO_ON_POSTGRES = {
    "test_case_store", "test_case_lifecycle", "test_gfi_process", "test_consent_limits", "test_absence",
    "test_disputes", "test_brister_service", "test_stats_retention", "test_journal", "test_erasure_on_disk",
    "test_waiting_and_hold_now", "test_store_units", "test_filing_plan", "test_directory_handover",
    "test_handbook_fields", "test_sweep_batches", "test_store_pipeline", "test_intake", "test_store_group",
    "test_bounded_reads", "test_sweep_writes", "test_request_pruning",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" not in metafunc.fixturenames:
        return
    if any(m.args and m.args[0] == "engine" for m in metafunc.definition.iter_markers("parametrize")):
        return  # the test names its engine itself (SQLITE_ONLY)
    module = metafunc.module.__name__.rsplit(".", 1)[-1]
    metafunc.parametrize("engine", ["sqlite", "postgresql"] if module in ALSO_ON_POSTGRES else ["sqlite"])
