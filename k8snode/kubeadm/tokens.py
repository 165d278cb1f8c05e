"""The bootstrap token of kubeadm-config: a fresh one, or the one of the --out file when only its owner could read it,
so that running again changes nothing."""

from __future__ import annotations

import os
import string
from pathlib import PurePosixPath

from k8snode.core.errors import K8snodeError
from k8snode.core.secrets import PLACEHOLDER_TOKEN, is_token
from k8snode.core.system import System
from k8snode.core.yamldoc import MAX_CONFIG_BYTES, decode_text, load_documents

_TOKEN_ALPHABET = string.ascii_lowercase + string.digits


def fresh_token() -> str:
    import secrets  # lazy: ~8 ms, needed only when no token is given or reused

    pick = secrets.choice
    return "".join(pick(_TOKEN_ALPHABET) for _ in range(6)) + "." + "".join(pick(_TOKEN_ALPHABET) for _ in range(16))


def reusable_token(system: System, out: PurePosixPath, warnings: list[str]) -> str | None:
    """The valid, non-placeholder bootstrap token of an existing output file, so re-running changes nothing.

    Only from a file that no one else could have written or read: a regular file (not a link) owned by the user
    running k8snode, with mode 0600. Any other file's token may be known to someone else; a new one is made.
    """
    if system.is_symlink(out):
        return None
    existing = system.read_bytes(out, MAX_CONFIG_BYTES)
    if existing is None:
        return None
    try:
        documents = load_documents(decode_text(existing, "the --out file"), "the --out file")
    except K8snodeError:  # an old file that is not YAML is replaced, its token not reused
        return None
    for document in documents:
        if not isinstance(document, dict):
            continue
        tokens = document.get("bootstrapTokens")
        candidates = [t.get("token") for t in tokens if isinstance(t, dict)] if isinstance(tokens, list) else []
        candidates.append(document.get("token"))
        for candidate in candidates:
            if isinstance(candidate, str) and is_token(candidate) and candidate != PLACEHOLDER_TOKEN:
                owner, mode = system.owner_and_mode(out)
                if owner == os.geteuid() and mode & 0o077 == 0:
                    return candidate
                warnings.append(
                    f"not reusing the bootstrap token of {out}: it is owned by uid {owner} with mode {mode:04o}, "
                    f"and only a file owned by uid {os.geteuid()} with mode 0600 keeps it secret; made a new one"
                )
                return None
    return None
