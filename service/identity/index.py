"""I/O: the near-duplicate index in Redis, shared by every worker, and the atomic first claim.

Layout (``<p>`` is the key prefix, ``<day>`` days since 1970 in UTC by Redis's clock; every
key of a day expires whole ``duplicates_window_days`` after that day ends):

- ``<p>:story:<day>:n``: the day's shard count (fixed when the day's first story is indexed);
- ``<p>:story:<day>:b:<shard>``: hash, LSH band key -> article ref (the first 8 bytes of its
  id); a band key is 8 bytes, the first 4 (little-endian) choose the shard, the last 4 are
  the field; a band is owned by the first story that had it (``HSETNX``). Shards keep each
  hash small enough for Redis's compact listpack encoding;
- ``<p>:story:<day>:sig``: hash, article ref -> its original's id (16 bytes) and its packed
  signature (:meth:`Signature.packed`).

One Lua script decides, atomically: an article already indexed keeps its verdict (an update
at its own URL, or a redelivered task); otherwise the script returns the candidates found
through the bands that the caller has not verified yet; the caller verifies them (pure
:func:`compare`) and calls again, either to link to a verified copy's original or, once the
script finds no unverified candidate left, to claim the story as a new original. So of two
copies processed at the same moment one claims and the other finds it: exactly one original.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import redis

from service.identity.signature import Packed, Signature, Thresholds, compare, sign
from service.models import Article
from service.observability.metrics import record_identity
from service.settings import Settings
from service.urls import article_id

MAX_ROUNDS = 6  # verification rounds before a story is claimed whatever remains unverified
MAX_CANDIDATES = 24  # candidates returned per round
SHARD_ENTRIES = 96  # band entries per shard hash aimed at (Redis listpack limit: 128)
ID_BYTES = 16
REF_BYTES = 8

_CLAIM = """
local p, window, shards = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local self_id, packed, mode, target, hint = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local self_ref = string.sub(self_id, 1, 8)
local limit, refs, packed_bands = 1 + 3 * tonumber(ARGV[9]), ARGV[10], ARGV[11]
local checked = {}
for i = 1, #refs, 8 do checked[string.sub(refs, i, i + 7)] = true end
local bands = {}
for i = 1, #packed_bands, 8 do
  local b1, b2, b3, b4 = string.byte(packed_bands, i, i + 3)
  local shard = ((b4 * 256 + b3) * 256 + b2) * 256 + b1
  bands[#bands + 1] = {shard, string.sub(packed_bands, i + 4, i + 7)}
end
local today = math.floor(tonumber(redis.call('TIME')[1]) / 86400)
local function find(ref)
  for d = today, today - window, -1 do
    local rec = redis.call('HGET', p .. ':story:' .. d .. ':sig', ref)
    if rec then return rec end
  end
  return nil
end
local function insert(root)
  local expires = (today + window + 1) * 86400
  local nkey = p .. ':story:' .. today .. ':n'
  local n = tonumber(redis.call('GET', nkey))
  if not n then
    n = shards
    redis.call('SET', nkey, n, 'EXAT', expires)
  end
  for _, band in ipairs(bands) do
    local key = p .. ':story:' .. today .. ':b:' .. (band[1] % n)
    redis.call('HSETNX', key, band[2], self_ref)
    redis.call('EXPIREAT', key, expires)
  end
  local sig = p .. ':story:' .. today .. ':sig'
  redis.call('HSET', sig, self_ref, root .. packed)
  redis.call('EXPIREAT', sig, expires)
end
local known = find(self_ref)
if known then return {'known', string.sub(known, 1, 16)} end
if mode == 'link' then
  local rec = find(target)
  if not rec then return {'gone'} end
  local root = string.sub(rec, 1, 16)
  insert(root)
  return {'linked', root}
end
if mode == 'claim' then
  local out, seen = {'candidates'}, {}
  local function offer(ref, rec, flag)
    if ref ~= self_ref and not checked[ref] and not seen[ref] and #out < limit then
      seen[ref] = true
      out[#out + 1] = ref; out[#out + 1] = rec; out[#out + 1] = flag
    end
  end
  if hint ~= '' then
    local rec = find(hint)
    if rec then offer(hint, rec, '1') end
  end
  for d = today, today - window, -1 do
    local n = tonumber(redis.call('GET', p .. ':story:' .. d .. ':n'))
    if n then
      local prefix = p .. ':story:' .. d .. ':b:'
      for _, band in ipairs(bands) do
        local ref = redis.call('HGET', prefix .. (band[1] % n), band[2])
        if ref and ref ~= self_ref and not checked[ref] and not seen[ref] then
          local rec = redis.call('HGET', p .. ':story:' .. d .. ':sig', ref)
          if rec then offer(ref, rec, '0') end
        end
      end
    end
  end
  if #out > 1 then return out end
end
insert(self_id)
return {'claimed', self_id}
"""

Outcome = Literal["original", "duplicate", "known_original", "known_duplicate", "short"]


@dataclass(frozen=True, slots=True)
class Identity:
    """What the index says about one article."""

    duplicate_of: str | None  # the original's id, or None
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class Rules:
    """The verification rule of ordinary candidates, and the looser one of the article seen
    at the page's cross-site canonical URL (a strong hint, still checked against the text)."""

    copy: Thresholds = field(default_factory=Thresholds)
    hinted: Thresholds = field(
        default_factory=lambda: Thresholds(min_similarity=0.3, min_containment=0.5)
    )


class StoryIndex:
    """The shared near-duplicate index of one key prefix."""

    def __init__(self, client: redis.Redis, settings: Settings, rules: Rules | None = None) -> None:
        self.client = client
        self.settings = settings
        self.rules = rules or Rules()
        self._claim = client.register_script(_CLAIM)
        self.shards = max(1, -(-settings.duplicates_daily_articles * 24 // SHARD_ENTRIES))

    def identify(self, article_id: str, text: str, *, hint_id: str | None = None) -> Identity:
        """Link ``article_id`` to the original of the story its ``text`` tells, or claim it
        as a new original; ``hint_id`` is the id the page's cross-site canonical URL would
        have (``None`` without one)."""
        signature = sign(text, min_shingles=self.settings.duplicates_min_words)
        if signature is None:
            return Identity(None, "short")
        self_id = bytes.fromhex(article_id)
        hint = bytes.fromhex(hint_id)[:REF_BYTES] if hint_id else b""
        checked: list[bytes] = []
        target = b""
        for _ in range(MAX_ROUNDS):
            reply = self._run(
                signature, self_id, "link" if target else "claim", target, hint, checked
            )
            kind = reply[0].decode()
            if kind == "gone":
                target = b""
                continue
            if kind != "candidates":
                return _identity(kind, bytes(reply[1]), self_id)
            target = self._verify(signature, reply[1:], checked)
        reply = self._run(signature, self_id, "link" if target else "force", target, hint, checked)
        kind = reply[0].decode()
        if kind == "gone":
            reply = self._run(signature, self_id, "force", b"", hint, checked)
            kind = reply[0].decode()
        return _identity(kind, bytes(reply[1]), self_id)

    def _verify(self, signature: Signature, flat: list[Any], checked: list[bytes]) -> bytes:
        """The ref of the best verified copy among the candidates (``b""`` if none); every
        candidate is added to ``checked``."""
        best, best_score = b"", -1.0
        for i in range(0, len(flat), 3):
            ref, record, hinted = bytes(flat[i]), bytes(flat[i + 1]), flat[i + 2] == b"1"
            checked.append(ref)
            match = compare(signature, Packed.parse(record[ID_BYTES:]))
            rule = self.rules.hinted if hinted else self.rules.copy
            score = max(match.similarity, match.containment) + (1.0 if hinted else 0.0)
            if match.is_copy(rule) and score > best_score:
                best, best_score = ref, score
        return best

    def _run(
        self,
        signature: Signature,
        self_id: bytes,
        mode: str,
        target: bytes,
        hint: bytes,
        checked: list[bytes],
    ) -> list[Any]:
        reply: list[Any] = self._claim(
            args=[
                self.settings.key_prefix,
                self.settings.duplicates_window_days,
                self.shards,
                self_id,
                signature.packed(),
                mode,
                target,
                hint,
                MAX_CANDIDATES,
                b"".join(checked),
                b"".join(signature.bands()),
            ]
        )
        return reply


def _identity(kind: str, root: bytes, self_id: bytes) -> Identity:
    original = root == self_id
    duplicate_of = None if original else root.hex()
    if kind == "known":
        return Identity(duplicate_of, "known_original" if original else "known_duplicate")
    return Identity(duplicate_of, "original" if original else "duplicate")


def identify_article(index: StoryIndex, article: Article, *, claimed: str | None = None) -> Article:
    """``article`` with ``duplicate_of`` set from the index (recorded in metrics); ``claimed``
    is the page's canonical URL on another site, if it has one (a hint, checked)."""
    started = time.perf_counter()
    hint_id = article_id(claimed) if claimed else None
    found = index.identify(article.id, article.text, hint_id=hint_id)
    record_identity(found.outcome, time.perf_counter() - started)
    if found.duplicate_of == article.duplicate_of:
        return article
    return article.model_copy(update={"duplicate_of": found.duplicate_of})
