"""The texts a prompt asks an image to show, and how well OCR reads them in a generated image.

*What is expected.* A quoted text in one of our prompts can itself hold quotes (a fable's
dialogue), so quotes are not cut out of the prompt by pattern. The row's ``texts`` column knows
every drawn line exactly; a line is expected when the prompt says it (its normalised text occurs
in the normalised prompt; a short one as a whole word, so a label "ab" is not found in "about";
a single character alone never, since "a" or "F" is in nearly any prompt),
and consecutive lines that the prompt says as one stretch form one expected *block* (a title
wrapped over two lines, a paragraph). Rows without ``texts`` (another data set, a hand-written
prompt) fall back to the quoted stretches of the prompt.

*How it is read.* A generated image wraps and places text its own way, so the reads of a full
OCR pass are not compared in any fixed order: each read goes to the block it aligns with best
(a read holding several blocks is split where a block sits in it), and a block's reads are put in
the order of where they align in the block. The block's NED (:func:`synth.evaluate.text.ned`'s
definition: Levenshtein over the longer length, NFKC, case and spaces ignored) and its word
accuracy (share of its words whose every character aligns with an equal read character; a CJK
character is a word) come from that one alignment. Text the prompt does not ask for (a photo's
own signs) is not held against the image.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from synth.evaluate.text import normalize_text

#: A read joins a block only when it aligns at least this well (rapidfuzz partial ratio, 0-100).
MIN_ALIGN = 60.0
#: Lines this short (normalised characters) must occur in the prompt as a whole word, and reads
#: this short must occur in a block as they are.
SHORT = 4
_QUOTES = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」|(?<!\w)\'([^\']+)\'(?!\w)')
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@dataclass(frozen=True)
class Expected:
    """One block of text the prompt asks for."""

    text: str
    language: str  # "en" or "zh" (any CJK character)


@dataclass(frozen=True)
class BlockScore:
    text: str
    language: str
    words: int
    words_correct: int
    ned: float
    read: str  # the block's reads as aligned, normalised


def language_of(text: str) -> str:
    return "zh" if _CJK.search(text) else "en"


def _said(line: str, prompt_norm: str, prompt_words: str) -> bool:
    n = normalize_text(line)
    if len(n) < 2 or n not in prompt_norm:
        return False  # one character alone ("a", "F") is said by nearly any prompt
    if len(n) >= SHORT:
        return True
    word = normalize_text(line, ignore_space=False)
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", prompt_words) is not None


def expected_texts(prompt: str, texts: list[dict] | None) -> tuple[list[Expected], str]:
    """The blocks the prompt asks for and where they came from: ``"texts"`` (lines of the row's
    ``texts`` column that the prompt says), ``"prompt"`` (its quoted stretches, for rows without
    ``texts``) or ``"none"``."""
    prompt = prompt or ""
    if texts:
        prompt_norm = normalize_text(prompt)
        prompt_words = normalize_text(prompt, ignore_space=False)
        blocks: list[list[dict]] = []
        for t in texts:
            line = t.get("text") or ""
            run = blocks[-1] if blocks else []
            if run and normalize_text("".join(x["text"] for x in [*run, t])) in prompt_norm:
                run.append(t)  # the prompt says it right after the lines before it
            elif _said(line, prompt_norm, prompt_words):
                blocks.append([t])
            else:
                blocks.append([])  # a line the prompt does not say ends the stretch before it
        out = [Expected(_join(b), _language(b)) for b in blocks if b]
        if out:
            return out, "texts"
    found = [next(g for g in m.groups() if g) for m in _QUOTES.finditer(prompt)]
    found = [q for q in found if normalize_text(q)]
    return ([Expected(q, language_of(q)) for q in found], "prompt") if found else ([], "none")


def _join(lines: list[dict]) -> str:
    sep = "" if all(language_of(t["text"]) == "zh" for t in lines) else " "
    return sep.join(t["text"] for t in lines)


def _language(lines: list[dict]) -> str:
    given = lines[0].get("language")
    return given if given in ("en", "zh") else language_of(_join(lines))


def words_of(text: str) -> list[tuple[int, int]]:
    """Spans of the words of ``text`` in its normalised form (:func:`normalize_text`, which drops
    spaces): runs of letters and digits ended by a space or punctuation, each CJK character alone;
    punctuation belongs to no word."""
    spans, pos, start = [], 0, None
    for ch in unicodedata.normalize("NFKC", text).casefold():
        cjk = _CJK.match(ch) is not None
        if ch.isalnum() and not cjk:
            start = pos if start is None else start
        elif start is not None:
            spans.append((start, pos))
            start = None
        if cjk:
            spans.append((pos, pos + 1))
        if not ch.isspace():
            pos += 1
    if start is not None:
        spans.append((start, pos))
    return spans


def assign_reads(blocks: list[str], reads: list[str]) -> list[list[tuple[int, str]]]:
    """For each normalised block, the (position in the block, text) pieces of the normalised reads
    that align with it best; a read longer than a block it holds is split around it."""
    pieces: list[list[tuple[int, str]]] = [[] for _ in blocks]
    queue = [r for r in reads if r]
    while queue:
        read = queue.pop()
        best, best_al = -1, None
        for k, block in enumerate(blocks):
            if not block or (len(read) < SHORT and read not in block):
                continue  # a short read's partial ratio is noise: it must occur as it is
            al = fuzz.partial_ratio_alignment(read, block)
            if al and al.score >= MIN_ALIGN and (best_al is None or al.score > best_al.score):
                best, best_al = k, al
        if best_al is None:
            continue
        if len(read) > len(blocks[best]):  # the block sits inside the read: keep its stretch
            a, b = best_al.src_start, best_al.src_end
            pieces[best].append((0, read[a:b]))
            queue += [part for part in (read[:a], read[b:]) if len(part) > 1]
        else:
            pieces[best].append((best_al.dest_start, read))
    return pieces


def score_block(expected: Expected, pieces: list[tuple[int, str]]) -> BlockScore:
    target = normalize_text(expected.text)
    read = "".join(text for _, text in sorted(pieces, key=lambda p: p[0]))
    dist = Levenshtein.distance(target, read)
    ned = dist / max(len(target), len(read)) if target or read else 0.0
    matched = [False] * len(target)
    for op in Levenshtein.opcodes(target, read):
        if op.tag == "equal":
            matched[op.src_start : op.src_end] = [True] * (op.src_end - op.src_start)
    words = words_of(expected.text)
    correct = sum(all(matched[a:b]) for a, b in words)
    return BlockScore(expected.text, expected.language, len(words), correct, round(ned, 6), read)


def score_reads(expected: list[Expected], reads: list[str]) -> list[BlockScore]:
    """Each expected block scored against the reads of one image (OCR texts, in any order)."""
    blocks = [normalize_text(e.text) for e in expected]
    pieces = assign_reads(blocks, [normalize_text(r) for r in reads])
    return [score_block(e, p) for e, p in zip(expected, pieces, strict=True)]
