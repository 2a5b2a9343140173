"""Corpus-level metadata: every document's force, year and pillar resolved against the forces the whole corpus
names, and each passage labelled with the report it cites and the force it is about.

Run on every build (it is cheap and needs no model), so a sidecar edited, or a report that teaches the full
name of a force ("Ashdown Constabulary" for the "Ashdown PEEL 2016" of another file), updates every document
without re-embedding anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from .forces import Force, ForceRegistry, learn_aliases
from .metadata import ReportMeta, detect, learned_forces
from .passage import Passage


@dataclasses.dataclass(frozen=True)
class DocumentInfo:
    """What detection needs about one document, kept in the manifest so unchanged files are not re-read."""

    file: str
    title: str
    head: tuple[str, ...]
    explicit: dict  # front matter and sidecar fields


def resolve_reports(docs: Sequence[DocumentInfo],
                    passages: dict[str, list[Passage]]) -> tuple[dict[str, ReportMeta], ForceRegistry]:
    """{file: metadata} for every document, and the forces the corpus knows (canonical plus learned)."""
    registry = ForceRegistry.canonical()
    first = [detect(d.file, d.title, list(d.head), d.explicit, registry) for d in docs]
    # Names the documents give in full ("Ashdown Constabulary") teach the registry; a short name no
    # full name matches ("Foo" of "Foo PEEL 2016") becomes a force of its own.
    registry = registry.with_forces(Force(n) for n in learned_forces(first))
    registry = registry.with_forces(Force(m.force) for m in first if m.force and not registry.resolve(m.force))
    metas = {d.file: detect(d.file, d.title, list(d.head), d.explicit, registry) for d in docs}
    by_force: dict[str, list[str]] = {}
    for file, meta in metas.items():
        if meta.force:
            by_force.setdefault(meta.force, []).extend(p.text for p in passages.get(file, []))
    registry = registry.with_forces(Force(name, learn_aliases(name, texts)) for name, texts in by_force.items())
    return metas, registry


def label_passages(passages: list[Passage], meta: ReportMeta, registry: ForceRegistry) -> list[Passage]:
    """The passages of one document with their report's label, year and pillar, and the force each is about.

    In a force's own report that is the report's force. In a national or multi-force document it is the one
    force a passage's headings name ("## Ashdown Constabulary"), else the one force its text names ("HMIC
    judged that Ashdown Constabulary:"); a passage naming several forces, or none, belongs to no force.
    """
    out = []
    for p in passages:
        force, mentions = meta.force, ()
        if meta.scope != "force":
            in_headings = {n for s in p.section for n in registry.named_in(s)}
            in_text = registry.named_in(p.text)
            force = next(iter(in_headings)) if len(in_headings) == 1 else in_text[0] if len(in_text) == 1 else None
            mentions = tuple(dict.fromkeys([*sorted(in_headings), *in_text]))
        out.append(dataclasses.replace(p, force=force, year=meta.year, period=meta.period, pillar=meta.pillar,
                                       report=meta.label, mentions=mentions))
    return out


def indexed_forces(passages: list[Passage], registry: ForceRegistry) -> list[Force]:
    """The registry entries (with aliases) of the forces the index holds passages about."""
    present = {p.force for p in passages if p.force}
    return [f for f in registry.forces if f.name in present]
