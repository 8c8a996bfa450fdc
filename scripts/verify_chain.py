#!/usr/bin/env python3
"""Verify a Trustomer audit-chain export with nothing but the Python standard library.

    python3 verify_chain.py EXPORT.json [MORE-PAGES.json ...] [--known EARLIER.json]

An export is the portal's download (*My organisation > Audit chain*) or the pages of
`GET /api/v1/audit-chain` saved one per file. For every conflict's chain it recomputes

    content_hash = SHA-256 hex of the canonical JSON of `content` (keys sorted, separators
                   "," and ":", no whitespace, UTF-8 not escaped); internal events give it
    hash         = SHA-256 hex of the ASCII text  prev_hash + content_hash
    prev_hash    = the previous entry's hash; 64 zeros for the first

and checks that places run 1, 2, 3 ..., that each entry names its chain and place, and that
the last hash is the chain's head and its place the chain's length. With --known, every
chain of an earlier export must still begin with the same entries (its old head is still
there, at the same place): history was only appended to.

An internal event's content_hash is a salted commitment: its content includes a random salt
that never leaves the server, so the links through it can be checked here, its text cannot
(nor guessed: hashing a candidate text gives another hash). The server's `flask audit
verify` checks those contents too.

Exit status 0 when everything holds, 1 with the first broken link of each chain otherwise,
2 when a file cannot be read as an export.
"""

from __future__ import annotations

import hashlib
import json
import sys

FORMAT = "trustomer-audit-chain/2"
UNSALTED = "trustomer-audit-chain/1"  # before internal events were salted (migration 0016)
GENESIS = "0" * 64


def canonical(content: dict) -> bytes:
    return json.dumps(
        content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_hex64(value: object) -> bool:
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )


def load(paths: list[str]) -> dict[str, dict]:
    """Every chain of the files, by name; a chain given twice is an error."""
    chains: dict[str, dict] = {}
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
        if isinstance(document, dict) and document.get("format") == UNSALTED:
            raise ValueError(
                f"{path}: a {UNSALTED} export, from before internal events were salted; "
                "the server relinked every chain with an internal event then, so compare "
                f"only {FORMAT} exports"
            )
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"{path}: not a {FORMAT} export")
        for item in document.get("chains", []):
            name = item.get("chain")
            if not isinstance(name, str) or name in chains:
                raise ValueError(f"{path}: chain {name!r} is missing its name or given twice")
            chains[name] = item
    return chains


def check(name: str, item: dict) -> str | None:
    """The first broken link of one chain, or None."""
    prev, entries = GENESIS, item.get("entries", [])
    for expected_seq, entry in enumerate(entries, start=1):
        seq = entry.get("seq")
        where = f"{name}: place {seq}"
        if seq != expected_seq:
            return f"{name}: place {expected_seq}: sequence gap or reorder: found place {seq}"
        if entry.get("prev_hash") != prev:
            return f"{where}: prev_hash: expected {prev}, found {entry.get('prev_hash')}"
        content = entry.get("content")
        if content is not None:
            if content.get("chain") != name or content.get("seq") != seq:
                return f"{where}: content names {content.get('chain')} place {content.get('seq')}"
            digest = sha256(canonical(content))
        else:
            digest = entry.get("content_hash")
            if not is_hex64(digest):
                return f"{where}: neither content nor a content_hash"
        recomputed = sha256((prev + digest).encode("ascii"))
        if entry.get("hash") != recomputed:
            return (
                f"{where}: content changed (hash): expected {recomputed}, found {entry.get('hash')}"
            )
        prev = recomputed
    if item.get("head") != prev or item.get("length") != len(entries):
        return (
            f"{name}: head: expected {item.get('length')}:{item.get('head')}, "
            f"found {len(entries)}:{prev} (an entry missing at the end?)"
        )
    return None


def still_there(name: str, old: dict, new: dict | None) -> str | None:
    """An earlier export's chain is a prefix of the new one."""
    if not old.get("length"):
        return None
    if new is None:
        return f"{name}: in the earlier export, missing now"
    entries = new.get("entries", [])
    place = old["length"]
    if len(entries) < place or entries[place - 1].get("hash") != old.get("head"):
        return f"{name}: place {place} no longer has the earlier head {old.get('head')}"
    return None


def main(argv: list[str]) -> int:
    known: list[str] = []
    paths: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--known":
            known.append(next(args, ""))
        elif arg in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            paths.append(arg)
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        chains = load(paths)
        earlier = load(known) if known else {}
    except (OSError, ValueError) as exc:
        print(f"cannot read the export: {exc}", file=sys.stderr)
        return 2
    problems = [p for name, item in sorted(chains.items()) if (p := check(name, item))]
    problems += [
        p
        for name, old in sorted(earlier.items())
        if (p := still_there(name, old, chains.get(name)))
    ]
    for problem in problems:
        print(f"BROKEN {problem}")
    entries = sum(len(item.get("entries", [])) for item in chains.values())
    state = "intact" if not problems else f"{len(problems)} broken"
    print(f"{len(chains)} chains, {entries} entries: {state}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
