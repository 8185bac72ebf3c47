"""Responders: what rivalwatch does with a graded change (alerts, digest, battle cards).

``RESPONDERS`` maps the key used in the YAML config to the class that delivers alerts.
The digest (``responders.digest``) and battle-card staging (``responders.battlecards``) are
pure renderers the daemon calls on its schedule, not alert channels.
"""

from __future__ import annotations

from responders.console import ConsoleResponder, FileResponder
from responders.slack import SlackResponder

RESPONDERS: dict[str, type[ConsoleResponder] | type[FileResponder] | type[SlackResponder]] = {
    ConsoleResponder.key: ConsoleResponder,
    FileResponder.key: FileResponder,
    SlackResponder.key: SlackResponder,
}

__all__ = ["RESPONDERS", "ConsoleResponder", "FileResponder", "SlackResponder"]
