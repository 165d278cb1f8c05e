"""The one domain exception and the exit codes it maps to."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    DRIFT = 1  # drift found, or a check failed
    BAD_INPUT = 2
    FAILED = 3  # the operation itself failed
    OUTPUT_CLOSED = 141  # the reader of stdout went away (| head -1): what a shell reports for a command SIGPIPE ends


class K8snodeError(Exception):
    """An expected failure: shown to the operator as one line and turned into an exit code at the edge."""

    def __init__(self, message: str, code: ExitCode) -> None:
        """``code`` has no default: each raiser says whether the input was bad or the operation failed."""
        super().__init__(message)
        self.message = message
        self.code = code


def bad_input(message: str) -> K8snodeError:
    return K8snodeError(message, ExitCode.BAD_INPUT)


def failed(message: str) -> K8snodeError:
    return K8snodeError(message, ExitCode.FAILED)
