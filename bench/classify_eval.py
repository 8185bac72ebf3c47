"""Grading quality on a labelled corpus, through the real daemon.

    python bench/classify_eval.py --corpus ../shared/corpus [--provider rules|openai]

Crawls every step of the corpus (see corpus_run.py) and, for every labelled step the daemon
reported, compares its grade with the label: the severity confusion matrix, exact and
within-one-level accuracy, critical recall, and category accuracy. A step the daemon did not
report counts as graded ``none``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from corpus_eval import ORDER, SEVERITIES, expected_grade  # noqa: E402
from corpus_run import Observation, run_corpus  # noqa: E402


def grade_of(obs: Observation) -> tuple[str, str]:
    if obs.change and obs.status in ("changed", "noise"):
        return obs.change["severity"], obs.change["category"]
    return "none", "none"


def report(observations: list[Observation]) -> list[str]:
    steps = [o for o in observations if not o.repeat and o.covers]
    matrix = {(e, g): 0 for e in SEVERITIES for g in SEVERITIES}
    exact = within = category = 0
    for o in steps:
        want_sev, want_cat = expected_grade(o)
        got_sev, got_cat = grade_of(o)
        matrix[(want_sev, got_sev)] += 1
        exact += want_sev == got_sev
        within += abs(ORDER[want_sev] - ORDER[got_sev]) <= 1
        category += want_cat == got_cat
    n = max(len(steps), 1)
    lines = [f"{len(steps)} labelled steps graded", "", "severity confusion (rows: label, columns: grade)"]
    lines.append("            " + " ".join(f"{s:>9s}" for s in SEVERITIES))
    for e in SEVERITIES:
        lines.append(f"  {e:9s} " + " ".join(f"{matrix[(e, g)]:9d}" for g in SEVERITIES))
    crit = [o for o in steps if expected_grade(o)[0] == "critical"]
    crit_ok = sum(1 for o in crit if grade_of(o)[0] == "critical")
    lines += [
        "",
        f"severity exact:        {exact}/{len(steps)} = {exact / n:.1%}   (target >= 75%)",
        f"within one level:      {within}/{len(steps)} = {within / n:.1%}   (target >= 95%)",
        f"critical recall:       {crit_ok}/{len(crit)}   (target: all)",
        f"category right:        {category}/{len(steps)} = {category / n:.1%}   (target >= 80%)",
        "",
        "misgraded steps:",
    ]
    for o in steps:
        want, got = expected_grade(o), grade_of(o)
        if want != got:
            facts = "; ".join(f for label in o.covers for f in label.facts)[:140]
            lines.append(f"  {o.page} step {o.step}: label {want[0]}/{want[1]}, got {got[0]}/{got[1]} — {facts}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    parser.add_argument("--provider", default="rules", choices=["rules", "openai"])
    args = parser.parse_args()
    observations, _ = run_corpus(args.corpus.resolve(), provider=args.provider, log=lambda m: print(m, file=sys.stderr))
    print("\n".join(report(observations)))


if __name__ == "__main__":
    main()
