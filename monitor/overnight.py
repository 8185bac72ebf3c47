"""The overnight jobs: stage battle-card updates, and write the morning digest."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from monitor.config import Config
from monitor.store import Store, utcnow
from responders.battlecards import load_proposal, stage_card_update, write_proposal
from responders.card_review import write_atomically
from responders.digest import build_digest, render_digest_alert, write_digest
from responders.digest_html import render_digest_html

log = logging.getLogger("rivalwatch.overnight")


def stage_cards(config: Config, store: Store) -> list[Path]:
    """Stage one reviewable proposal per competitor whose graded changes are not on its card yet."""
    written = []
    for competitor in config.competitors:
        if not competitor.battlecard:
            continue
        changes = store.uncarded(competitor.name)
        if not changes:
            continue
        card_path = config.path(competitor.battlecard)
        proposal = stage_card_update(
            competitor=competitor.name,
            card_path=card_path,
            card_text=card_path.read_text(encoding="utf-8"),
            changes=changes,
        )
        if proposal is None:
            continue
        path = write_proposal(proposal)
        # every change considered is settled for the card, also those too minor to propose
        store.mark_carded([cc.id for cc in changes])
        log.info("staged %d changes for %s at %s", len(proposal.change_ids), competitor.name, path)
        written.append(path)
    return written


def review_cards(config: Config) -> list[str]:
    """Merge every reviewed proposal into its card; returns what each review did, in words."""
    from responders.card_review import describe_outcome, review_proposal

    reports = []
    for path in pending_proposals(config):
        outcome = review_proposal(path)
        reports.append(describe_outcome(outcome, proposal_path=path))
    return reports


def pending_proposals(config: Config) -> list[Path]:
    found = []
    for competitor in config.competitors:
        if competitor.battlecard:
            card = config.path(competitor.battlecard)
            proposal = card.with_name(f"{card.stem}.proposed.md")
            if proposal.is_file():
                found.append(proposal)
    return found


def digest_notes(changes: list) -> list[str]:
    notes = []
    fallback = [cc for cc in changes if cc.classification.source.startswith("llm-failed")]
    if fallback:
        notes.append(
            f"{len(fallback)} changes were graded by the rules because the LLM was unavailable or over "
            "budget; they will be graded again."
        )
    over_budget = [cc for cc in changes if cc.classification.source == "budget→rules"]
    if over_budget:
        notes.append(
            f"The LLM budget was spent: {len(over_budget)} changes were graded by the rules instead; "
            "they will be graded again."
        )
    return notes


def write_digest_file(config: Config, store: Store, *, hours: int = 24) -> Path:
    end = utcnow()
    start = end - timedelta(hours=hours)
    changes = store.changes_between(start, end + timedelta(seconds=1))
    health = [h for h in store.health() if h.error_streak > 0]
    proposals = [load_proposal(p) for p in pending_proposals(config)]
    notes = digest_notes(changes)
    digest = build_digest(changes, start=start, end=end, health=health, proposals=proposals, notes=notes)
    path = write_digest(digest, config.output_dir)
    html = render_digest_html(changes, start=start, end=end, health=health, proposals=proposals, notes=notes)
    write_atomically(path.with_suffix(".html"), html)
    if "slack" in config.responders.digest.outputs and config.responders.digest.channel:
        channel = f"slack:{config.responders.digest.channel}"
        alert = render_digest_alert(replace(digest, path=path), changes, channel=channel)
        store.enqueue(alert, key=f"digest:{end:%Y-%m-%dT%H:%M}:{channel}")
    return path


async def write_digest_now(config: Config, *, hours: int = 24) -> Path:
    store = Store.open(config.storage_url)
    try:
        return write_digest_file(config, store, hours=hours)
    finally:
        store.close()


async def stage_cards_now(config: Config) -> list[Path]:
    store = Store.open(config.storage_url)
    try:
        return stage_cards(config, store)
    finally:
        store.close()
