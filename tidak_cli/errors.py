"""The error tree: every expected failure carries its exit code and a message that names the fix."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import ClassVar

__all__ = [
    "CommandNotExecutable",
    "CommandNotFound",
    "ConfigError",
    "ExitCode",
    "GatewayError",
    "NetworkError",
    "PaytokenError",
    "RejectedError",
    "SignatureMismatch",
    "UsageError",
]


class ExitCode(IntEnum):
    """Process exit codes, fixed by SPEC section 3: scripts depend on them."""

    OK = 0
    MISMATCH = 1
    UNWRITABLE = 1  # stdout cannot be written (a full disk, a closed file): not paytoken's fault, nor a bug
    USAGE = 2
    CONFIG = 3
    REJECTED = 4
    NETWORK = 5
    GATEWAY = 6
    INTERNAL = 70  # EX_SOFTWARE: a bug in paytoken, never an answer a script should act on
    # `exec`: the command could not be run, as a POSIX shell says it (found but not executable, not found).
    CANNOT_EXECUTE = 126
    COMMAND_NOT_FOUND = 127
    INTERRUPTED = 130
    BROKEN_PIPE = 141  # SIGPIPE's status, as the shell reports a tool killed by it


class PaytokenError(Exception):
    """An expected failure: what went wrong, the facts behind it, and what to do."""

    exit_code: ClassVar[ExitCode] = ExitCode.INTERNAL

    def __init__(
        self, message: str, *, details: Sequence[str] = (), hint: str | None = None, quoted: Sequence[str] = ()
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = tuple(details)
        self.hint = hint
        # The outside values the message, details or hint quote (a gateway's words, a URL, a library's message):
        # where a secret can stand as a value. The rest is paytoken's own words (see redact.Redactor.sentence).
        self.quoted = tuple(quoted)


class UsageError(PaytokenError):
    """A flag or argument that cannot be used as given."""

    exit_code = ExitCode.USAGE


class ConfigError(PaytokenError):
    """The profiles file, a key in it, or the key material it points to."""

    exit_code = ExitCode.CONFIG


class RejectedError(PaytokenError):
    """The gateway answered and said no (4xx, or a failure code in a 2xx)."""

    exit_code = ExitCode.REJECTED

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        gateway_message: str | None = None,
        details: Sequence[str] = (),
        hint: str | None = None,
        echoed_signature: str | None = None,
        quoted: Sequence[str] = (),
    ) -> None:
        super().__init__(message, details=details, hint=hint, quoted=(*quoted, *filter(None, (code, gateway_message))))
        self.status = status
        self.code = code
        self.gateway_message = gateway_message
        # A signature the gateway put in its answer (Finpay staging echoes the one it expected).
        self.echoed_signature = echoed_signature


class NetworkError(PaytokenError):
    """No answer: DNS, refused or reset connection, TLS, timeout."""

    exit_code = ExitCode.NETWORK


class GatewayError(PaytokenError):
    """The gateway failed (5xx) or answered something that is not a token."""

    exit_code = ExitCode.GATEWAY


class OutputError(PaytokenError):
    """Standard output cannot be written (a full disk, a closed file); a reader gone is not this."""

    exit_code = ExitCode.UNWRITABLE


class SignatureMismatch(PaytokenError):
    """`sign --compare`: the given signature is not the one paytoken computes."""

    exit_code = ExitCode.MISMATCH


class CommandNotFound(PaytokenError):
    """`exec`: no such command (exit 127, as a shell)."""

    exit_code = ExitCode.COMMAND_NOT_FOUND


class CommandNotExecutable(PaytokenError):
    """`exec`: the command exists but cannot be run (exit 126, as a shell)."""

    exit_code = ExitCode.CANNOT_EXECUTE
