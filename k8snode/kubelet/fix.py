"""`kubelet-flags lint --fix`: rewrite what lint found and knows how to fix.

- A deprecated flag backed by a KubeletConfiguration field moves into the file the kubelet reads (its
  ``--config``), merged by a ruamel.yaml round trip that keeps comments; flags win over that file in the kubelet,
  so the flag's value replaces the field's.
- A removed flag is dropped: every recorded or derived removal says what replaces it, and none of those
  replacements is another flag with the same value.
- The environment or flag file loses those words; other lines stay as they are.

Unit files (``ExecStart=``, ``Environment=``) and deprecated flags with no KubeletConfiguration field (such as
``--pod-infra-container-image`` before 1.35) are left alone and said so. Writes are atomic, under the lock; a file
k8snode did not write changes only with ``--force``, and its original is kept beside it as ``FILE.k8snode-orig``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from k8snode.core.errors import bad_input, failed
from k8snode.core.files import FilePlan, apply_together, header, owned, plan_write
from k8snode.core.names import parse_taints
from k8snode.core.system import System
from k8snode.kubelet.findings import Finding, Kind, Linted
from k8snode.kubelet.flagdefs import FlagDef
from k8snode.kubelet.flags import CONFIG_API_VERSION, CONFIG_KIND, ConfigValue
from k8snode.kubelet.flagvalues import go_int, parse_bool
from k8snode.kubelet.sources import config_path, parse_env_file, read_text, split_lines, split_unit_words

BACKUP_SUFFIX = ".k8snode-orig"


@dataclass
class _Edits:
    drop: dict[str, set[tuple[int, int]]] = field(default_factory=lambda: defaultdict(set))
    """Per file: (line, slot) of each word to remove."""
    config: dict[str, dict[str, ConfigValue]] = field(default_factory=lambda: defaultdict(dict))
    """Per KubeletConfiguration file: dotted field -> value."""
    left: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Fixed:
    """What --fix wrote (or, with dry_run, would write), and what it left for a person."""

    plans: list[FilePlan]
    backups: list[str]
    """The originals kept beside files k8snode did not write."""
    not_fixed: list[str]
    changed: bool
    dry_run: bool

    @property
    def rewritten(self) -> list[FilePlan]:
        return [plan for plan in self.plans if plan.needs_write]


def fix(system: System, linted: Linted, command: str, *, dry_run: bool, force: bool) -> Fixed:
    """Rewrite what ``linted`` found and knows how to fix; ``command`` goes into the header of written files."""
    edits = _plan_edits(linted)
    with system.lock_unless(dry_run):
        # The configuration first, then the files that stop naming the flags: a run cut short leaves a flag in
        # both places (the flag wins in the kubelet, with the same value), never in neither.
        planned: list[FilePlan | None] = [
            _config_plan(system, path, values, command, force) for path, values in sorted(edits.config.items())
        ]
        planned += [_flag_file_plan(system, path, drops, command, force) for path, drops in sorted(edits.drop.items())]
        plans = [plan for plan in planned if plan is not None]
        backups = {plan.path: _backup(system, plan) for plan in plans if plan.needs_write}
        writes = [step for plan in plans for step in (backups.get(plan.path), plan) if step is not None]
        changed = apply_together(system, writes, dry_run=dry_run)
    kept = [] if dry_run else [str(backup.path) for backup in backups.values() if backup is not None]
    return Fixed(plans, kept, edits.left, changed, dry_run)


def _plan_edits(linted: Linted) -> _Edits:
    edits = _Edits()
    for line, findings in linted.per_line:
        config = config_path(line.words)
        for finding in findings:
            if finding.kind == Kind.REMOVED:
                _drop(edits, finding)
            elif finding.kind == Kind.DEPRECATED and not finding.config_field:
                edits.left.append(f"{finding.origin}: {finding.flag}: deprecated, with no KubeletConfiguration field")
            elif finding.kind == Kind.DEPRECATED and finding.flag_def is not None:
                if config is None:
                    edits.left.append(f"{finding.origin}: {finding.flag}: no --config file to move it into")
                elif _drop(edits, finding) and finding.config_field is not None:
                    _merge(edits.config[config], finding.flag_def, finding.config_field, finding.value or "")
    return edits


def _drop(edits: _Edits, finding: Finding) -> bool:
    if not finding.words or any(word.slot < 0 for word in finding.words):
        edits.left.append(f"{finding.origin}: {finding.flag}: in a unit file; edit it by hand")
        return False
    for word in finding.words:
        edits.drop[word.origin.path].add((word.origin.line, word.slot))
    return True


def _merge(config: dict[str, ConfigValue], flag: FlagDef, path: str, text: str) -> None:
    value, earlier = config_value(flag, text), config.get(path)
    if flag.accumulates and isinstance(earlier, dict) and isinstance(value, dict):
        config[path] = {**earlier, **value}
    elif flag.accumulates and isinstance(earlier, list) and isinstance(value, list):
        config[path] = [*earlier, *value]
    else:
        config[path] = value


def config_value(flag: FlagDef, text: str) -> ConfigValue:
    """The KubeletConfiguration value for a flag value the lint accepted (so it parses)."""
    if flag.type == "bool":
        return parse_bool(text)
    if flag.type in ("int32", "int64", "int", "Level"):
        return go_int(text)
    if flag.type == "stringSlice":
        return [item.strip('"') for item in text.split(",")] if text else []
    if flag.type == "mapStringBool":
        return {k.strip(): parse_bool(v.strip()) for k, _, v in (i.partition("=") for i in text.split(",") if i)}
    if flag.go_type == "*flag.LangleSeparatedMapStringString":
        return {k.strip(): v.strip() for k, _, v in (i.partition("<") for i in text.split(",") if i)}
    if flag.go_type == "*flag.ColonSeparatedMultimapStringString":
        headers: dict[str, list[str]] = {}
        for key, _, value in (item.partition(":") for item in text.split(",") if item):
            headers.setdefault(key.strip(), []).append(value.strip())
        return headers
    if flag.type == "mapStringString":
        items = [text] if flag.go_type.endswith(",nosplit") else [i for i in text.split(",") if i]
        return {k.strip(): v.strip() for k, _, v in (i.partition("=") for i in items)}
    if flag.type == "[]v1.Taint":
        return [taint.as_config() for taint in parse_taints(text.split(","))[0]] if text else []
    return text


def _flag_file_plan(
    system: System, path: str, drops: set[tuple[int, int]], command: str, force: bool
) -> FilePlan | None:
    text = read_text(system, path)
    if text is None:
        return None
    lines, ends = (list(column) for column in zip(*split_lines(text), strict=True))
    if path.endswith(".conf") or any(line.lstrip().startswith("[Service]") for line in lines):
        raise failed(f"{path} is a unit file; --fix rewrites only environment and flag files")
    assignments, _ = parse_env_file(text, path)
    by_line = {assignment.origin.line: assignment for assignment in assignments}
    for line_number in sorted({line for line, _ in drops}, reverse=True):
        slots = {slot for line, slot in drops if line == line_number}
        assignment = by_line.get(line_number)
        if assignment is not None:
            kept = [word for slot, word in enumerate(assignment.value.split()) if slot not in slots]
            lines[line_number - 1 : assignment.last_line] = [f"{assignment.name}={_env_quote(' '.join(kept))}"]
            ends[line_number - 1 : assignment.last_line] = [ends[assignment.last_line - 1]]
        else:
            words, _ = split_unit_words(lines[line_number - 1])
            kept = [word for slot, (word, _) in enumerate(words) if slot not in slots]
            lines[line_number - 1 : line_number] = [" ".join(kept)] if kept else []
            ends[line_number - 1 : line_number] = [ends[line_number - 1]] if kept else []
    new_text = "".join(line + end for line, end in zip(lines, ends, strict=True))
    return _plan(system, path, new_text, command, force)


def _env_quote(value: str) -> str:
    if value and re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]+", value):
        return value
    return '"' + re.sub(r'(["\\`$])', r"\\\1", value) + '"'


def _config_plan(system: System, path: str, values: dict[str, ConfigValue], command: str, force: bool) -> FilePlan:
    from k8snode.core.yamldoc import dump_documents, guess_indent, load_documents

    text = read_text(system, path)
    documents = load_documents(text, path) if text else []
    config = next((d for d in documents if isinstance(d, dict) and d.get("kind") == CONFIG_KIND), None)
    if config is None:
        config = {"apiVersion": CONFIG_API_VERSION, "kind": CONFIG_KIND}
        documents.append(config)
    for dotted, value in values.items():
        _set_field(config, dotted, value, path)
    new_text = dump_documents(documents, guess_indent(text or ""))
    return _plan(system, path, new_text, command, force)


def _set_field(config: MutableMapping[str, object], dotted: str, value: ConfigValue, path: str) -> None:
    """Set the field at ``dotted`` (``authentication.webhook.enabled``), making the mappings on the way; a parent
    that is null (``authentication:``) is one, as the kubelet reads it."""
    *parents, leaf = dotted.split(".")
    node = config
    for depth, parent in enumerate(parents):
        child = node.get(parent)
        if child is None:
            child = node[parent] = {}
        if not isinstance(child, MutableMapping):
            where = ".".join(parents[: depth + 1])
            raise bad_input(f"{path}: {where} is not a mapping, so --fix cannot set {dotted} in it; correct the file")
        node = child
    node[leaf] = value


def _plan(system: System, path: str, text: str, command: str, force: bool) -> FilePlan:
    current = system.read_bytes(path) or b""
    body = text if owned(current) else f"{header(command)}\n{text}"
    if not body.endswith("\n"):
        body += "\n"
    mode = system.mode(path) or 0o644
    return plan_write(system, PurePosixPath(path), mode, body.encode(), force=force)


def _backup(system: System, plan: FilePlan) -> FilePlan | None:
    """The original of a file k8snode did not write, kept beside it (written before the file is replaced)."""
    if plan.current is None or owned(plan.current):
        return None
    backup = PurePosixPath(f"{plan.path}{BACKUP_SUFFIX}")
    mode = 0o600 if plan.current_mode is None else plan.current_mode
    return FilePlan(backup, mode, plan.current, system.read_bytes(backup), system.mode(backup))
