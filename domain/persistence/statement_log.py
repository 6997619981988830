"""Count the SQL statements Tortoise sends while a block runs (tests and benchmarks).

Tortoise logs every statement on the ``tortoise.db_client`` logger at DEBUG level
(``log.debug("%s: %s", query, values)``); :class:`StatementLog` listens there only while it is
active, so the rest of the time the logger stays at its configured level and costs nothing.
"""

from __future__ import annotations

import logging
from types import TracebackType

DB_CLIENT_LOGGER = "tortoise.db_client"

# Connection life-cycle messages share the logger with statements; they are not statements.
_LIFECYCLE_PREFIXES = ("Created connection", "Closed connection")


class _Collector(logging.Handler):
    def __init__(self, statements: list[str]) -> None:
        super().__init__(level=logging.DEBUG)
        self._statements = statements

    def emit(self, record: logging.LogRecord) -> None:
        message = str(record.msg)
        if message.startswith(_LIFECYCLE_PREFIXES):
            return
        if message == "%s: %s" and isinstance(record.args, tuple) and record.args:
            self._statements.append(str(record.args[0]))
        else:
            self._statements.append(record.getMessage())


class StatementLog:
    """Context manager collecting the SQL text of every statement run inside it.

    ``with StatementLog() as log: ...`` then ``log.count`` and ``log.statements`` (the query
    text, without bound values, in execution order). Statements from every task in the
    process are collected, so keep other database work out of the block. Not reentrant;
    nested logs each see the statements of their own block.
    """

    def __init__(self) -> None:
        self.statements: list[str] = []
        self._handler = _Collector(self.statements)
        self._logger = logging.getLogger(DB_CLIENT_LOGGER)
        self._previous_level = logging.NOTSET

    @property
    def count(self) -> int:
        return len(self.statements)

    def __enter__(self) -> StatementLog:
        self._previous_level = self._logger.level
        self._logger.addHandler(self._handler)
        self._logger.setLevel(logging.DEBUG)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._logger.removeHandler(self._handler)
        self._logger.setLevel(self._previous_level)

    def __repr__(self) -> str:
        return f"<StatementLog count={self.count}>"
