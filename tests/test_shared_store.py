"""Several daemons sharing one PostgreSQL database split the work: a change is stored once and
alerted once, however many daemons check the page at the same moment."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from loopback import Response
from sqlalchemy import create_engine, text

from monitor.app import App
from monitor.config import load_config
from monitor.leases import Leases

DATA = Path(__file__).parent / "data" / "e2e"


@pytest.fixture
def pg_schema(postgres_url):
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def page(version: int) -> str:
    return (DATA / f"pricing_v{version}.html").read_text().replace("{{", "").replace("}}", "")


def test_two_daemons_store_and_alert_each_change_once(site, tmp_path, pg_schema):
    paths = [f"/p{i}" for i in range(6)]
    for path in paths:
        site.set(path, Response(page(1)))
    config_path = tmp_path / "rivalwatch.yaml"
    pages = "\n".join(f'      - {{url: "{site.url(p)}", kind: pricing, robots: false}}' for p in paths)
    config_path.write_text(
        f"""
storage: "{pg_schema}"
output: out
fetch: {{per_host_delay: 0, retries: 0, per_host: 8}}
detect: {{confirm_delay: 0}}
responders: {{console: false}}
competitors:
  - name: Acme
    pages:
{pages}
"""
    )
    config = load_config(config_path)

    async def both_check() -> list:
        apps = [App(config, quiet=True), App(config, quiet=True)]
        try:
            results = await asyncio.gather(*(app.check_all() for app in apps))
        finally:
            for app in apps:
                await app.aclose()
        return [o for outcomes in results for o in outcomes]

    first = asyncio.run(both_check())
    # each page's baseline is recorded by whichever daemon got there first; the other sees it
    assert sorted(o.status for o in first) == ["first"] * 6 + ["unchanged"] * 6

    for path in paths:
        site.set(path, Response(page(2)))
    second = asyncio.run(both_check())
    changed = [o for o in second if o.status == "changed"]
    assert len(changed) == 6 and {o.url for o in changed} == {site.url(p) for p in paths}
    alerts = [json.loads(line) for line in (tmp_path / "out" / "alerts.jsonl").read_text().splitlines()]
    assert sorted(a["change_id"] for a in alerts) == sorted(o.change.id for o in changed)


def test_a_lease_is_held_by_one_owner_until_it_expires_or_is_released(pg_schema, tmp_path):
    from datetime import timedelta

    from monitor.store import Store

    store = Store.open(pg_schema)
    try:
        a, b = Leases(store.engine, owner="a"), Leases(store.engine, owner="b")
        assert a.take("job", ttl=timedelta(minutes=1))
        assert not b.take("job", ttl=timedelta(minutes=1))
        assert a.take("job", ttl=timedelta(minutes=1))  # the owner may renew
        a.release("job")
        assert b.take("job", ttl=timedelta(seconds=-1))  # taken, already expired
        assert a.take("job", ttl=timedelta(minutes=1))
    finally:
        store.close()
