"""Story identity: is this article a near-duplicate of one already seen (``duplicate_of``)?

- :mod:`service.identity.shingles` (pure): text -> normalised tokens -> hashed shingles;
- :mod:`service.identity.signature` (pure): MinHash signature (datasketch), packed form,
  LSH band keys and the verification rule (estimated similarity and containment);
- :mod:`service.identity.index` (I/O): the shared index in Redis and the atomic first claim.

docs/duplicates.md describes the method, its settings and its measured precision and recall.
"""
