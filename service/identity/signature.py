"""Pure: MinHash signatures (datasketch), their packed form, LSH band keys, and the rule
that decides whether two signatures are copies of one story.

A signature is ``BANDS x ROWS`` MinHash values of the article's shingle set
(:mod:`service.identity.shingles`). The index keeps each article's values cut to their low
16 bits (b-bit MinHash: two different values collide with probability 2**-16, corrected for
below) and one key per LSH band (a digest of the band's ``ROWS`` full values): two texts
whose shingle sets have Jaccard similarity ``J`` share at least one band with probability
``1 - (1 - J**ROWS)**BANDS`` (0.80 at J = 0.5, 0.99 at J = 0.7 with 24 x 4).

Verification of a candidate uses the estimated Jaccard similarity ``J`` and the estimated
containment of the smaller text in the larger (``|A ∩ B| / min(|A|, |B|)``, from ``J`` and
the exact set sizes): a copy is either similar (``J >= min_similarity``) or contained
(``containment >= min_containment``, e.g. a copy with its last paragraphs cut), and in both
cases shares at least ``min_shared`` shingles (a standard paragraph shared by two short
briefs is not enough).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
from datasketch import MinHash

from service.identity.shingles import shingle_hashes, tokens

BANDS = 24
ROWS = 4
NUM_PERM = BANDS * ROWS
SEED = 20261201  # fixed: every worker must compute the same signature for the same text
SCHEME = "affine32"
_COLLISION = 2.0**-16  # two different 16-bit values are equal by chance
_HEADER = struct.Struct("<I")  # the shingle count before the packed values


@dataclass(frozen=True, slots=True)
class Signature:
    """The MinHash of one text: ``NUM_PERM`` 32-bit values and the size of its shingle set."""

    values: npt.NDArray[np.uint32]
    shingles: int

    def packed(self) -> bytes:
        """The compact form kept in the index: shingle count, then the low 16 bits of
        every value (``4 + 2 * NUM_PERM`` bytes)."""
        low = (self.values & 0xFFFF).astype("<u2")
        return _HEADER.pack(self.shingles) + low.tobytes()

    def bands(self) -> list[bytes]:
        """One 8-byte key per LSH band: a digest of the band number and its values."""
        raw = self.values.astype("<u4")
        return [
            hashlib.blake2b(
                bytes([band]) + raw[band * ROWS : (band + 1) * ROWS].tobytes(), digest_size=8
            ).digest()
            for band in range(BANDS)
        ]


@dataclass(frozen=True, slots=True)
class Packed:
    """A signature as the index keeps it."""

    low: npt.NDArray[np.uint16]
    shingles: int

    @classmethod
    def parse(cls, data: bytes) -> Packed:
        (shingles,) = _HEADER.unpack_from(data)
        low = np.frombuffer(data, dtype="<u2", offset=_HEADER.size, count=NUM_PERM)
        return cls(low.astype(np.uint16), shingles)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a candidate counts as a copy (see the module docstring)."""

    min_similarity: float = 0.4
    min_containment: float = 0.8
    min_shared: int = 40


@dataclass(frozen=True, slots=True)
class Match:
    similarity: float  # estimated Jaccard similarity of the shingle sets
    containment: float  # estimated share of the smaller set found in the larger
    shared: float  # estimated number of shingles in common

    def is_copy(self, rule: Thresholds) -> bool:
        if self.shared < rule.min_shared:
            return False
        return self.similarity >= rule.min_similarity or self.containment >= rule.min_containment


@cache
def _template() -> MinHash:
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)


def sign(text: str, *, min_shingles: int) -> Signature | None:
    """The signature of ``text``; ``None`` when it has fewer than ``min_shingles`` distinct
    shingles (too short to tell a copy from a shared standard paragraph)."""
    hashes = shingle_hashes(tokens(text))
    if len(hashes) < max(1, min_shingles):
        return None
    template = _template()
    minhash = MinHash(
        num_perm=NUM_PERM,
        seed=SEED,
        scheme=SCHEME,
        hashfunc=int,
        permutations=template.permutations,
    )
    minhash.update_batch(hashes.tolist())
    return Signature(np.asarray(minhash.hashvalues, dtype=np.uint32), len(hashes))


def compare(new: Signature, other: Packed) -> Match:
    """Estimated similarity, containment and overlap of ``new`` and an indexed signature."""
    equal = float(np.count_nonzero((new.values & 0xFFFF).astype(np.uint16) == other.low))
    similarity = max(0.0, (equal / NUM_PERM - _COLLISION) / (1.0 - _COLLISION))
    shared = similarity / (1.0 + similarity) * (new.shingles + other.shingles)
    smaller = max(1, min(new.shingles, other.shingles))
    return Match(similarity, min(1.0, shared / smaller), shared)
