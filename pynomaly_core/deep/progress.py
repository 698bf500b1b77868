"""The epoch progress bar of the deep detectors (``verbose=True``), the same for every backend."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from pynomaly_core.deep.training import History

EpochReporter = Callable[[int, History], None]


@contextmanager
def epoch_progress(verbose: bool, label: str, epochs: int) -> Iterator[EpochReporter]:
    """A rich progress bar on stderr when ``verbose``; otherwise a no-op reporter (rich is not imported)."""
    if not verbose:
        yield lambda epoch, history: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[losses]}"))
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=epochs, losses="")

        def report(epoch: int, history: History) -> None:
            losses = f"loss {history.train_loss[-1]:.4g}"
            if history.validation_loss:
                losses += f"  val {history.validation_loss[-1]:.4g}"
            bar.update(task, completed=epoch + 1, losses=losses)

        yield report
