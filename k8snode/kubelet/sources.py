"""Where a node's kubelet flags come from: environment files, the kubelet unit and its drop-ins, flag files.

Each flag word keeps the file and line it came from. The kubelet unit is read the way systemd reads it: the unit
file, then its drop-ins ordered by file name (a name in /etc hides the same name in /usr/lib), ``Environment=``
and ``EnvironmentFile=`` (whose settings win over ``Environment=``), and the last ``ExecStart=`` after an empty one
reset the list. In ``ExecStart=``, ``$VAR`` as a word of its own becomes the variable's value split at whitespace
(quotes inside the value are not special), and ``${VAR}`` is replaced inside its word as one argument
(systemd.service(5), "Command lines"). A word that came from a variable points at the line that set the variable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from k8snode.core.errors import bad_input
from k8snode.core.system import System

KUBEADM_FLAGS_ENV = "/var/lib/kubelet/kubeadm-flags.env"
ENV_FILES = (KUBEADM_FLAGS_ENV, "/etc/default/kubelet", "/etc/sysconfig/kubelet")
UNIT_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
UNIT = "kubelet.service"
MAX_BYTES = 1 << 20

_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UNIT_LINE = re.compile(r"^\s*(\[(Unit|Service|Install)\]|(ExecStart|Environment|EnvironmentFile)\s*=)", re.MULTILINE)
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\$")
_LINE_END = re.compile(r"(\r\n|\r|\n)")


def split_lines(text: str) -> list[tuple[str, str]]:
    """Each line of a flag source and the line end after it ("" for the last): CRLF, a lone CR and LF each end a
    line, as systemd reads unit and environment files (read_line). Every reader and --fix's rewriter count lines
    with this, so a line number means the same line to both."""
    parts = _LINE_END.split(text)
    return list(zip(parts[::2], [*parts[1::2], ""], strict=True))


@dataclass(frozen=True)
class Origin:
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Word:
    text: str
    origin: Origin
    slot: int = -1
    """The word's place among the words of its origin (a variable's value, a flag-file line); -1 in a unit line,
    which --fix does not rewrite."""


@dataclass(frozen=True)
class Problem:
    """A line k8snode could not read as its format says (an unterminated quote): reported as a finding."""

    origin: Origin
    message: str


@dataclass
class CommandLine:
    """One set of kubelet arguments, and where they were read."""

    label: str
    """What the words are: "kubelet.service ExecStart", "KUBELET_EXTRA_ARGS in /etc/default/kubelet", ..."""
    words: list[Word]
    files: list[str]
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Assignment:
    name: str
    value: str
    origin: Origin
    last_line: int = 0
    """The line the value ends on (a quoted value or a trailing backslash can span lines); 0 for a unit's
    Environment=, which --fix does not rewrite."""

    def words(self) -> list[Word]:
        """The value split at whitespace, as systemd splits ``$VAR``."""
        parts = self.value.split()
        return [Word(part, self.origin, slot if self.last_line else -1) for slot, part in enumerate(parts)]


def read_text(system: System, path: str) -> str | None:
    """A flag source's text; binary (a NUL, or not UTF-8) or over-large files are bad input (exit 2), a missing one
    is None. Symlinks are followed under the root, and one to /dev/null (a masked unit) reads as empty."""
    real = system.resolve_link(path)
    if str(real) == "/dev/null":
        return ""
    data = system.read_bytes(real)
    if data is None:
        return None
    if len(data) > MAX_BYTES:
        raise bad_input(f"{path} holds {len(data)} bytes; a kubelet flag file is at most 1 MiB")
    if b"\0" in data:
        raise bad_input(f"{path} is not a text file (it holds NUL bytes); give a flag, environment or unit file")
    try:  # replacing what is not UTF-8 made lint report U+FFFD garbage as flags, and --fix write it back
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise bad_input(
            f"{path} is not a text file (not UTF-8: byte {data[error.start]:#04x} at offset {error.start}); "
            "give a flag, environment or unit file"
        ) from None


def parse_env_file(text: str, path: str) -> tuple[list[Assignment], list[Problem]]:
    """``KEY=VALUE`` lines as systemd's EnvironmentFile= reads them: ``#``/``;`` comments, single and double
    quotes (a quoted value may span lines), backslash escapes, and a trailing backslash joining lines."""
    assignments: list[Assignment] = []
    problems: list[Problem] = []
    text = "\n".join(line for line, _ in split_lines(text))
    index, line = 0, 1
    while index < len(text):
        end = text.find("\n", index)
        raw = text[index:] if end < 0 else text[index:end]
        start_line = line
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            index, line = (len(text) if end < 0 else end + 1), line + 1
            continue
        name, equals, _ = raw.partition("=")
        name = name.strip().removeprefix("export ").strip()
        if not equals or not _ASSIGNMENT.fullmatch(name):
            problems.append(Problem(Origin(path, line), f"not a KEY=VALUE line: {stripped[:60]!r}"))
            index, line = (len(text) if end < 0 else end + 1), line + 1
            continue
        position = index + raw.index("=") + 1
        value, position, line, problem = _env_value(text, position, line)
        if problem is not None:
            problems.append(Problem(Origin(path, start_line), problem))
            break
        last_line = start_line + text.count("\n", index, max(index, position - 1))
        assignments.append(Assignment(name, value, Origin(path, start_line), last_line))
        index = position
    return assignments, problems


def _env_value(text: str, position: int, line: int) -> tuple[str, int, int, str | None]:
    """The value starting at ``position``, and the position and line after its line end."""
    value: list[str] = []
    quote: str | None = None
    while position < len(text) and text[position] in " \t" and quote is None and not value:
        position += 1
    while position < len(text):
        char = text[position]
        if quote is None:
            if char == "\n":
                return "".join(value).rstrip(" \t"), position + 1, line + 1, None
            if char in "\"'":
                quote = char
            elif char == "\\" and position + 1 < len(text):
                position, line = _escape(text, position, line, value)
            else:
                value.append(char)
        elif char == quote:
            quote = None
        elif quote == '"' and char == "\\" and position + 1 < len(text) and text[position + 1] in '"\\`$\n':
            position, line = _escape(text, position, line, value)
        else:
            if char == "\n":
                line += 1
            value.append(char)
        position += 1
    if quote is not None:
        return "", position, line, f"unterminated {quote} quote"
    return "".join(value).rstrip(" \t"), position, line, None


def _escape(text: str, position: int, line: int, value: list[str]) -> tuple[int, int]:
    """A backslash at ``position``: the next character stands for itself, and a newline joins the lines."""
    position += 1
    if text[position] == "\n":
        return position, line + 1
    value.append(text[position])
    return position, line


def split_unit_words(text: str) -> tuple[list[tuple[str, bool]], str | None]:
    """A unit command line's words, as systemd splits them: whitespace separates, quotes group, backslash escapes.
    Each word says whether it was quoted (a quoted ``$VAR`` is not split)."""
    words: list[tuple[str, bool]] = []
    current: list[str] = []
    quoted = in_word = False
    quote: str | None = None
    index = 0
    while index < len(text):
        char = text[index]
        if quote is not None:
            if char == quote:
                quote = None
            elif char == "\\" and index + 1 < len(text):
                index += 1
                current.append(text[index])
            else:
                current.append(char)
        elif char in " \t":
            if in_word:
                words.append(("".join(current), quoted))
                current, quoted, in_word = [], False, False
        elif char in "\"'" and not in_word:
            quote, quoted, in_word = char, True, True
        elif char == "\\" and index + 1 < len(text):
            index += 1
            current.append(text[index])
            in_word = True
        else:
            current.append(char)
            in_word = True
        index += 1
    if quote is not None:
        return words, f"unterminated {quote} quote"
    if in_word:
        words.append(("".join(current), quoted))
    return words, None


@dataclass
class _Unit:
    environment: dict[str, Assignment] = field(default_factory=dict)
    environment_files: list[tuple[str, bool]] = field(default_factory=list)
    exec_start: tuple[str, Origin] | None = None
    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _unit_lines(text: str, path: str) -> list[tuple[str, str, Origin]]:
    """(key, value, origin) of each ``Key=value`` line in [Service], with continuation lines joined."""
    lines = [line for line, _ in split_lines(text)]
    found: list[tuple[str, str, Origin]] = []
    section = ""
    number = 0
    while number < len(lines):
        start = number
        line = lines[number]
        while line.endswith("\\") and number + 1 < len(lines):
            number += 1
            line = line[:-1] + " " + lines[number]
        number += 1
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1]
            continue
        key, equals, value = stripped.partition("=")
        if equals and section == "Service":
            found.append((key.strip(), value.strip(), Origin(path, start + 1)))
    return found


def _read_unit_file(unit: _Unit, path: str, text: str) -> None:
    unit.files.append(path)
    for key, value, origin in _unit_lines(text, path):
        if key == "Environment":
            words, problem = split_unit_words(value)
            if problem is not None:
                unit.problems.append(Problem(origin, f"Environment=: {problem}"))
            for word, _ in words:
                name, equals, assigned = word.partition("=")
                if equals and _ASSIGNMENT.fullmatch(name):
                    unit.environment[name] = Assignment(name, assigned, origin)
        elif key == "EnvironmentFile":
            if not value:
                unit.environment_files.clear()
            else:
                unit.environment_files.append((value.removeprefix("-"), value.startswith("-")))
        elif key == "ExecStart":
            unit.exec_start = None if not value else (value, origin)


def unit_command_line(system: System) -> CommandLine | None:
    """The kubelet's arguments from kubelet.service and its drop-ins, expanded as systemd does; None without a unit."""
    unit = _Unit()
    main = next((f"{d}/{UNIT}" for d in UNIT_DIRS if _present(system, f"{d}/{UNIT}")), None)
    dropins: dict[str, str] = {}
    for directory in UNIT_DIRS:
        for name in system.listdir(f"{directory}/{UNIT}.d"):
            if name.endswith(".conf"):
                dropins.setdefault(name, f"{directory}/{UNIT}.d/{name}")
    if main is None and not dropins:
        return None
    for path in [*([main] if main else []), *(dropins[name] for name in sorted(dropins))]:
        text = read_text(system, path)
        if text is not None:
            _read_unit_file(unit, path, text)
    environment = dict(unit.environment)
    for path, optional in unit.environment_files:
        text = read_text(system, path)
        if text is None:
            if not optional:
                unit.problems.append(Problem(Origin(path, 0), "EnvironmentFile= names a file that does not exist"))
            continue
        unit.files.append(path)
        assignments, problems = parse_env_file(text, path)
        unit.problems.extend(problems)
        environment |= {assignment.name: assignment for assignment in assignments}
    if unit.exec_start is None:
        return CommandLine(f"{UNIT} (no ExecStart=)", [], unit.files, unit.problems)
    words = expand(unit.exec_start[0], unit.exec_start[1], environment, unit.problems)
    return CommandLine(f"{UNIT} ExecStart", words[1:], unit.files, unit.problems)


def _present(system: System, path: str) -> bool:
    real = system.resolve_link(path)
    return str(real) == "/dev/null" or system.exists(real)


def expand(command: str, origin: Origin, environment: dict[str, Assignment], problems: list[Problem]) -> list[Word]:
    """ExecStart='s words with ``$VAR`` and ``${VAR}`` replaced; the program (first word) keeps its prefixes off."""
    split, problem = split_unit_words(command)
    if problem is not None:
        problems.append(Problem(origin, f"ExecStart=: {problem}"))
    words: list[Word] = []
    for index, (text, quoted) in enumerate(split):
        if index == 0:
            text = text.lstrip("-@:+!|")
        whole = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", text)
        if whole is not None and not quoted:
            assignment = environment.get(whole[1])
            if assignment is not None:
                words.extend(assignment.words())
            continue
        braced = re.fullmatch(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", text)
        if braced is not None and braced[1] in environment:
            assignment = environment[braced[1]]
            words.append(Word(assignment.value, assignment.origin))
            continue
        words.append(Word(_VARIABLE.sub(lambda m: _substitute(m, environment), text), origin))
    return words


def _substitute(match: re.Match[str], environment: dict[str, Assignment]) -> str:
    if match[0] == "$$":
        return "$"
    assignment = environment.get(match[1])
    return "" if assignment is None else assignment.value


def env_command_lines(text: str, path: str, names: tuple[str, ...] | None = None) -> list[CommandLine]:
    """One command line per ``*ARGS`` variable of an environment file (or only ``names``)."""
    assignments, problems = parse_env_file(text, path)
    lines = [
        CommandLine(f"{a.name} in {path}", a.words(), [path])
        for a in assignments
        if (a.name in names if names is not None else a.name.endswith("ARGS"))
    ]
    if problems:
        if not lines:
            lines.append(CommandLine(path, [], [path]))
        lines[0].problems.extend(problems)
    return lines


def flag_file_command_line(text: str, path: str) -> CommandLine:
    """A file of flags, one or more a line (``kubelet-flags --format flags`` writes these); ``#`` lines skipped."""
    words: list[Word] = []
    problems: list[Problem] = []
    for number, (line, _) in enumerate(split_lines(text), start=1):
        if line.strip().startswith("#"):
            continue
        split, problem = split_unit_words(line)
        if problem is not None:
            problems.append(Problem(Origin(path, number), problem))
        words.extend(Word(word, Origin(path, number), slot) for slot, (word, _) in enumerate(split))
    return CommandLine(path, words, [path], problems)


def file_command_lines(system: System, path: str) -> list[CommandLine]:
    """The command lines one given file holds, by what it looks like: a unit or drop-in, an environment file,
    or a flag file."""
    text = read_text(system, path)
    if text is None:
        raise bad_input(f"{path} does not exist; give a kubelet flag, environment or unit file")
    if _UNIT_LINE.search(text):
        unit = _Unit()
        _read_unit_file(unit, path, text)
        environment = dict(unit.environment)
        if unit.exec_start is None:
            lines = [
                CommandLine(f"{a.name} in {path}", a.words(), [path])
                for a in environment.values()
                if a.name.endswith("ARGS")
            ]
            if unit.problems:
                lines = lines or [CommandLine(path, [], [path])]
                lines[0].problems.extend(unit.problems)
            return lines
        words = expand(unit.exec_start[0], unit.exec_start[1], environment, unit.problems)
        return [CommandLine(f"ExecStart in {path}", words[1:], [path], unit.problems)]
    if any(_is_assignment(line) for line, _ in split_lines(text)):
        return env_command_lines(text, path)
    return [flag_file_command_line(text, path)]


def _is_assignment(line: str) -> bool:
    name, equals, _ = line.strip().removeprefix("export ").partition("=")
    return bool(equals) and _ASSIGNMENT.fullmatch(name.strip()) is not None


def node_command_lines(system: System) -> list[CommandLine]:
    """The node's kubelet arguments: the unit's ExecStart when there is a kubelet unit, and each environment file
    the unit does not read, on its own."""
    lines: list[CommandLine] = []
    unit = unit_command_line(system)
    read = set()
    if unit is not None:
        lines.append(unit)
        read = set(unit.files)
    for path in ENV_FILES:
        if path in read:
            continue
        text = read_text(system, path)
        if text is not None:
            names = ("KUBELET_KUBEADM_ARGS",) if path == KUBEADM_FLAGS_ENV else ("KUBELET_EXTRA_ARGS",)
            for line in env_command_lines(text, path, names):
                line.label += " (not read by any kubelet unit)" if unit is not None else ""
                lines.append(line)
    return lines


def config_path(words: list[Word]) -> str | None:
    """The KubeletConfiguration file the kubelet reads: the last ``--config``."""
    found: str | None = None
    for index, word in enumerate(words):
        if word.text == "--config" and index + 1 < len(words):
            found = words[index + 1].text
        elif word.text.startswith("--config="):
            found = word.text.partition("=")[2]
    return found
