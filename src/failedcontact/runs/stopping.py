"""How a batch run stops part way: exit statuses, signals held while a chunk is written,
and a process pool that notices a worker that died (docs/reliability.md)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

_WATCH = 0.2  # seconds between looks at the workers while waiting for a result


# Exit statuses of a run that stopped before its input ended (docs/reliability.md).
EXIT_WORKER_DIED = 75  # EX_TEMPFAIL: a worker process died (killed, out of memory): carry on
EXIT_SIGINT = 128 + signal.SIGINT  # 130, the shells' convention
EXIT_SIGTERM = 128 + signal.SIGTERM  # 143


class BatchStopped(SystemExit):
    """The run stopped before its input ended: a signal (SIGINT, SIGTERM) or a worker process
    that died. A request to end the process with exit status `code` (130, 143, or
    `EXIT_WORKER_DIED`), so the command line needs no traceback to say so.

    Every output line written before it is whole and in input order: they answer the input's
    lines `skipped + 1` to `answered` (rows, for `assess_blocks`). `message` (one line, also
    given to `report` before this is raised) says so and how to carry on.
    """

    def __init__(self, code: int, message: str, answered: int, skipped: int = 0) -> None:
        super().__init__(code)
        self.message = message
        self.answered = answered
        self.skipped = skipped

    def __str__(self) -> str:
        return self.message


class Signalled(BaseException):
    """SIGINT or SIGTERM arrived during a run (a BaseException, as KeyboardInterrupt is)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


STOPPING = {signal.SIGINT, signal.SIGTERM}


@dataclass(slots=True)
class Stop:
    """Signals during a run: raised at once, or held while a chunk is being written so that
    its output lines, and its decision-log lines, are written whole."""

    signum: int | None = None
    writing: bool = False
    installed: bool = False  # the handlers are in place (the main thread)

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        self.signum = signum
        if not self.writing:
            raise Signalled(signum)

    @contextmanager
    def whole(self) -> Iterator[None]:
        """Hold SIGINT and SIGTERM while the body writes; raise one that came after.

        They are blocked, not only held back: a signal that interrupts a write to a full
        pipe can make a buffered writer drop what it had left to write (seen: the last
        62,926 bytes of a chunk lost, the write reporting success).
        """
        self.writing = True
        before = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING) if self.installed else None
        try:
            yield
        finally:
            if before is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, before)  # a held one runs now
            self.writing = False
        if self.signum is not None:
            raise Signalled(self.signum)


@contextmanager
def stop_on_signals() -> Iterator[Stop]:
    """SIGINT and SIGTERM end the run between two writes, while this is in effect.

    Only the main thread can take signals; elsewhere (a server's thread) nothing changes.
    """
    stop = Stop()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    before = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in before:
        signal.signal(number, stop.handle)
    stop.installed = True
    try:
        yield stop
    finally:
        for number, handler in before.items():
            if handler is not None:  # None: set outside Python, cannot be put back
                signal.signal(number, handler)


def stopped(
    error: BaseException,
    done: int,
    skipped: int,
    unit: str,
    report: Callable[[str], None],
) -> BatchStopped:
    """What to tell the caller, and `report`, about a run that stopped part way."""
    if done:
        answered = f"answered {unit}s {skipped + 1:,}-{skipped + done:,} of the input"
    else:
        answered = f"answered no {unit} of the input" + (
            f" after {unit} {skipped:,}" if skipped else ""
        )
    carry_on = (  # `--skip` carries on a run of lines (the command line's and `skip=`)
        f"; to carry on, rerun with `--skip {skipped + done}`"
        if unit == "line"
        else f"; to carry on, skip the first {skipped + done:,} {unit}(s) of the input"
    )
    if isinstance(error, BrokenProcessPool):
        code, why = EXIT_WORKER_DIED, f"error: {error}, so the run stopped"
    else:
        number = error.signum if isinstance(error, Signalled) else signal.SIGINT
        code = EXIT_SIGINT if number == signal.SIGINT else 128 + number
        why = f"stopped by {signal.Signals(number).name}"
    message = f"{why}: {answered} (each output {unit} whole, in order){carry_on}"
    report(message)
    return BatchStopped(code, message, done, skipped)


class TrackedPool(ProcessPoolExecutor):
    """A process pool that keeps every worker it started, to stop or describe them."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.started: list[BaseProcess] = []

    def died(self) -> bool:
        """True when a worker has ended (they end only when the pool shuts down)."""
        return any(process.exitcode is not None for process in self.started)

    def stop(self) -> None:
        """Cancel what is queued and kill the workers now, leaving nothing to wait for.

        A worker killed while sending a result leaves half a message in the results pipe,
        and the pool's manager thread (which the interpreter joins at exit) waiting for the
        rest: with every worker gone, closing this process's end of the pipe ends that wait.
        """
        results = self._result_queue
        self.shutdown(wait=False, cancel_futures=True)
        for process in self.started:
            if process.exitcode is None:
                process.kill()
        for process in self.started:
            process.join(5)
        writer = getattr(results, "_writer", None)
        if writer is not None:
            writer.close()

    def result(self, future: Future[Any]) -> Any:
        """The future's result; `BrokenProcessPool` as soon as any worker has died.

        The pool says so itself, unless a worker died while sending a result: its manager
        thread then waits for the rest of the message, so the workers are watched here too.
        """
        while True:
            try:
                return future.result(timeout=_WATCH)
            except TimeoutError:
                if self.died():
                    raise BrokenProcessPool(self.death()) from None
            except BrokenProcessPool:
                raise BrokenProcessPool(self.death()) from None

    def death(self) -> str:
        """How a worker ended, said before the others are stopped (the pool ends them with
        SIGTERM; `stop` with SIGKILL)."""
        for process in self.started:
            code = process.exitcode
            if code is not None and code != -signal.SIGTERM:
                how = (
                    f"was killed by {signal.Signals(-code).name}"
                    if code < 0
                    else f"exited ({code})"
                )
                return f"a worker process (pid {process.pid}) {how}"
        return "a worker process died (killed, or out of memory)"

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        try:
            future = super().submit(fn, *args, **kwargs)
        except BrokenProcessPool:  # one died while there was no work for it
            raise BrokenProcessPool(self.death()) from None
        for process in self._processes.values():  # workers start as work arrives
            if process not in self.started:
                self.started.append(process)
        return future
