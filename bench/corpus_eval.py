"""Change-detection quality on a labelled corpus, through the real daemon.

    python bench/corpus_eval.py --corpus ../shared/corpus [--provider rules]

Prints recall of real changes (overall and per severity), false alerts on repeat crawls,
false alerts on steps labelled none, fault steps reported as changes (and fetch errors of
the right kind), and severity/category accuracy on the steps it detected.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from corpus_run import Observation, run_corpus  # noqa: E402

SEVERITIES = ["critical", "high", "medium", "low", "none"]
ORDER = {s: i for i, s in enumerate(reversed(SEVERITIES))}
FAULT_KINDS = {
    "503": {"http-status", "rate-limited"},
    "429": {"rate-limited"},
    "404": {"http-status"},
    "timeout": {"timeout"},
    "challenge": {"blocked"},
    "empty": {"empty"},
    "truncated": {"truncated"},
    "redirect-loop": {"redirects"},
}


def expected_grade(obs: Observation) -> tuple[str, str]:
    """A crawl that covers several labelled steps (after a fault) is judged by the strongest."""
    top = max(obs.covers, key=lambda label: ORDER[label.severity])
    return top.severity, top.category


def report(observations: list[Observation]) -> list[str]:
    first = [o for o in observations if not o.repeat]
    repeat = [o for o in observations if o.repeat]
    real = [o for o in first if o.covers and any(label.severity != "none" for label in o.covers)]
    none_steps = [o for o in first if o.covers and all(label.severity == "none" for label in o.covers)]
    faults = [o for o in observations if o.fault]

    lines = []
    found = [o for o in real if o.status == "changed"]
    lines.append(f"recall of real changes: {len(found)}/{len(real)} = {len(found) / max(len(real), 1):.1%}")
    for sev in SEVERITIES[:-1]:
        of = [o for o in real if expected_grade(o)[0] == sev]
        hit = [o for o in of if o.status == "changed"]
        lines.append(f"  {sev:8s} {len(hit)}/{len(of)}")
    for o in real:
        if o.status != "changed":
            label = max(o.covers, key=lambda x: ORDER[x.severity])
            lines.append(f"    missed {o.page} step {o.step} ({label.severity}): {o.status} — {label.facts}")
    rep_false = [o for o in repeat if o.status == "changed"]
    lines.append(f"false alerts on repeat crawls: {len(rep_false)}/{len(repeat)}")
    for o in rep_false:
        lines.append(f"    {o.page} step {o.step}: {o.change and o.change['summary']}")
    none_false = [o for o in none_steps if o.status == "changed"]
    lines.append(
        f"false alerts on steps labelled none: {len(none_false)}/{len(none_steps)} = "
        f"{len(none_false) / max(len(none_steps), 1):.1%}"
    )
    for o in none_false:
        lines.append(
            f"    {o.page} step {o.step}: {o.change and o.change['severity']}: {o.change and o.change['summary']}"
        )
    fault_changes = [o for o in faults if o.status == "changed"]
    right_kind = [
        o
        for o in faults
        if o.status == "error" and o.error and o.error["kind"] in FAULT_KINDS.get(o.fault or "", set())
    ]
    lines.append(f"fault crawls reported as changes: {len(fault_changes)}/{len(faults)}")
    lines.append(f"fault crawls reported as a fetch error of the right kind: {len(right_kind)}/{len(faults)}")
    for o in faults:
        if o not in right_kind:
            lines.append(f"    {o.page} step {o.step} fault {o.fault}: {o.status} {o.error}")
    graded = [o for o in found if o.change]
    exact = sum(1 for o in graded if o.change["severity"] == expected_grade(o)[0])
    within = sum(1 for o in graded if abs(ORDER[o.change["severity"]] - ORDER[expected_grade(o)[0]]) <= 1)
    cat = sum(1 for o in graded if o.change["category"] == expected_grade(o)[1])
    n = max(len(graded), 1)
    lines.append(
        f"on detected changes: severity exact {exact}/{len(graded)} = {exact / n:.1%}, within one level "
        f"{within / n:.1%}, category {cat / n:.1%}"
    )
    crit = [o for o in real if expected_grade(o)[0] == "critical"]
    crit_ok = [o for o in crit if o.change and o.change["severity"] == "critical"]
    lines.append(f"critical graded critical: {len(crit_ok)}/{len(crit)}")
    statuses = Counter(o.status for o in observations)
    lines.append(f"statuses: {dict(statuses)}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    parser.add_argument("--provider", default="rules")
    args = parser.parse_args()
    observations, _ = run_corpus(args.corpus.resolve(), provider=args.provider, log=lambda m: print(m, file=sys.stderr))
    print("\n".join(report(observations)))


if __name__ == "__main__":
    main()
