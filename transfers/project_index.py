"""An in-process columnar index of the published transfer projects: filters, counts, facets, order.

Why it exists: at 100,000 projects the project list's six facets are six GROUP BYs over tens of
thousands of rows, plus an exact COUNT: about 300 ms of PostgreSQL per page (see README,
"Benchmark"), and a 2-character Chinese search reads some 8,000 rows. Held as NumPy columns
(about 35 MB per process at 100k projects, most of it for keyword search), the same exact answers
take a few milliseconds, for any combination of filters and keywords.

PostgreSQL (or SQLite) stays the source of truth. Every change to what the index is built from
(`BUILT_FROM`; not a related record saved with its slug: `leaves_index_as_is`) writes a new
projects' version (`ContentVersion`) in its own transaction, and logs which projects it changed
(`ProjectIndexChange`). `get_index()` reads the version and, when
it differs from the index's, patches the index with the projects logged since (`patch_index`)
or, when a patch cannot express the change, rebuilds it; so each worker answers from committed
data only. The rows a page shows are always read from the database by primary key.

The index holds what the filters and sorting need: stage, mode, district, platform, owner,
fields, year and amount per project, and the project's place in each sort order. For keyword
search it holds where each Chinese character occurs in each project's search columns
(`SearchText`): a Chinese term is found where its characters occur in a row, exactly as the
database's substring test would find it, because a 2-character term matches too many rows for
PostgreSQL's index to answer quickly. It holds their Latin words too, coded (`LatinWords`): a
common word such as "cell" matches as many rows, which PostgreSQL must each re-check (35 ms). A
query with a word of digits alone (a year) is answered by the database (xuhui_portal/search.py),
and its hits are mapped to positions here.
"""

import ctypes
import gc
import re
import threading
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from functools import cached_property
from itertools import chain, islice, pairwise

import numpy as np
from django.db import router
from django.db.models import F, Window
from django.db.models.functions import DenseRank
from django.db.models.signals import post_save

from districts.models import InnovationDistrict, Institution, TechField
from xuhui_portal.models import ContentVersion, ProjectIndexChange
from xuhui_portal.search import CJK_RANGES, MAX_QUERY_LENGTH, Term, parse_query

from .models import TransferPlatform, TransferProject

#: Stored for a missing year or amount; real years are ≥ 1949 and amounts ≥ 0.
MISSING = -1
#: A sort key for a missing value: after every known one, ascending or descending.
UNKNOWN_LAST = np.iinfo(np.int64).max
#: A search rank (query terms found in a title, at most MAX_TERMS) fits a byte: per-request
#: arrays stay small, which matters because django-filter's reference cycles keep a request's
#: FilterSet, and its arrays, until the garbage collector runs.
RANK = np.int8
#: A project's position, a slot, or an offset into the search text: 4 bytes, not numpy's 8. At
#: 100k projects (5.5M characters) the positions and offsets the index keeps take 3 MB, not 6.
POSITION = np.int32

# On the request path, large arrays are indexed by intp (np.int64) positions, never by a stored
# int32 array as such: at 100k elements NumPy 2.5 took 180 µs to index by int32 positions against
# 50 µs by intp ones (65 µs with the cast). A boolean mask that selects some of an array in no
# pattern (a filter's matches) is applied with compress(): 82 µs against 420 µs for a[mask] for
# half of 100k; a[mask] stays where nearly all or nearly none is selected, where it is faster.


def _codes_of(keys: list[str], wanted: Iterable[str]) -> list[int]:
    wanted = set(wanted)
    return [code for code, key in enumerate(keys) if key in wanted]


#: Up to this many wanted values, a mask is made by comparing the codes with each (5 µs a value
#: at 100k projects); for more, by a lookup table (65 µs).
MASK_BY_COMPARISON = 12
#: A column of up to this many keys keeps a bitmap of each key's projects, and counts a subset's
#: projects per key from them: 12.5 KB a key at 100k projects, 2 µs a key to count, where
#: tallying the codes of a subset of a quarter of the projects took 50-100 µs a column.
BITMAP_KEYS = 64
#: A subset of fewer than this share of the projects is counted by tallying its codes: 2 µs per
#: thousand projects.
TALLY_SHARE = 1 / 16


class Subset:
    """Some of the index's projects (`mask`), and what counting them per key reads, each made
    once: their positions (for columns of many keys) and their bitmap (for the others)."""

    def __init__(self, mask: np.ndarray):
        self.mask = mask

    @cached_property
    def positions(self) -> np.ndarray:
        return np.flatnonzero(self.mask)

    @cached_property
    def bits(self) -> np.ndarray:
        return _bitmap(self.mask)

    @cached_property
    def size(self) -> int:
        return int(np.count_nonzero(self.mask))


def _bitmap(mask: np.ndarray) -> np.ndarray:
    """A bit per project, in 64-bit words (the last one padded with 0s): NumPy counts the bits
    of words 2.5 times faster than those of bytes."""
    packed = np.zeros(-(-len(mask) // 64) * 8, dtype=np.uint8)
    packed[: -(-len(mask) // 8)] = np.packbits(mask)
    return packed.view(np.uint64)


def _key_bitmaps(rows_of_keys: Iterable[np.ndarray], keys: int, size: int) -> np.ndarray:
    """Per key, the bitmap of the projects at the key's positions."""
    bits = np.zeros((keys, -(-size // 64)), dtype=np.uint64)
    has_key = np.zeros(size, dtype=bool)
    for code, rows in enumerate(rows_of_keys):
        has_key[:] = False
        has_key[rows] = True
        bits[code] = _bitmap(has_key)
    return bits


def _bits_in_common(key_bits: np.ndarray, subset: Subset) -> list[int]:
    """Per key, its projects in `subset`."""
    return np.bitwise_count(key_bits & subset.bits).sum(axis=1, dtype=np.int64).tolist()


@dataclass
class Dimension:
    """A single-valued column coded as small integers: `codes[i]` indexes `keys`, -1 when empty."""

    codes: np.ndarray
    keys: list[str]
    #: The code of each value read from the database (a stage, a record's id): for patches.
    code_of: dict = dataclass_field(default_factory=dict, repr=False)
    #: Per key, its projects as a bitmap (`_key_bitmaps`), if the keys are few (BITMAP_KEYS).
    bits: np.ndarray | None = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # The smallest signed type for the codes, -1 to len(keys) (counts add 1): a byte for
        # the stages, modes, districts and platforms (0.1 MB each at 100k projects, not 0.4).
        keys = len(self.keys)
        self.codes = self.codes.astype(
            np.int8 if keys < 127 else np.int16 if keys < 32767 else np.int32, copy=False
        )
        self.bits = (
            _key_bitmaps((self.codes == code for code in range(keys)), keys, len(self.codes))
            if keys <= BITMAP_KEYS
            else None
        )

    def mask(self, keys: Iterable[str], include_empty: bool = False) -> np.ndarray:
        wanted = _codes_of(self.keys, keys) + ([-1] if include_empty else [])
        if len(wanted) <= MASK_BY_COMPARISON:
            mask = np.zeros(len(self.codes), dtype=bool)
            for code in wanted:
                mask |= self.codes == code
            return mask
        # A lookup table indexed by code; code -1 (empty) reads its last slot.
        table = np.zeros(len(self.keys) + 1, dtype=bool)
        table[wanted] = True
        return table[self.codes.astype(np.intp)]

    def counts(self, subset: Subset | None = None, empty_key: str | None = None) -> dict[str, int]:
        """Projects per key in `subset` (all when None); empty values under `empty_key` if given."""
        if subset is not None and self.bits is not None and subset.size >= len(self.codes) * TALLY_SHARE:
            tally = _bits_in_common(self.bits, subset)
            tally.insert(0, subset.size - sum(tally))
        else:
            codes = self.codes if subset is None else self.codes[subset.positions]
            tally = np.bincount(codes + 1, minlength=len(self.keys) + 1).tolist()
        counts = {key: n for key, n in zip(self.keys, tally[1:], strict=True) if n}
        if empty_key is not None and tally[0]:
            counts[empty_key] = tally[0]
        return counts


class _Coder:
    """Codes a single-valued column while it is read: an int32 per project and each distinct value
    once. Lists of 100,000 Python values per column made the build's peak memory, which the
    worker's heap then kept."""

    def __init__(self, size: int):
        self.codes = np.empty(size, dtype=np.int32)
        self.seen: dict = {}

    def put(self, start: int, values: tuple) -> None:
        """Code `values`, the column's values from position `start` on."""
        seen = self.seen
        self.codes[start : start + len(values)] = [
            -1 if value is None or value == "" else seen.setdefault(value, len(seen)) for value in values
        ]

    def dimension(self, length: int, keys: dict | None = None) -> Dimension:
        """The Dimension, its keys in the order of the values' text; `keys` maps values to keys."""
        distinct = sorted(self.seen, key=str)
        order = np.empty(len(distinct) + 1, dtype=np.int32)  # first-seen code -> sorted code
        order[[self.seen[value] for value in distinct]] = np.arange(len(distinct), dtype=np.int32)
        order[-1] = -1  # empty stays empty
        return Dimension(
            codes=order[self.codes[:length]],
            keys=[keys[value] if keys else str(value) for value in distinct],
            code_of={value: code for code, value in enumerate(distinct)},
        )


@dataclass
class MultiDimension:
    """A many-valued column (a project's fields): one entry per (project, value) pair."""

    rows: np.ndarray  # the project position of each entry
    codes: np.ndarray  # the value code of each entry
    keys: list[str]
    key_ids: list[int]  # the primary key of each key's record
    size: int  # number of projects
    #: The entries' codes grouped by project, each project's in code order: project i's are
    #: codes_by_row[row_starts[i]:row_starts[i + 1]].
    codes_by_row: np.ndarray = dataclass_field(init=False)
    row_starts: np.ndarray = dataclass_field(init=False)

    def __post_init__(self):
        self.rows = self.rows.astype(POSITION, copy=False)
        self.codes = self.codes.astype(POSITION, copy=False)
        # By project, then by code: the same arrays whatever order the entries were read in. A
        # project links a field once, so the combined keys are distinct and any sort gives one
        # order: quicksort, 4 times faster than a stable sort by project alone.
        by_row = np.argsort(self.rows.astype(np.int64) * max(len(self.keys), 1) + self.codes)
        self.codes_by_row = self.codes[by_row]
        starts = np.searchsorted(self.rows[by_row], np.arange(self.size + 1, dtype=POSITION))
        self.row_starts = starts.astype(POSITION)
        # Per key, its projects as a bitmap (a bit per project, 12.5 KB per key at 100k
        # projects): a facet counts a selection's projects of every key in one AND and popcount.
        by_code = np.argsort(self.codes, kind="stable")
        bounds = np.searchsorted(self.codes[by_code], np.arange(len(self.keys) + 1))
        self.bits = _key_bitmaps(
            (self.rows[by_code[start:end]] for start, end in pairwise(bounds.tolist())),
            len(self.keys),
            self.size,
        )

    def key_ids_at(self, positions: Iterable[int]) -> list[list[int]]:
        """The primary keys of the values of each project at `positions`."""
        starts, codes, key_ids = self.row_starts, self.codes_by_row, self.key_ids
        return [[key_ids[code] for code in codes[starts[p] : starts[p + 1]].tolist()] for p in positions]

    def mask(self, keys: Iterable[str]) -> np.ndarray:
        """Projects with any of `keys`: their bitmaps OR-ed."""
        wanted = _codes_of(self.keys, keys)
        if not wanted:
            return np.zeros(self.size, dtype=bool)
        bits = np.bitwise_or.reduce(self.bits[wanted], axis=0)
        return np.unpackbits(bits.view(np.uint8), count=self.size).view(bool)

    def counts(self, subset: Subset | None = None, empty_key: str | None = None) -> dict[str, int]:
        """Projects per key in `subset` (all when None); a project without fields has no key
        (`empty_key` unused)."""
        if subset is None:
            tally = np.bincount(self.codes, minlength=len(self.keys)).tolist()
        else:
            # Six times faster than tallying the entries of a quarter of the projects.
            tally = _bits_in_common(self.bits, subset)
        return {key: n for key, n in zip(self.keys, tally, strict=True) if n}


#: A Latin run of the normalised text (a word of xuhui_portal/search.py) with a letter in it.
_LETTERED_WORD = re.compile(r"[a-z0-9]*[a-z][a-z0-9]*")


def indexed_word(word: str) -> bool:
    """Whether the index holds a word: one with a letter. Words of digits alone (years, the
    numbers in names) stay in the database: 100,000 distinct ones in the synthetic data alone."""
    return not word.isdigit()


class LatinWords:
    """The Latin words of every project's search columns (those with a letter), coded.

    A build codes the words in alphabetical order (`words`), so that the words a query word
    begins are one range of codes, and indexes the slots (as in SearchText) that hold each word
    (`postings`) and those whose title holds it (`title_postings`). A patch codes new words after
    them (`added`) and appends the words of the slots it adds as (slot, code) entries, the tails
    (`tail_slots`, `tail_codes` and the title's), which a search scans. The slots of removed
    projects keep their words: their positions (SearchText.slot_positions) are -1.
    """

    def __init__(self):
        self._code_of: dict[str, int] = {}  # words get codes as they are read, sorted at the end
        self._codes: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []
        self._title_codes: list[np.ndarray] = []
        self._title_counts: list[np.ndarray] = []

    def add(self, texts: list[str]) -> None:
        """Append projects' texts, given as [title, rest, title, rest, ...] (SearchText.add's)."""
        code_of = self._code_of

        def coded(text: str) -> list[int]:
            words = _LETTERED_WORD.findall(text)
            codes = list(map(code_of.get, words))
            if None in codes:  # a word not seen before
                codes = [code_of.setdefault(word, len(code_of)) for word in words]
            return codes

        codes, counts, title_codes, title_counts = [], [], [], []
        for title, rest in zip(texts[0::2], texts[1::2], strict=True):
            in_title = dict.fromkeys(coded(title))
            in_text = dict.fromkeys(chain(in_title, coded(rest)))
            title_codes.extend(in_title)
            title_counts.append(len(in_title))
            codes.extend(in_text)
            counts.append(len(in_text))
        # Each chunk in the smallest type for the words coded so far (a build holds every chunk
        # until the vocabulary is known): 8-byte arrays of the 2.5M codes at 100k projects raised
        # a worker's peak memory by 45 MB during a build.
        code_type = _code_type(len(code_of))
        self._codes.append(np.array(codes, dtype=code_type))
        self._title_codes.append(np.array(title_codes, dtype=code_type))
        self._counts.append(np.array(counts, dtype=np.int32))
        self._title_counts.append(np.array(title_counts, dtype=np.int32))

    def finish(self) -> "LatinWords":
        self.words = sorted(self._code_of)
        # The words in one string, for finding those containing a query word (`_containing`).
        self.joined_words = "\n".join(self.words)
        self.word_starts = _starts(np.array([len(word) + 1 for word in self.words], dtype=POSITION))[:-1]
        alphabetical = np.empty(len(self.words), dtype=_code_type(len(self.words)))  # code read -> place
        alphabetical[[self._code_of[word] for word in self.words]] = np.arange(len(self.words))
        self.postings, self.title_postings = Postings(WORD_BLOCK_BITS), Postings(WORD_BLOCK_BITS)
        self.slots = 0
        chunks = [self._codes, self._counts, self._title_codes, self._title_counts]
        for chunk_list in chunks:
            chunk_list.reverse()
        while self._codes:  # a chunk at a time, each let go once indexed: a build's memory peaks here
            codes, counts, title_codes, title_counts = (chunk_list.pop() for chunk_list in chunks)
            slots = np.arange(self.slots, self.slots + len(counts), dtype=POSITION)
            self.postings.add(np.repeat(slots, counts), alphabetical[codes])
            self.title_postings.add(np.repeat(slots, title_counts), alphabetical[title_codes])
            self.slots += len(counts)
        self.postings.finish(self.slots)
        self.title_postings.finish(self.slots)
        self.added: dict[str, int] = {}
        self.tail_slots = self.title_tail_slots = np.zeros(0, dtype=POSITION)
        self.tail_codes = self.title_tail_codes = np.zeros(0, dtype=alphabetical.dtype)
        del self._code_of, self._codes, self._counts, self._title_codes, self._title_counts
        return self

    def patched(self, texts: list[str]) -> "LatinWords":
        """A copy with slots for the projects' `texts` (as for `add`) after the others."""
        addition = LatinWords()
        # Coded as the index codes them: the words it was built with, then those added since.
        addition._code_of = {word: code for code, word in enumerate(self.words)} | self.added
        known = len(addition._code_of)
        addition.add(texts)
        [counts], [title_counts] = addition._counts, addition._title_counts
        slots = np.arange(self.slots, self.slots + len(counts), dtype=POSITION)
        patched = LatinWords.__new__(LatinWords)
        for built in ("words", "joined_words", "word_starts", "postings", "title_postings"):
            setattr(patched, built, getattr(self, built))  # a patch leaves them as built
        patched.added = {**self.added, **{w: code for w, code in addition._code_of.items() if code >= known}}
        patched.slots = self.slots + len(counts)
        patched.tail_slots = np.concatenate([self.tail_slots, np.repeat(slots, counts)])
        patched.tail_codes = np.concatenate([self.tail_codes, *addition._codes])
        patched.title_tail_slots = np.concatenate([self.title_tail_slots, np.repeat(slots, title_counts)])
        patched.title_tail_codes = np.concatenate([self.title_tail_codes, *addition._title_codes])
        return patched

    def find(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """Slots with a word that begins with `word`, and slots whose title contains `word`
        (within one of its words: a query word holds no character that separates them)."""
        low = bisect_left(self.words, word)
        high = bisect_left(self.words, word + "{", low)  # "{" sorts after every letter and digit
        begun_added = [code for other, code in self.added.items() if other.startswith(word)]
        containing = self._containing(word)
        containing_added = [code for other, code in self.added.items() if word in other]
        tail_begun = (self.tail_codes >= low) & (self.tail_codes < high) | np.isin(
            self.tail_codes, begun_added
        )
        title_tail_containing = np.isin(self.title_tail_codes, containing + containing_added)
        return (
            np.concatenate([self.postings.positions_between(low, high), self.tail_slots[tail_begun]]),
            np.concatenate(
                [
                    self.title_postings.positions_of_any(containing),
                    self.title_tail_slots[title_tail_containing],
                ]
            ),
        )

    def _containing(self, word: str) -> list[int]:
        """The codes of the built words that contain `word`: found in all of them joined in one
        string, rather than word by word in a Python loop (3 ms a search for a vocabulary of
        50,000 words, 0.3 ms so). A query word holds no newline, so no match spans two words."""
        places = [match.start() for match in re.finditer(re.escape(word), self.joined_words)]
        return np.unique(np.searchsorted(self.word_starts, places, side="right") - 1).tolist()


def _code_type(size: int) -> np.dtype:
    """The smallest unsigned type for the codes of `size` words (0 to size - 1)."""
    return np.min_scalar_type(max(size - 1, 0))


def _starts(counts: np.ndarray) -> np.ndarray:
    return np.concatenate((np.zeros(1, dtype=POSITION), np.cumsum(counts, dtype=POSITION)))


def _joined(chunks: list[np.ndarray], dtype=np.int32) -> np.ndarray:
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=dtype)


#: Entries tested at a time by `_where` (temporaries of 128K elements).
SCAN_BLOCK = 1 << 17


def _where(values: np.ndarray, test) -> np.ndarray:
    """np.flatnonzero(test(values)), computed a block at a time.

    Used on the search text's tail, which may grow to a quarter of the text (1.4M characters at
    100k projects). A whole-array test makes temporaries of MBs, which the worker's allocator
    maps fresh (and the kernel zeroes) on every search (deploy/gunicorn.conf.py says why the
    worker maps large blocks). In blocks whose temporaries are reused, a scan of all 5.5M
    characters took 0.8 ms instead of 2.0.
    """
    return np.concatenate(
        [
            np.flatnonzero(test(values[start : start + SCAN_BLOCK])) + start
            for start in range(0, len(values), SCAN_BLOCK)
        ]
        or [np.zeros(0, dtype=np.intp)]
    )


#: The positions a block of postings covers, as a power of 2 (a position is kept as its offset
#: into its block, in 2 bytes): 65,536 characters; 4,096 slots, whose words' entries (18 per slot
#: at 100k projects) a build sorts a block at a time, so that its peak memory stays low.
CHARACTER_BLOCK_BITS = 16
WORD_BLOCK_BITS = 12


class Postings:
    """Where each value occurs: per value, its positions in ascending order (an inverted index).

    The search text's characters (a position per character) and its Latin words (a position per
    slot) are found through them, in time that follows how often the sought values occur rather
    than the length of the text: a scan of the 5.5M characters at 100k projects took 1.5 ms per
    term, and of the 1.8M word codes 2 ms per word.

    The positions are grouped by value (`values`, the distinct values, ascending): `values[r]`
    occurs at `offsets[starts[r]:starts[r + 1]]`, each position kept as its 2-byte offset into
    its block of 2 ** `block_bits` positions, `counts[r, b]` of them in block `b`. At 100k
    projects the characters' take 9.5 MB.
    """

    def __init__(self, block_bits: int):
        self.block_bits = block_bits
        self._blocks: list[tuple] = []  # per block: its distinct values, their counts, its offsets
        self._positions: list[np.ndarray] = []  # entries not yet in a block
        self._values: list[np.ndarray] = []
        self._next_block = 0  # the first position of the next block to make

    def add(self, positions: np.ndarray, values: np.ndarray) -> None:
        """Append entries, a value at each position: positions ascending, after those added before."""
        if not len(positions):
            return
        self._positions.append(positions.astype(POSITION, copy=False))
        self._values.append(values)
        whole = (int(positions[-1]) >> self.block_bits) << self.block_bits
        if whole > self._next_block:  # the blocks before the last entry's own are complete
            self._make_blocks(until=whole)

    def _make_blocks(self, until: int) -> None:
        """The blocks of the positions from the next block's first to `until` (a block's first)."""
        positions = _joined(self._positions, POSITION)
        values = _joined(self._values, np.int64)
        size = 1 << self.block_bits
        firsts = range(self._next_block, until, size)
        bounds = np.searchsorted(positions, np.arange(self._next_block, until + 1, size)).tolist()
        for first, (start, end) in zip(firsts, pairwise(bounds), strict=True):
            self._add_block(positions[start:end] - first, values[start:end])
        self._positions, self._values = [positions[bounds[-1] :]], [values[bounds[-1] :]]
        self._next_block = until

    def _add_block(self, offsets: np.ndarray, values: np.ndarray) -> None:
        order = np.argsort(values, kind="stable")  # by value, each value's in position order
        values = values[order]
        starts_a_run = np.ones(len(values), dtype=bool)
        starts_a_run[1:] = values[1:] != values[:-1]
        firsts = np.flatnonzero(starts_a_run)
        self._blocks.append(
            (values[firsts], np.diff(np.append(firsts, len(values))), offsets[order].astype(np.uint16))
        )

    def finish(self, length: int) -> "Postings":
        """Make the last blocks: `length` positions in all."""
        size = 1 << self.block_bits
        self._make_blocks(until=max(-(-length // size), 1) * size)
        blocks = self._blocks
        self.values = np.unique(np.concatenate([distinct for distinct, _counts, _offsets in blocks]))
        block_rows = [np.searchsorted(self.values, distinct) for distinct, _counts, _offsets in blocks]
        counts = np.zeros((len(self.values), len(blocks)), dtype=np.int64)
        for block, (rows, (_distinct, block_counts, _offsets)) in enumerate(
            zip(block_rows, blocks, strict=True)
        ):
            counts[rows, block] = block_counts
        self.starts = _starts(counts.sum(axis=1))
        run_starts = self.starts[:-1, None] + np.cumsum(counts, axis=1) - counts  # (value, block)
        # Each block's runs (a run: one value's offsets in the block) copied to their places, a
        # block at a time, each let go once copied: a worker's memory peaks in a build.
        self.offsets = np.empty(int(self.starts[-1]), dtype=np.uint16)
        blocks.reverse()
        for block, rows in enumerate(block_rows):
            _distinct, block_counts, offsets = blocks.pop()
            run_firsts = np.cumsum(block_counts) - block_counts
            places = np.repeat(run_starts[rows, block] - run_firsts, block_counts)
            self.offsets[places + np.arange(len(places))] = offsets
        self.counts = counts.astype(POSITION)
        self.block_firsts = np.arange(counts.shape[1], dtype=np.int64) << self.block_bits
        del self._blocks, self._positions, self._values, self._next_block
        return self

    def _row(self, value: int) -> int | None:
        row = int(np.searchsorted(self.values, value))
        return row if row < len(self.values) and self.values[row] == value else None

    def _at_rows(self, rows: np.ndarray) -> np.ndarray:
        """The positions of the values in `rows` (ascending rows), grouped by value."""
        if not len(rows):
            return np.zeros(0, dtype=np.int64)
        if rows[-1] - rows[0] + 1 == len(rows):  # consecutive rows: one run of offsets
            offsets = self.offsets[self.starts[rows[0]] : self.starts[rows[-1] + 1]]
        else:
            firsts = self.starts[rows].astype(np.int64)
            lengths = self.starts[rows + 1] - firsts
            ends = np.cumsum(lengths)
            offsets = self.offsets[np.repeat(firsts - (ends - lengths), lengths) + np.arange(ends[-1])]
        return offsets + np.repeat(np.tile(self.block_firsts, len(rows)), self.counts[rows].ravel())

    def positions(self, value: int) -> np.ndarray:
        """Where `value` occurs, ascending."""
        row = self._row(value)
        return self._at_rows(np.zeros(0, dtype=np.intp) if row is None else np.array([row]))

    def positions_between(self, low: int, high: int) -> np.ndarray:
        """Where the values from `low` to before `high` occur (grouped by value)."""
        return self._at_rows(np.arange(*np.searchsorted(self.values, [low, high])))

    def positions_of_any(self, values: list[int]) -> np.ndarray:
        """Where any of the (distinct) `values` occurs, grouped by value."""
        wanted = np.array(sorted(values), dtype=np.int64)
        rows = np.searchsorted(self.values, wanted)
        present = rows < len(self.values)
        present[present] = self.values[rows[present]] == wanted[present]
        return self._at_rows(rows[present])

    def spelled_out(self, length: int, padding: int, dtype) -> np.ndarray:
        """The value at each of `length` positions (0 where none), then `padding` 0s: the
        sequence the postings were made from. Rebuilt from them, about 2^19 entries at a time,
        rather than kept while they are made: a build's peak memory would hold both."""
        sequence = np.zeros(length + padding, dtype=dtype)
        bounds = np.unique(
            np.searchsorted(self.starts, np.arange(0, self.starts[-1], 1 << 19), side="right") - 1
        )
        for first, end in pairwise([*bounds.tolist(), len(self.values)]):
            rows = np.arange(first, end)
            sequence[self._at_rows(rows)] = np.repeat(
                self.values[rows], np.diff(self.starts[first : end + 1])
            )
        return sequence

    def occurrences(self, value: int) -> int:
        row = self._row(value)
        return 0 if row is None else int(self.starts[row + 1] - self.starts[row])


class SearchText:
    """The CJK characters of every project's search columns, in one sequence of positions.

    The project in slot `s` occupies positions `title_starts[s]` to `text_starts[s]` (its
    `search_title`), then up to `title_starts[s + 1]` (the rest of its `search_text`, which is the
    title, a space and the body). Every other character becomes a gap, and a run of them one gap:
    a Chinese term contains no such character, so it occurs in the sequence exactly where it
    occurs in the stored text, and never across the title and the rest. UTF-16 code units
    suffice, since every CJK character a query term can hold lies in the Basic Multilingual Plane.

    A build puts the project at position `i` in slot `i`, indexes every position (`postings`)
    and keeps the characters themselves (`chars`, 11 MB at 100k projects): a term is found where
    its rarest character occurs and the others follow, each tested at once at every candidate
    position. Intersecting the characters' postings instead took 0.72 ms for 免疫治疗 (three lists
    of 25,000 to 37,000 positions against 12,400 candidates), the tests here 0.12 ms.

    A patch (`patched`) appends slots for the projects it adds after them, as plain characters
    (`tail`, scanned on every search; a rebuild indexes them once they are many), and leaves
    those of the projects it removes in place; `slot_positions` maps each slot to its project's
    position, -1 for a removed project's slot.
    """

    def __init__(self):
        self._starts: list[np.ndarray] = []
        self.length = 0  # positions, without the tail's padding
        self._postings = Postings(CHARACTER_BLOCK_BITS)
        self._words = LatinWords()

    def add(self, texts: list[str]) -> None:
        """Append projects' texts, given as [title, text, title, text, ...] in index order."""
        self._words.add(texts)
        chars, starts = _characters(texts)
        places = np.flatnonzero(chars)  # the gaps are not indexed
        self._postings.add(places + self.length, chars[places])
        self._starts.append(self.length + starts)
        self.length += len(chars)

    def finish(self) -> "SearchText":
        starts = _joined(self._starts).astype(POSITION)
        # Contiguous copies, not strided views: np.searchsorted copies a view on every search.
        self.title_starts, self.text_starts = starts[0::2].copy(), starts[1::2].copy()
        self.postings = self._postings.finish(self.length)
        self.chars = self.postings.spelled_out(self.length, MAX_QUERY_LENGTH, np.uint16)
        self.tail_start = self.length
        self.tail = np.zeros(MAX_QUERY_LENGTH, dtype=np.uint16)
        self.slot_positions = np.arange(len(self.title_starts), dtype=POSITION)
        self.size = len(self.title_starts)  # projects (slots not removed)
        self.removed = 0  # positions in the slots of removed projects
        self.words = self._words.finish()
        del self._starts, self._postings, self._words
        return self

    def patched(self, removed: np.ndarray, texts: list[str], slot_positions: np.ndarray) -> "SearchText":
        """A copy with the slots `removed` left out and the projects' `texts` (as for `add`) in
        new slots after the others; `slot_positions` maps every slot, old and new, to its
        position."""
        words = self.words.patched(texts)
        chars, starts = _characters(texts)
        tail = np.concatenate(
            [self.tail[: self.length - self.tail_start], chars, np.zeros(MAX_QUERY_LENGTH, np.uint16)]
        )
        ends = np.append(self.title_starts[1:], self.length)
        removed_positions = 0
        for slot in removed.tolist():
            start, end = int(self.title_starts[slot]), int(ends[slot])
            removed_positions += end - start
            if start >= self.tail_start:  # indexed positions stay; their slot maps to -1
                tail[start - self.tail_start : end - self.tail_start] = 0
        patched = SearchText.__new__(SearchText)
        patched.postings, patched.chars = self.postings, self.chars
        patched.tail_start, patched.tail = self.tail_start, tail
        patched.length = self.length + len(chars)
        patched.title_starts = np.concatenate([self.title_starts, starts[0::2] + self.length])
        patched.text_starts = np.concatenate([self.text_starts, starts[1::2] + self.length])
        patched.slot_positions = slot_positions.astype(POSITION, copy=False)
        patched.size = int(np.count_nonzero(slot_positions >= 0))
        patched.removed = self.removed + removed_positions
        patched.words = words
        return patched

    def worth_rebuilding(self, limit: int) -> bool:
        """Whether the positions of removed projects, or those a search scans (the tail), are over
        `limit` and over a quarter of all: a rebuild drops the former and indexes the latter."""
        return max(self.removed, self.length - self.tail_start) > max(self.length // 4, limit)

    def search(self, terms: list[Term]) -> tuple[np.ndarray, np.ndarray]:
        """Projects containing every term (mask), and per project the terms found in its title.

        A Chinese term is found in the characters, a Latin one among the words (`indexed_word`).
        """
        size = self.size
        matching = np.ones(size, dtype=bool)
        in_title = np.zeros(size, dtype=RANK)
        for term in terms:
            if term.is_cjk:
                found, titled = self._find(term.text, size)
            else:
                found, titled = self._find_word(term.text, size)
            matching &= found
            in_title += titled
        return matching, in_title

    def _find_word(self, word: str, size: int) -> tuple[np.ndarray, np.ndarray]:
        found, titled = np.zeros(size + 1, dtype=bool), np.zeros(size + 1, dtype=bool)
        for mask, slots in zip((found, titled), self.words.find(word), strict=True):
            # A removed slot's words stay, at position -1: they mark the last entry, cut off.
            mask[self.slot_positions[slots].astype(np.intp)] = True
        return found[:size], titled[:size]

    def _find(self, term: str, size: int) -> tuple[np.ndarray, np.ndarray]:
        codes = np.frombuffer(term.encode("utf-16-le"), dtype=np.uint16)
        starts = np.concatenate([self._find_indexed(codes), self._scan_tail(codes) + self.tail_start])
        slots = np.searchsorted(self.title_starts, starts.astype(POSITION), side="right") - 1
        projects = self.slot_positions[slots].astype(np.intp)
        # A removed project's indexed text stays, in a slot at position -1; those, and the hits
        # outside titles, mark the last entry, cut off.
        found, titled = np.zeros(size + 1, dtype=bool), np.zeros(size + 1, dtype=bool)
        found[projects] = True  # the text holds the title
        titled[np.where(starts < self.text_starts[slots], projects, -1)] = True
        return found[:size], titled[:size]

    def _rarest(self, codes: np.ndarray) -> int:
        """The place in the term of its character with the fewest indexed occurrences."""
        return min(range(len(codes)), key=lambda place: self.postings.occurrences(codes[place]))

    def _find_indexed(self, codes: np.ndarray) -> np.ndarray:
        """Where the term `codes` starts in the indexed positions, ascending."""
        anchor = self._rarest(codes)
        starts = self.postings.positions(codes[anchor]) - anchor
        return _followed_by(self.chars, starts[starts >= 0], codes, anchor)

    def _scan_tail(self, codes: np.ndarray) -> np.ndarray:
        """Where the term `codes` starts in the tail (from the tail's start)."""
        if self.length == self.tail_start:
            return np.zeros(0, dtype=np.intp)
        tail = self.tail
        anchor = self._rarest(codes)
        anchor_code = codes[anchor]
        starts = _where(tail[: self.length - self.tail_start], lambda chars: chars == anchor_code) - anchor
        return _followed_by(tail, starts[starts >= 0], codes, anchor)


def _followed_by(chars: np.ndarray, starts: np.ndarray, codes: np.ndarray, anchor: int) -> np.ndarray:
    """The `starts` at which `chars` hold the term `codes`, whose character at place `anchor` is
    known to be there. `chars` extends at least the term's length past every start."""
    for place, code in enumerate(codes.tolist()):
        if place != anchor:
            starts = starts[chars[starts + place] == code]
    return starts


def _characters(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The texts' CJK characters, each other character a 0 and a run of them one 0, a 0 after
    each text; and where each text starts."""
    if not texts:
        return np.zeros(0, dtype=np.uint16), np.zeros(0, dtype=POSITION)
    joined = "\0".join(texts) + "\0"
    if joined.count("\0") != len(texts):  # a NUL inside a text would shift the boundaries
        joined = "\0".join(text.replace("\0", " ") for text in texts) + "\0"
    units = np.frombuffer(joined.encode("utf-16-le"), dtype=np.uint16)
    is_cjk = np.zeros(len(units), dtype=bool)
    for low, high in CJK_RANGES:
        is_cjk |= (units >= low) & (units <= high)
    boundary = units == 0
    after_cjk = np.concatenate(([False], is_cjk[:-1]))
    keep = is_cjk | boundary | after_cjk
    ends = np.flatnonzero(boundary[keep])
    return np.where(is_cjk, units, 0)[keep].astype(np.uint16), np.concatenate(([0], ends[:-1] + 1)).astype(
        POSITION
    )


@dataclass
class ProjectIndex:
    """The published projects, position `i` being the i-th in the list's default order.

    The dimensions are named after ProjectFilter's filters (and facets), which select them by name.
    """

    version: int
    ids: np.ndarray
    stage: Dimension
    mode: Dimension
    district: Dimension
    platform: Dimension
    institution: Dimension
    field: MultiDimension
    year: np.ndarray  # MISSING when unknown
    amount_cents: np.ndarray  # MISSING when not disclosed
    #: Place of the name in name order (the database's collation): equal names, equal values.
    #: A build numbers them 1, 2, …; a patch gives a new name a value between its neighbours'.
    name_rank: np.ndarray
    search_text: SearchText
    #: The last ProjectIndexChange the index holds.
    last_change_id: int = 0
    _id_order: np.ndarray = dataclass_field(init=False)
    _orders: dict = dataclass_field(init=False, default_factory=dict)
    _counts: dict = dataclass_field(init=False, default_factory=dict)
    _lock: threading.Lock = dataclass_field(init=False, default_factory=threading.Lock)

    def __post_init__(self):
        self._id_order = np.argsort(self.ids, kind="stable")

    def __len__(self) -> int:
        return len(self.ids)

    def everything(self) -> np.ndarray:
        return np.ones(len(self.ids), dtype=bool)

    def locate(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions of the given project ids, and which of the ids are in the index at all."""
        return _locate(self.ids, self._id_order, ids)

    def field_ids(self, ids: list[int]) -> list[list[int]]:
        """The technology field ids of each project id; none for an id not in the index."""
        positions, found = self.locate(np.array(ids, dtype=np.int64))
        at = iter(self.field.key_ids_at(positions.tolist()))
        return [next(at) if hit else [] for hit in found.tolist()]

    def without_fields(self) -> int:
        """How many projects have no field (no entries between their start and the next's)."""
        return int(np.count_nonzero(np.diff(self.field.row_starts) == 0))

    def year_counts(self) -> dict[int, int]:
        """Projects per known year, in year order (a tally, not np.unique's sort of every year)."""
        known = self.year[self.year != MISSING]
        if not len(known):
            return {}
        first = int(known.min())
        tally = np.bincount(known - first).tolist()
        return {first + offset: n for offset, n in enumerate(tally) if n}

    def amounts_by(self, name: str) -> dict[str, tuple[Decimal | None, int]]:
        """Per key of a dimension: the sum of the disclosed amounts (万元) and how many there are."""
        dimension = getattr(self, name)
        disclosed = self.amount_cents != MISSING
        sums = {}
        for code, key in enumerate(dimension.keys):
            amounts = self.amount_cents[disclosed & (dimension.codes == code)]
            sums[key] = (Decimal(int(amounts.sum())) / 100 if len(amounts) else None, len(amounts))
        return sums

    def counts_of_all(self, name: str, empty_key: str | None = None) -> dict[str, int]:
        """Projects per key of the dimension `name`, over all projects (the unfiltered list's
        facets), counted once per index."""
        with self._lock:
            if (name, empty_key) not in self._counts:
                self._counts[name, empty_key] = getattr(self, name).counts(None, empty_key)
            return dict(self._counts[name, empty_key])

    def ordered(self, key: str) -> np.ndarray:
        """All positions sorted by `key` (year, -year, amount, -amount, name, -name), unknown values
        last in both directions and ties broken by id, as the database sorts the list."""
        with self._lock:
            if key not in self._orders:
                self._orders[key] = self.sort(np.arange(len(self.ids)), [key])
            return self._orders[key]

    def sort(self, positions: np.ndarray, keys: list[str]) -> np.ndarray:
        """`positions` sorted by each key in turn (as `ordered`), then by id."""
        columns = [self.ids[positions]]
        for key in reversed(keys):
            column = {"year": self.year, "amount": self.amount_cents, "name": self.name_rank}[key.lstrip("-")]
            column = column[positions]
            values = -column if key.startswith("-") else column
            columns.append(np.where(column == MISSING, UNKNOWN_LAST, values))
        # np.lexsort: the last column is the primary one.
        return positions[np.lexsort(columns)].astype(POSITION)


def _locate(ids: np.ndarray, id_order: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if not len(ids):
        return np.zeros(0, dtype=np.int64), np.zeros(len(wanted), dtype=bool)
    places = np.minimum(np.searchsorted(ids, wanted, sorter=id_order), len(ids) - 1)
    found = ids[id_order[places]] == wanted
    return id_order[places[found]], found


def _slugs(queryset) -> dict[int, str]:
    return dict(queryset.values_list("pk", "slug"))


#: Rows read from the database at a time while building.
CHUNK = 2000


#: The single-valued dimensions: (ProjectIndex attribute, column read).
CODED = (
    ("stage", "stage"),
    ("mode", "transfer_mode"),
    ("district", "district_id"),
    ("platform", "platform_id"),
    ("institution", "owner_institution_id"),
)


def build_index(version: int, using: str | None = None, last_change_id: int = 0) -> ProjectIndex:
    """Read the published projects (a few columns of each, in chunks) and code them as arrays."""
    projects = TransferProject.objects.using(using).published().order_by()
    size = projects.count()
    ids = np.empty(size, dtype=np.int64)
    year = np.empty(size, dtype=np.int64)
    amount_cents = np.empty(size, dtype=np.int64)
    name_rank = np.empty(size, dtype=np.float64)
    single_valued = {name: _Coder(size) for name, _column in CODED}
    rows = projects.annotate(
        # Equal names share a rank, so that "-name" keeps ties in id order as the database does.
        name_rank=Window(DenseRank(), order_by=F("name_zh").asc())
    ).order_by(F("year").desc(nulls_last=True), "name_zh", "pk")
    columns = ("pk", *(column for _name, column in CODED))
    others = ("year", "transfer_amount_wan", "name_rank", "search_title", "search_text")
    search_text = SearchText()
    reading = rows.values_list(*columns, *others).iterator(CHUNK)
    place = 0
    # A chunk at a time, column by column: a Python loop over 100k rows and their values was a
    # third of the build.
    while chunk := list(islice(reading, min(CHUNK, size - place))):  # none published since the count
        end = place + len(chunk)
        pk, *coded, years, amounts, ranks, titles, texts = zip(*chunk, strict=True)
        ids[place:end] = pk
        for coder, values in zip(single_valued.values(), coded, strict=True):
            coder.put(place, values)
        year[place:end] = [_year(value) for value in years]
        amount_cents[place:end] = [_cents(value) for value in amounts]
        name_rank[place:end] = ranks
        search_text.add(list(chain.from_iterable(map(_title_and_rest, titles, texts))))
        place = end
    ids, year, amount_cents, name_rank = ids[:place], year[:place], amount_cents[:place], name_rank[:place]
    slugs = {
        "district": _slugs(InnovationDistrict.objects.using(using)),
        "platform": _slugs(TransferPlatform.objects.using(using)),
        "institution": _slugs(Institution.objects.using(using)),
    }
    return ProjectIndex(
        version=version,
        ids=ids,
        **{name: coder.dimension(place, slugs.get(name)) for name, coder in single_valued.items()},
        field=_fields(ids, using),
        year=year,
        amount_cents=amount_cents,
        name_rank=name_rank,
        search_text=search_text.finish(),
        last_change_id=last_change_id,
    )


def _year(year: int | None) -> int:
    return MISSING if year is None else year


def _cents(amount: Decimal | None) -> int:
    return MISSING if amount is None else int(amount * 100)


def _title_and_rest(title: str, text: str) -> tuple[str, str]:
    """The title, and what the text holds besides it (all of it, should it not start with it)."""
    if title and text.startswith(title):
        return title, text[len(title) :]
    return title, text


def _field_links(using: str | None, project_ids: list[int] | None = None) -> np.ndarray:
    """(project id, field id) rows of the published projects' fields (of `project_ids` only if given)."""
    links = TransferProject.fields.through.objects.using(using).filter(
        transferproject__publication_state="published"
    )
    if project_ids is not None:
        links = links.filter(transferproject_id__in=project_ids)
    pairs = links.values_list("transferproject_id", "techfield_id").iterator(CHUNK)
    return np.fromiter(chain.from_iterable(pairs), dtype=np.int64).reshape(-1, 2)


def _fields(ids: np.ndarray, using: str | None) -> MultiDimension:
    """The projects' fields as (position, field code) entries; `ids` are the projects in order."""
    field_slugs = _slugs(TechField.objects.using(using))
    field_ids = sorted(field_slugs)
    links = _field_links(using)
    positions, found = _locate(ids, np.argsort(ids, kind="stable"), links[:, 0])
    codes = np.searchsorted(np.array(field_ids, dtype=np.int64), links[found, 1])
    return MultiDimension(positions, codes, [field_slugs[pk] for pk in field_ids], field_ids, len(ids))


#: The related records whose slugs the index holds (`build_index`'s `_slugs`).
KEYED_BY_SLUG = frozenset((InnovationDistrict, TransferPlatform, Institution, TechField))


def leaves_index_as_is(sender, instance=None, raw=False, created=False, signal=None, **kwargs) -> bool:
    """Whether a save cannot change the index, from the signal's arguments: a district, platform,
    institution or field saved with the slug it had (or new: no project links it yet).

    The index holds only their slugs, as facet keys. Without this, editing an institution's
    description rebuilt the index in every worker: 1–2 s of the next request at 100k projects.
    """
    if raw or signal is not post_save or sender not in KEYED_BY_SLUG:
        return False
    return created or instance.slug == instance.stored_slug


#: The tables `build_index` reads (model labels): a change to any of them writes a new projects'
#: version (ContentVersion.PROJECTS_ROW), and the index is patched or rebuilt, unless
#: `leaves_index_as_is`; other content leaves it be.
BUILT_FROM = frozenset(
    model._meta.label_lower
    for model in (
        TransferProject,
        TransferProject.fields.through,
        TechField,
        InnovationDistrict,
        TransferPlatform,
        Institution,
    )
)

_indexes: dict[str, ProjectIndex] = {}
_build_lock = threading.Lock()


def get_index() -> ProjectIndex:
    """The index for the database that reads go to, brought up to date first if content changed."""
    using = router.db_for_read(TransferProject)
    version = ContentVersion.of_projects(using)
    index = _indexes.get(using)
    if index is not None and index.version == version:
        return index
    with _build_lock:
        index = _indexes.get(using)
        if index is None or index.version != version:
            index = _up_to_date(using, index)
            _indexes[using] = index
    return index


def _up_to_date(using: str, index: ProjectIndex | None) -> ProjectIndex:
    """The index patched or rebuilt, then the version checked again: a change committed
    meanwhile means doing it once more (the reads in between may straddle it)."""
    built = False
    for _attempt in range(5):
        # With an index, the version the request read may be older than the index's own.
        version = ContentVersion.of_projects(using, fresh=index is not None)
        if index is not None and index.version == version:
            break  # brought up to date meanwhile
        patched = _patched_from_log(index, version, using) if index is not None else None
        if patched is None:
            patched = build_index(version, using, last_change_id=ProjectIndexChange.last_id(using))
            built = True
        index = patched
        if ContentVersion.of_projects(using, fresh=True) == version:
            break
    if built:
        _release_freed_memory()
    return index


#: A patch re-reads at most this many projects; more changes mean a rebuild.
PATCH_LIMIT = 50
#: Positions of text a patched index may hold outside its postings (SearchText.tail, scanned on
#: every keyword search) or in removed projects' slots before a rebuild, if they are also over a
#: quarter of its text.
PATCHED_TEXT_LIMIT = 1 << 20


def _patched_from_log(index: ProjectIndex, version: int, using: str) -> ProjectIndex | None:
    """The index patched with the projects the change log names since it was made, or None when
    it has to be rebuilt: a change to something other than single projects, too many changes,
    or a log that does not run from the index's own last change to the current version.

    The index's last change must still be in the log: an index made inside a transaction that
    was rolled back holds changes no committed log row undoes (and PostgreSQL does not reuse the
    ids of rolled-back rows). A database restored from a copy fails that test too.
    """
    limit = PATCH_LIMIT * 10  # log rows: an edit writes a few
    changes = ProjectIndexChange.since(using, index.last_change_id, limit)
    if len(changes) == limit or not changes or changes[0][:2] != (index.last_change_id, index.version):
        return None
    changes = changes[1:]  # the index's own last change
    if not changes or changes[-1][1] != version:
        return None
    project_ids = {project_id for _id, _version, project_id in changes}
    if None in project_ids or len(project_ids) > PATCH_LIMIT:
        return None
    return patch_index(index, sorted(project_ids), version, changes[-1][0], using)


def changed_projects(
    sender, instance=None, raw=False, reverse=False, pk_set=None, **kwargs
) -> list[int] | None:
    """The projects a save, delete or link change of `sender` (a model the index reads) is
    about, from the signal's arguments; None when it may touch more than single projects: a
    field, district, platform or institution, or a raw load (fixtures, restores)."""
    if raw:
        return None
    if sender is TransferProject:
        return [instance.pk]
    if sender is TransferProject.fields.through:
        if not reverse:
            return [instance.pk]
        return sorted(pk_set) if pk_set else None
    return None


def patch_index(
    index: ProjectIndex, project_ids: list[int], version: int, last_change_id: int, using: str | None = None
) -> ProjectIndex | None:
    """A new index: `index` with the projects `project_ids` read again from the database (added,
    changed or taken out), or None when a patch cannot express the change and a rebuild must.

    It reads those projects, their fields and their names' neighbours (a few queries), and
    rebuilds the arrays around them (a sort of all positions): milliseconds where a rebuild
    takes seconds at 100k projects. The result equals a rebuild's, up to the values of
    `name_rank`, which keep the same order.
    """
    columns = ("pk", *(column for _name, column in CODED), "year", "transfer_amount_wan", "name_zh")
    rows = (
        TransferProject.objects.using(using)
        .published()
        .filter(pk__in=project_ids)
        .order_by("name_zh", "pk")  # names in the database's order: see _name_keys
        .values_list(*columns, "search_title", "search_text")
    )
    # Column by column; a project unpublished or deleted has no row.
    new_ids, *coded, years, amounts, names, titles, texts = list(zip(*rows, strict=True)) or [()] * (
        len(columns) + 2
    )
    # The single-valued columns coded; a value no project had before means new keys: rebuild.
    codes = {}
    for (name, _column), values in zip(CODED, coded, strict=True):
        code_of = getattr(index, name).code_of
        if any(value not in (None, "") and value not in code_of for value in values):
            return None
        codes[name] = np.array(
            [-1 if value in (None, "") else code_of[value] for value in values], dtype=np.int32
        )
    name_keys = _name_keys(index, list(names), project_ids, using)
    if name_keys is None:
        return None

    removed_positions, _found = index.locate(np.array(project_ids, dtype=np.int64))
    keep = np.ones(len(index), dtype=bool)
    keep[removed_positions] = False
    kept = np.flatnonzero(keep)
    # Kept projects then the new rows ("joined" order), sorted into the default order.
    ids = np.concatenate([index.ids[kept], np.array(new_ids, dtype=np.int64)])
    year = np.concatenate([index.year[kept], np.array([_year(value) for value in years], dtype=np.int64)])
    amount_cents = np.concatenate(
        [index.amount_cents[kept], np.array([_cents(value) for value in amounts], dtype=np.int64)]
    )
    name_rank = np.concatenate([index.name_rank[kept], name_keys]).astype(np.float64)
    order = np.lexsort((ids, name_rank, np.where(year == MISSING, UNKNOWN_LAST, -year)))
    position_of_joined = np.empty(len(order), dtype=np.int64)
    position_of_joined[order] = np.arange(len(order))
    position_of_old = np.full(len(index), -1, dtype=np.int64)
    position_of_old[kept] = position_of_joined[: len(kept)]
    new_positions = position_of_joined[len(kept) :]

    dimensions = {
        name: Dimension(
            codes=np.concatenate([getattr(index, name).codes[kept], codes[name]])[order],
            keys=getattr(index, name).keys,
            code_of=getattr(index, name).code_of,
        )
        for name, _column in CODED
    }
    field = _patched_fields(
        index.field, position_of_old, dict(zip(new_ids, new_positions.tolist(), strict=True)), len(ids), using
    )
    if field is None:
        return None
    text = index.search_text
    old_slots = np.flatnonzero(text.slot_positions >= 0)
    removed_slots = old_slots[~keep[text.slot_positions[old_slots]]]
    slot_positions = np.concatenate(
        [np.where(text.slot_positions >= 0, position_of_old[text.slot_positions], -1), new_positions]
    )
    search_text = text.patched(
        removed_slots, list(chain.from_iterable(map(_title_and_rest, titles, texts))), slot_positions
    )
    if search_text.worth_rebuilding(PATCHED_TEXT_LIMIT):
        return None  # text a rebuild would index or drop
    return ProjectIndex(
        version=version,
        ids=ids[order],
        **dimensions,
        field=field,
        year=year[order],
        amount_cents=amount_cents[order],
        name_rank=name_rank[order],
        search_text=search_text,
        last_change_id=last_change_id,
    )


def _name_keys(
    index: ProjectIndex, names: list[str], project_ids: list[int], using: str | None
) -> list[float] | None:
    """A `name_rank` value for each of the changed projects' names (given in the database's name
    order): that of an unchanged project of the same name, else values spread between those of
    the unchanged projects whose names come just before and after. None when that cannot be told
    here (a neighbour the index does not hold, or no room left between two values)."""
    others = TransferProject.objects.using(using).published().exclude(pk__in=project_ids)

    def rank_of(pk: int) -> float | None:
        positions, found = index.locate(np.array([pk], dtype=np.int64))
        return float(index.name_rank[positions[0]]) if found[0] else None

    keys, gaps = {}, defaultdict(list)
    for name in dict.fromkeys(names):  # distinct, in name order
        same = others.filter(name_zh=name).values_list("pk", flat=True).first()
        if same is not None:
            keys[name] = rank_of(same)
            continue
        below = others.filter(name_zh__lt=name).order_by("-name_zh").values_list("pk", flat=True).first()
        above = others.filter(name_zh__gt=name).order_by("name_zh").values_list("pk", flat=True).first()
        gaps[below, above].append(name)
    for (below, above), new_names in gaps.items():
        low = 0.0 if below is None else rank_of(below)  # a build's ranks start at 1
        high = None if above is None else rank_of(above)
        if low is None or (above is not None and high is None):
            return None
        step = 1.0 if high is None else (high - low) / (len(new_names) + 1)
        for n, name in enumerate(new_names, start=1):
            keys[name] = low + n * step
        spread = [low, *(keys[name] for name in new_names), *([] if high is None else [high])]
        if any(a >= b for a, b in pairwise(spread)):
            return None
    if any(key is None for key in keys.values()):
        return None
    return [keys[name] for name in names]


def _patched_fields(
    field: MultiDimension,
    position_of_old: np.ndarray,
    new_positions: dict[int, int],
    size: int,
    using: str | None,
) -> MultiDimension | None:
    """The field entries of the kept projects at their new positions, and the new rows' own."""
    kept = position_of_old[field.rows] >= 0
    links = _field_links(using, list(new_positions))
    key_ids = np.array(field.key_ids, dtype=np.int64)
    codes = np.searchsorted(key_ids, links[:, 1])
    if len(links) and (codes.max() >= len(key_ids) or np.any(key_ids[codes] != links[:, 1])):
        return None  # a field the index does not know
    rows = np.array([new_positions[pk] for pk in links[:, 0].tolist()], dtype=np.int64)
    return MultiDimension(
        np.concatenate([position_of_old[field.rows[kept]], rows]),
        np.concatenate([field.codes[kept], codes]),
        field.keys,
        field.key_ids,
        size,
    )


def _release_freed_memory() -> None:
    """Hand the memory freed after a build back to the system (glibc keeps it otherwise).

    Building reads every project's search text: some 60 MB in passing at 100k projects, which
    glibc's allocator would keep in the worker for good; `malloc_trim` returns it. Elsewhere
    (another C library) this does nothing.
    """
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):
        pass


class UnsupportedFilter(Exception):
    """A filter the index cannot evaluate: the caller answers from the database instead."""


@dataclass
class Selection:
    """One request's filters over the index: a boolean mask per active filter, and search ranks."""

    index: ProjectIndex
    masks: dict[str, np.ndarray]
    #: Per position, the number of query terms found in the title (only with a keyword search).
    rank: np.ndarray | None = None
    _all: np.ndarray | None = dataclass_field(init=False, default=None)
    _subsets: dict = dataclass_field(init=False, default_factory=dict)

    def matching(self, without: str | None = None) -> np.ndarray:
        """Positions every active filter accepts, leaving out the filter `without` (for its facet)."""
        if without not in self.masks:
            without = None  # the same rows as with every filter: computed once
            if self._all is not None:
                return self._all
        rows = self.index.everything()
        for name, mask in self.masks.items():
            if name != without:
                rows &= mask
        if without is None:
            self._all = rows
        return rows

    def subset(self, without: str | None = None) -> Subset:
        """The projects of `matching(without)`, made once per set of filters: every facet but
        those of the active filters counts the same projects."""
        key = without if without in self.masks else None
        if key not in self._subsets:
            self._subsets[key] = Subset(self.matching(key))
        return self._subsets[key]

    def facet_counts(self, name: str, empty_key: str | None = None) -> dict[str, int]:
        if all(filter_name == name for filter_name in self.masks):  # the facet counts every project
            return self.index.counts_of_all(name, empty_key)
        return getattr(self.index, name).counts(self.subset(without=name), empty_key)

    def ids(self, ordering: list[str]) -> np.ndarray:
        """Matching project ids in list order: `ordering` (sort keys, the first foremost), else
        search rank, else the default."""
        rows = self.matching()
        if len(ordering) == 1:  # a list's sort menu: the whole order is kept with the index
            order = self.index.ordered(ordering[0])
            positions = order.compress(rows[order.astype(np.intp)])
        elif ordering:  # several keys (?ordering=year,name): only the matching projects are sorted
            positions = self.index.sort(self.subset().positions, ordering)
        else:
            positions = self.subset().positions
            if self.rank is not None:
                positions = positions[np.argsort(-self.rank[positions], kind="stable")]
        return self.index.ids[positions]


#: Range filters: (index column, unit of the column, rounding that keeps the bound inclusive).
RANGES = {
    "year_min": ("year", 1, ROUND_CEILING),
    "year_max": ("year", 1, ROUND_FLOOR),
    "amount_min": ("amount_cents", 100, ROUND_CEILING),
    "amount_max": ("amount_cents", 100, ROUND_FLOOR),
}


def _within(column: np.ndarray, bound: Decimal, name: str) -> np.ndarray:
    """Known values at or above (`*_min`) or at or below (`*_max`) the bound."""
    known = column != MISSING
    return known & (column >= int(bound)) if name.endswith("_min") else known & (column <= int(bound))


def select(index: ProjectIndex, data: dict, search) -> Selection:
    """A Selection from a ProjectFilter's cleaned data; `search(query)` gives (id, rank) pairs."""
    masks, rank = {}, None
    for name, value in data.items():
        if name == "ordering" or value in (None, "", [], ()):
            continue
        if name in ("stage", "mode", "platform", "institution", "field"):
            masks[name] = getattr(index, name).mask(value)
        elif name == "district":
            masks[name] = index.district.mask(value, include_empty="unknown" in value)
        elif name in RANGES:
            column, unit, rounding = RANGES[name]
            masks[name] = _within(getattr(index, column), (value * unit).to_integral_value(rounding), name)
        elif name == "q":
            if not value.strip():
                continue
            masks[name], rank = _search(index, value, search)
        else:
            raise UnsupportedFilter(name)
    return Selection(index, masks, rank)


def _search(index: ProjectIndex, query: str, search) -> tuple[np.ndarray, np.ndarray]:
    """Projects matching the query (mask) and their rank: here, unless a word of the query is of
    digits alone (`indexed_word`); then in the database."""
    terms = parse_query(query)
    if all(term.is_cjk or indexed_word(term.text) for term in terms):
        return index.search_text.search(terms) if terms else (~index.everything(), None)
    hits = search(query)
    hit_ids = np.fromiter((hit[0] for hit in hits), dtype=np.int64, count=len(hits))
    hit_ranks = np.fromiter((hit[1] for hit in hits), dtype=RANK, count=len(hits))
    positions, found = index.locate(hit_ids)
    rank = np.zeros(len(index), dtype=RANK)
    rank[positions] = hit_ranks[found]
    matching = np.zeros(len(index), dtype=bool)
    matching[positions] = True
    return matching, rank


class IndexedProjects:
    """The projects a Selection matched, in order, read from the database a page at a time.

    Stands in for a QuerySet where lists use one: Paginator (count, slicing), DRF pagination
    and detail lookups (get), the CSV export (iterator). `queryset` decides the columns and
    relations loaded.
    """

    ordered = True

    def __init__(self, queryset, ids: np.ndarray):
        self.queryset = queryset
        self.model = queryset.model
        self.ids = ids

    def count(self) -> int:
        return len(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, item):
        if isinstance(item, slice):
            return self._fetch(self.ids[item].tolist())
        records = self._fetch([int(self.ids[item])])
        if not records:
            raise IndexError(item)
        return records[0]

    def __iter__(self):
        return self.iterator()

    def get(self, **lookup):
        """One record by lookup, if the selection holds it (a detail URL with filters)."""
        record = self.queryset.get(**lookup)
        if not np.any(self.ids == record.pk):
            raise self.model.DoesNotExist
        return record

    def iterator(self, chunk_size: int = 2000):
        for start in range(0, len(self.ids), chunk_size):
            yield from self._fetch(self.ids[start : start + chunk_size].tolist())

    def _fetch(self, ids: list[int]) -> list:
        if not ids:
            return []
        # No ORDER BY: the order is the index's, and one would tempt the planner into walking a
        # sorted index of the whole table instead of looking up these few ids.
        records = {record.pk: record for record in self.queryset.order_by().filter(pk__in=ids)}
        return [records[pk] for pk in ids if pk in records]
