"""The hooks a run reports through: the runner calls them, the terminal progress draws them.

Kept apart from the runner so that whatever draws a run (`covetbench.run.progress`, a test)
depends on the hooks only, never on the orchestrator.
"""

from __future__ import annotations

from covetbench.records import FailureRecord, TrialRecord, VerifyRecord
from covetbench.run.schedule import Plan


class RunObserver:
    """Hooks the runner calls as it goes (the CLI draws progress from them). No-ops here."""

    def begin(self, plan: Plan, total_units: float) -> None:
        """The run starts; `total_units` is the expected length in seconds of work."""

    def step(self, description: str) -> None:
        """The runner started doing `description`."""

    def advance(self, units: float) -> None:
        """`units` of the expected total are done."""

    def trial(self, record: TrialRecord) -> None:
        """A trial was kept and written."""

    def failure(self, record: FailureRecord) -> None:
        """A configuration could not be measured."""

    def verified(self, record: VerifyRecord) -> None:
        """A verify record was written."""

    def note(self, message: str) -> None:
        """Something worth telling the user (waiting for the lock, a busy machine...)."""

    def end(self) -> None:
        """The run is over (finished or interrupted)."""
