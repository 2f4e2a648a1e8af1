"""A hypothesis strategy shared by the property tests: real documents, mutated."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st


@st.composite
def mutated(
    draw: st.DrawFn, seeds: Sequence[bytes], inserts: Sequence[bytes], *, max_delete: int = 64
) -> bytes:
    """One of ``seeds`` with 1 to 4 edits: truncated, a snippet of ``inserts`` (or random
    bytes) inserted, up to ``max_delete`` bytes deleted, or a byte flipped."""
    seed = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(seed)))
        action = draw(st.sampled_from(["truncate", "insert", "delete", "flip"]))
        if action == "truncate":
            del seed[position:]
        elif action == "insert":
            seed[position:position] = draw(
                st.sampled_from(list(inserts)) | st.binary(min_size=1, max_size=16)
            )
        elif action == "delete":
            del seed[position : position + draw(st.integers(1, max_delete))]
        elif seed:
            seed[min(position, len(seed) - 1)] ^= draw(st.integers(1, 255))
    return bytes(seed)
