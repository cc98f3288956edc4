"""`gfi-bot directory sync --entra` against the local fake of Microsoft Graph and Entra sign-in, over HTTPS:
group members page by page (`@odata.nextLink`), each user's `manager`, 429 with `Retry-After`."""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import DEFAULT_DIRECTORY
from bot.directory import load_directory
from bot.directory.entra import EntraError, EntraReader
from tests.fakes.graph_api import FakeGraph

GROUP_BEROENDE = "0c9f3e52-beroende"
GROUP_PSYKIATRI = "77aa01b4-psykiatri"


def user(uid: str, name: str, mail: str | None, title: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"id": uid, "displayName": name, "mail": mail, "userPrincipalName": mail or f"{uid}@rsv.example.se",
            "jobTitle": title, "mobilePhone": None, "businessPhones": [], "accountEnabled": True, **extra}


def organisation(graph: FakeGraph) -> None:
    """Beroende in Entra: Fatima, Gustav, Sofia as before, Linnea gone, two new; Ingrid (psykiatri) manages."""
    graph.groups[GROUP_BEROENDE] = [
        user("u-fatima", "Fatima Ali", "fatima.ali@rsv.example.se", "enhetschef"),
        user("u-gustav", "Gustav Lund", "gustav.lund@rsv.example.se", "avdelningschef"),
        user("u-sofia", "Sofia Grahn", None, "sjuksköterska", userPrincipalName="sofia.grahn@rsv.example.se"),
        user("u-nora", "Nora Ekdahl", "nora.ekdahl@rsv.example.se", "kurator", businessPhones=["0450-55 10 12"]),
        user("u-emil", "Emil Åkesson", "emil.akesson@rsv.example.se", "skötare"),
        user("u-old", "Slutat Konto", "slutat@rsv.example.se", accountEnabled=False),
    ]
    graph.groups[GROUP_PSYKIATRI] = [
        user("u-ingrid", "Ingrid Vik", "ingrid.vik@rsv.example.se", "enhetschef"),
        user("u-karl", "Karl Dahl", "karl.dahl@rsv.example.se", "biträdande enhetschef"),
        user("u-yusuf", "Yusuf Kaya", "yusuf.kaya@rsv.example.se", "kurator"),
        user("u-helena", "Helena Ros", "helena.ros@rsv.example.se", "verksamhetschef psykiatri och beroende"),
        user("u-jonas", "Jonas Sjö", "jonas.sjo@rsv.example.se", "psykiatrisamordnare"),
    ]
    graph.managers.update({"u-fatima": "u-helena", "u-nora": "u-fatima", "u-emil": "u-fatima",
                           "u-ingrid": "u-helena"})
    graph.page_size = 2


async def test_reader_follows_next_links_and_waits_out_429(tmp_path: Path) -> None:
    async with FakeGraph(tmp_path) as graph:
        organisation(graph)
        graph.fail_next("members", 429, retry_after=7)
        graph.fail_next("manager", 503, times=2, retry_after=3)
        waits: list[float] = []

        async def sleep(seconds: float) -> None:  # injected: the test does not wait on wall time
            waits.append(seconds)

        async def token() -> str:
            return "fake-token"

        async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=graph.cert)) as http:
            reader = EntraReader(http, token, graph.api_url, sleep=sleep)
            told: list[tuple[int, int]] = []  # the progress a terminal shows (gfi-bot directory sync)
            people, scope = await reader.read({GROUP_BEROENDE: "beroende", GROUP_PSYKIATRI: "psykiatri"},
                                              lambda done, total: told.append((done, total)))
    assert told == [(n, 10) for n in range(1, 11)]  # one per user's manager, the bulk of the requests
    assert waits == [7.0, 3.0, 3.0]
    assert scope == {"beroende", "psykiatri"}
    by_name = {p.name: p for p in people}
    assert "Slutat Konto" not in by_name  # a disabled account is not staff
    assert len(people) == 10  # 5 + 5 over three and three pages of two
    member_pages = [c for c in graph.calls if c.path.startswith(f"/groups/{GROUP_BEROENDE}") and c.status == 200]
    assert len(member_pages) == 3
    assert by_name["Nora Ekdahl"].manager == "fatima.ali@rsv.example.se"
    assert by_name["Nora Ekdahl"].phone == "0450-55 10 12"
    assert by_name["Sofia Grahn"].email is None and by_name["Sofia Grahn"].upn == "sofia.grahn@rsv.example.se"
    assert by_name["Gustav Lund"].manager is None  # 404: no manager
    assert all(c.token == "fake-token" for c in graph.calls)


async def test_reader_gives_up_with_a_code_not_a_traceback(tmp_path: Path) -> None:
    async with FakeGraph(tmp_path) as graph:
        organisation(graph)
        graph.fail_next("members", 429, times=10, retry_after=1)

        async def token() -> str:
            return "fake-token"

        async def sleep(seconds: float) -> None:
            return None

        async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=graph.cert)) as http:
            with pytest.raises(EntraError) as exc:
                await EntraReader(http, token, graph.api_url, sleep=sleep).group_users(GROUP_BEROENDE)
    assert exc.value.code == "429 TooManyRequests"


async def run_sync(graph: FakeGraph, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GFI_", "GRAPH_", "TEAMS_"))}
    env.update({
        "SSL_CERT_FILE": str(graph.cert), "GRAPH_TENANT_ID": graph.tenant, "GRAPH_CLIENT_ID": "app-id",
        "GRAPH_CLIENT_SECRET": "app-secret", "GRAPH_API_URL": graph.api_url, "GRAPH_AUTHORITY_HOST": graph.url,
        "GFI_DB_PATH": str(tmp_path / "ingen.sqlite3"),
    })
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "directory", "sync", "--entra", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_sync_as_a_process_dry_run_then_written(tmp_path: Path) -> None:
    target = tmp_path / "katalog.yaml"
    target.write_text(DEFAULT_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    mapping = tmp_path / "grupper.yaml"
    mapping.write_text(f"groups:\n  {GROUP_BEROENDE}: beroende\n  {GROUP_PSYKIATRI}: psykiatri\n", encoding="utf-8")
    before = target.read_bytes()
    async with FakeGraph(tmp_path) as graph:
        organisation(graph)
        graph.fail_next("members", 429, retry_after=0)
        code, out, err = await run_sync(graph, tmp_path, "--groups", str(mapping), "--directory", str(target),
                                        "--dry-run")
        assert code == 0, err
        assert "Läste 10 personer ur 2 grupper i Entra ID." in out
        assert "2 tillkommer, 0 flyttar, 1 tas bort" in out
        assert "  + nora.ekdahl  Nora Ekdahl (beroende)" in out
        assert "  + emil.akesson  Emil Åkesson (beroende)" in out
        assert "  - linnea.fors  Linnea Fors (beroende)" in out
        assert "Provkörning" in out and target.read_bytes() == before
        assert graph.tokens_issued >= 1  # signed in through the fake Entra token endpoint

        code, out, err = await run_sync(graph, tmp_path, "--groups", str(mapping), "--directory", str(target))
        assert code == 0, err
    written = load_directory(target)
    nora = written.people["nora.ekdahl"]
    assert (nora.unit, nora.title, nora.manager, nora.email) == ("beroende", "kurator", "fatima.ali",
                                                                 "nora.ekdahl@rsv.example.se")
    assert written.people["fatima.ali"].manager == "helena.ros"
    assert written.people["fatima.ali"].slack_user_id == "U04FATIMA"  # kept: Entra does not carry it
    assert "linnea.fors" not in written.people
    assert written.people["david.nord"].unit == "soc-soder"  # a unit not synced is untouched


async def test_sync_without_groups_or_credentials_says_what_is_missing(tmp_path: Path) -> None:
    async with FakeGraph(tmp_path) as graph:
        code, _, err = await run_sync(graph, tmp_path, "--directory", str(DEFAULT_DIRECTORY), "--dry-run")
    assert code == 2
    assert "entra_group" in err and "--groups" in err and "Traceback" not in err
