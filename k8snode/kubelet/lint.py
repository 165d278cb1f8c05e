"""`kubelet-flags lint`: will this node's kubelet accept its flags on the target release?

The words of each command line are read as the kubelet reads them: pflag's ``parseArgs`` with the kubelet's
flag set for the target release (``--name=value``, ``--name value``, a bare boolean, ``-v 2``, ``--``, ``_`` read
as ``-``), then ``NewKubeletCommand`` refusing any word that is not a flag. Where pflag stops at the first error,
lint goes on and reports every word, each with the file and line it came from.
"""

from __future__ import annotations

import re

from k8snode.core.schema import did_you_mean
from k8snode.core.system import System
from k8snode.core.versions import NEWEST_KUBERNETES
from k8snode.kubelet import flags as settings
from k8snode.kubelet.findings import Finding, Kind, Linted, Severity
from k8snode.kubelet.flagdefs import FlagDef, show
from k8snode.kubelet.flagsets import FlagSets, Target, flag_sets
from k8snode.kubelet.flagvalues import check
from k8snode.kubelet.sources import CommandLine, Origin, Word, file_command_lines, node_command_lines


def check_sources(system: System, files: list[str], kubernetes_version: str | None) -> Linted:
    """Lint the given files (paths on the target system), or the node's kubelet flag sources without any."""
    version_text = kubernetes_version or NEWEST_KUBERNETES
    target = flag_sets().target(settings.parse_version(version_text).minor_version)
    if files:
        lines = [line for path in files for line in file_command_lines(system, path)]
    else:
        lines = node_command_lines(system)
    warnings = [target.note] if target.note else []
    if not lines:
        warnings.append(
            "no kubelet flag sources found (kubelet.service and drop-ins, kubeadm-flags.env, "
            "/etc/default/kubelet, /etc/sysconfig/kubelet)"
        )
    per_line = [(line, lint_line(line, target, flag_sets())) for line in lines]
    return Linted(version_text, target, per_line, warnings)


def installed_kubelet(system: System) -> str | None:
    """The release of the kubelet on PATH, from ``kubelet --version`` ("Kubernetes vX.Y.Z"), or None."""
    if system.which("kubelet") is None:
        return None
    done = system.run(["kubelet", "--version"], timeout=10)
    match = re.search(r"\bv\d+\.\d+\.\d+\S*", done.stdout)
    return match[0] if done.returncode == 0 and match else None


def doctor_check(system: System, kubernetes_version: str | None, target_version: str | None) -> tuple[str, str, str]:
    """doctor's kubelet-flags check: (status, detail, hint) for the node's flags, linted for ``target_version``,
    else the installed kubelet's release, else ``kubernetes_version``, else the newest k8snode knows."""
    installed = None if target_version else installed_kubelet(system)
    version = target_version or installed or kubernetes_version
    linted = check_sources(system, [], version)
    shown = version or linted.kubernetes_version
    source = " (from kubelet --version)" if installed else ""
    command = f"k8snode kubelet-flags lint --kubernetes-version {shown}"
    if not linted.per_line:
        return "skip", "no kubelet flag sources found", ""
    findings, errors = linted.findings, linted.errors
    if errors:
        detail = f"kubelet {shown}{source}: {len(errors)} flag error(s); {errors[0].origin}: {errors[0].message}"
        return "fail", detail, f"run: {command} (and --fix)"
    if findings:
        return (
            "warn",
            f"kubelet {shown}{source}: {len(findings)} warning(s), such as {findings[0].message}",
            f"run: {command}",
        )
    return "ok", f"kubelet {shown}{source}: every flag is accepted", ""


def lint_line(line: CommandLine, target: Target, sets: FlagSets) -> list[Finding]:
    findings = [Finding(Severity.ERROR, Kind.UNREADABLE, p.origin, None, p.message) for p in line.problems]
    return findings + lint_words(line.words, target, sets)


def lint_words(words: list[Word], target: Target, sets: FlagSets) -> list[Finding]:
    """Every finding for one kubelet command line, in the order of its words."""
    linter = _Linter(target, sets)
    index = 0
    while index < len(words):
        index = linter.word(words, index)
    return linter.findings


class _Linter:
    def __init__(self, target: Target, sets: FlagSets) -> None:
        self.target = target
        self.sets = sets
        self.findings: list[Finding] = []
        self.seen: dict[str, Origin] = {}
        self.bare_switch: FlagDef | None = None
        """The boolean given just before, without a value: the next word cannot be its value."""

    def word(self, words: list[Word], index: int) -> int:
        """Read the flag (and its value) at ``index``; return the index of the next word."""
        word = words[index]
        text = word.text
        switch, self.bare_switch = self.bare_switch, None
        if len(text) < 2 or not text.startswith("-"):
            self._positional(word, switch)
            return index + 1
        if text == "--":
            for rest in words[index + 1 :]:
                self._positional(rest, None)
            return len(words)
        if text.startswith("--"):
            return self._long(words, index)
        return self._short(words, index)

    def _long(self, words: list[Word], index: int) -> int:
        word = words[index]
        name, equals, value = word.text[2:].partition("=")
        if not name or name[0] in "-=":
            self._error(Kind.BAD_SYNTAX, word, None, f"bad flag syntax: {word.text}")
            return index + 1
        name = name.replace("_", "-")  # the kubelet's WordSepNormalizeFunc
        flag = self.target.flags.get(name)
        if flag is None:
            return self._missing(words, index, name, bool(equals))
        return self._set(words, index + 1, word, flag, value if equals else None)

    def _short(self, words: list[Word], index: int) -> int:
        word = words[index]
        letters = word.text[1:]
        next_index = index + 1
        while letters:
            letter = letters[0]
            flag = self.target.release.shorthands.get(letter)
            if flag is None:
                message = f"unknown shorthand flag: {letter!r} in {word.text}"
                self._error(Kind.UNKNOWN, word, f"-{letter}", message)
                return next_index
            if len(letters) > 2 and letters[1] == "=":
                value: str | None = letters[2:]
                letters = ""
            elif flag.no_opt_default:
                value, letters = flag.no_opt_default, letters[1:]
            elif len(letters) > 1:
                value, letters = letters[1:], ""
            else:
                value, letters = None, ""
            next_index = self._set(words, next_index, word, flag, value, shorthand=letter)
        return next_index

    def _set(
        self, words: list[Word], next_index: int, word: Word, flag: FlagDef, value: str | None, shorthand: str = ""
    ) -> int:
        shown = f"-{shorthand}" if shorthand else f"--{flag.name}"
        bare = value is None and bool(flag.no_opt_default)
        consumed: tuple[Word, ...] = (word,)
        if value is None:
            if flag.no_opt_default:
                value = flag.no_opt_default
            elif next_index < len(words):
                value = words[next_index].text
                consumed = (word, words[next_index])
                next_index += 1
            else:
                self._error(Kind.NEEDS_VALUE, word, shown, f"flag needs an argument: {shown}")
                return next_index
        problem = check(flag, value)
        if problem is not None:
            self._error(Kind.BAD_VALUE, word, f"--{flag.name}", f"invalid argument {value!r} for {shown}: {problem}")
        if flag.deprecated:
            self._deprecated(word, flag, value, consumed)
        self._repeated(word, flag)
        self.bare_switch = flag if bare else None
        return next_index

    def _missing(self, words: list[Word], index: int, name: str, has_value: bool) -> int:
        word, shown = words[index], f"--{name}"
        removal = self.sets.removal(name, self.target)
        asked = show(self.target.asked)
        # pflag stops here; to go on, take the next word as this flag's value when it looks like one
        takes_value = not has_value and index + 1 < len(words) and not words[index + 1].text.startswith("-")
        takes_value = takes_value and not self._known_switch(name)
        if removal is not None:
            what = f"{shown} was removed in kubelet {removal.removed}, so kubelet {asked} will not start with it"
            message = f"{what}; {removal.advice} [{removal.source}]"
            consumed = tuple(words[index : index + (2 if takes_value else 1)])
            self.findings.append(Finding(Severity.ERROR, Kind.REMOVED, word.origin, shown, message, None, consumed))
        elif self.sets.predates(name, self.target):
            pass  # a recorded removal after the (older) target: the flag still exists there
        elif (added := self.sets.added_in(name, self.target)) is not None:
            message = f"{shown} is not a kubelet {asked} flag: it first appears in {added.version}"
            self._error(Kind.NOT_YET, word, shown, message)
        else:
            hint = did_you_mean(shown, [f"--{known}" for known in self.target.flags])
            self._error(Kind.UNKNOWN, word, shown, f"unknown flag: {shown} (not a kubelet {asked} flag){hint}")
        return index + (2 if takes_value else 1)

    def _known_switch(self, name: str) -> bool:
        older = [r.flags[name] for r in self.sets.releases if name in r.flags]
        return bool(older) and bool(older[-1].no_opt_default)

    def _positional(self, word: Word, switch: FlagDef | None) -> None:
        message = f"unknown command {word.text!r}: the kubelet takes only flags"
        if switch is not None:
            message += (
                f"; --{switch.name} is a boolean, so it takes its value only as --{switch.name}={word.text}, "
                f"and {word.text!r} became an argument"
            )
        self._error(Kind.POSITIONAL, word, None, message)

    def _deprecated(self, word: Word, flag: FlagDef, value: str, consumed: tuple[Word, ...]) -> None:
        shown = f"--{flag.name}"
        if flag.field:
            message = f"{shown} is deprecated: set {flag.field} in the KubeletConfiguration file (--config) instead"
        else:
            message = f"{shown} is deprecated: {flag.deprecated}"
        finding = Finding(
            Severity.WARNING, Kind.DEPRECATED, word.origin, shown, message, flag.field or None, consumed, value, flag
        )
        self.findings.append(finding)

    def _repeated(self, word: Word, flag: FlagDef) -> None:
        shown = f"--{flag.name}"
        first = self.seen.get(flag.name)
        if first is None:
            self.seen[flag.name] = word.origin
            return
        if flag.accumulates:
            message = f"{shown} is given again (first at {first}): the kubelet adds this value to the earlier ones"
        else:
            message = f"{shown} is given again (first at {first}): the last one wins, as pflag sets it each time"
        self.findings.append(Finding(Severity.WARNING, Kind.REPEATED, word.origin, shown, message))

    def _error(self, kind: Kind, word: Word, flag: str | None, message: str) -> None:
        self.findings.append(Finding(Severity.ERROR, kind, word.origin, flag, message))
