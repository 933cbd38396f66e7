"""The project's own manual-sentence generator: sentence frames filled from a shared lexicon.

A manual sentence tells the agent one entity's role (enemy, message or goal) and, unless its
movement is ``"unknown"``, how it moves (chaser, fleeing, immovable).  The original game uses
crowd-sourced sentences that this project may not ship, so this module writes its own, as

    frame x lexicon

* A *frame* (:class:`Frame`) is a sentence structure for one or more roles, e.g.
  ``"the {ma}{e}{mp} is {rd}."``.  ``{e}`` is the entity, ``{r..}`` fields are role phrases
  and ``{m..}`` fields are the places where a movement phrase may go.  A sentence fills
  exactly one movement field (an ``"unknown"`` sentence fills none, so it carries no movement
  information at all) and leaves the others empty.
* The *lexicon* holds the words the frames are filled with: entity synonyms
  (:data:`SYNONYMS`), role nouns and adjective-noun pairs (:data:`ROLE_NOUNS`, ...), and
  movement phrases in several grammatical forms (:data:`MOVEMENTS_LEXICON`: finite verb
  phrase, participle, adjective), so that one movement can sit in a relative clause, after the
  noun, before it, or in a coordinated predicate.

Splits.  Every frame belongs to exactly one text split (:data:`FRAMES`), and no two splits
share a frame *skeleton* (the frame with its movement fields removed and its role fields reduced
to an article), so no sentence can be produced by two splits: val and test sentences are new
phrasings, not reshuffled train sentences.  The lexicon, in contrast, is shared, and every word a
val or test frame uses also occurs in some train frame, so a model trained on the train split
knows every word it is tested on and only the way the words are combined is new.  This is the
generalisation the held-out human texts of the original game test.

Unambiguity.  Each lexicon entry means one thing only: an entity synonym names one entity, a
role word belongs to one role and a movement phrase to one movement, and the frames' own words
are none of these.  Every sentence therefore states its role and its movement (or, for
``"unknown"``, no movement), which the tests check word by word.

Sampling.  :func:`sample_sentence` draws a frame uniformly, then one of the frame's
pre-expanded role-and-movement fillings uniformly, then an entity synonym: three
``rng.random()`` draws and one ``str.format``.  The expansions of each (split, role, movement)
are built once, on first use, so a call costs about a microsecond.  The distribution is not
uniform over :func:`sentences` (a frame with few fillings gets each filling more often), but its
support is exactly that set.
"""

from __future__ import annotations

import functools
import itertools
import string
from typing import NamedTuple

from langstream.sampling import Uniform, choice
from langstream.vocab import tokenize
from messenger_s2.entities import ENTITIES, ROLES, TEXT_MOVEMENTS, TEXT_SPLITS, UNKNOWN

# ---------------------------------------------------------------------------------------------
# Lexicon (shared by all splits)

#: entity -> the nouns that name it; no noun names two entities
SYNONYMS: dict[str, tuple[str, ...]] = {
    "airplane": ("airplane", "plane", "jet", "aircraft"),
    "mage": ("mage", "wizard", "sorcerer", "magician"),
    "dog": ("dog", "hound", "canine"),
    "bird": ("bird", "hawk", "eagle"),
    "fish": ("fish", "whale", "shark"),
    "scientist": ("scientist", "scholar", "researcher", "analyst"),
    "thief": ("thief", "bandit", "robber"),
    "ship": ("ship", "ferry", "boat"),
    "ball": ("ball", "sphere", "orb"),
    "robot": ("robot", "bot", "humanoid", "cyborg"),
    "queen": ("queen", "princess", "empress"),
    "sword": ("sword", "blade", "saber"),
}

#: role -> nouns for the role itself ("the enemy", "a secret document")
ROLE_NOUNS: dict[str, tuple[str, ...]] = {
    "enemy": ("enemy", "opponent", "adversary", "foe", "rival", "nemesis"),
    "message": ("message", "document", "report", "letter"),
    "goal": ("goal", "target", "objective", "destination"),
}
#: role -> adjective-noun pairs ("a deadly foe", "the classified report").  Fixed pairs rather
#: than every adjective with every noun: the full product would multiply the sentence count by
#: five for no new word, and the pairs still use every adjective and every noun.
ROLE_PHRASES: dict[str, tuple[str, ...]] = {
    "enemy": ("deadly enemy", "deadly foe", "dangerous enemy", "dangerous opponent",
              "lethal adversary", "lethal enemy", "hostile rival", "hostile nemesis"),
    "message": ("secret message", "secret document", "classified report",
                "classified document", "restricted message", "confidential letter",
                "confidential report", "hidden message"),
    "goal": ("essential goal", "vital target", "crucial objective", "important goal",
             "critical target", "primary objective", "primary destination", "vital goal"),
}
#: role -> adjectives that state the role on their own ("the hound is deadly"); only enemy and
#: goal have them ("reaching the orb is vital"), a "secret" entity says nothing clear
ROLE_PREDICATES: dict[str, tuple[str, ...]] = {
    "enemy": ("deadly", "dangerous", "lethal", "hostile", "harmful"),
    "goal": ("essential", "vital", "crucial", "important", "critical"),
}
#: adjectives for "touching the hound is ...": what touching an enemy is ("hostile" is not)
TOUCH_PREDICATES: tuple[str, ...] = ("deadly", "dangerous", "lethal", "harmful", "fatal")

#: movement -> form -> phrases.  "verb": a finite third-person verb phrase ("... that <verb>",
#: "... and <verb>"); "participle": a non-finite phrase after a noun or "while";
#: "adjective": a word before the entity noun.
MOVEMENTS_LEXICON: dict[str, dict[str, tuple[str, ...]]] = {
    "chaser": {
        "verb": ("is coming toward you", "is chasing you", "chases you", "is approaching you",
                 "is heading your way", "keeps inching closer to you"),
        "participle": ("coming toward you", "coming towards you", "chasing you",
                       "approaching you", "heading your way", "inching closer to you",
                       "moving toward you"),
        "adjective": ("approaching", "chasing", "oncoming", "pursuing"),
    },
    "fleeing": {
        "verb": ("is fleeing from you", "is running away from you", "runs away from you",
                 "is escaping from you", "evades you", "is moving away from you"),
        "participle": ("fleeing from you", "running away from you", "escaping from you",
                       "evading you", "moving away from you", "trying to escape from you"),
        "adjective": ("fleeing", "escaping", "evasive", "retreating"),
    },
    "immovable": {
        "verb": ("is stationary", "cannot be moved", "is not moving", "does not move",
                 "stays still", "never moves"),
        "participle": ("standing still", "staying still", "staying in one place",
                       "remaining stationary", "remaining motionless", "never moving"),
        "adjective": ("stationary", "immovable", "motionless", "immobile", "unmoving"),
    },
}

# ---------------------------------------------------------------------------------------------
# Frames


class Frame(NamedTuple):
    """A sentence structure: the roles it can state, and its template.

    Template fields: ``{e}`` the entity noun (always after "the", so no a/an agreement is
    needed); role fields ``{rd}`` "the N", ``{rdj}`` "the A N", ``{ri}`` "a N", ``{rij}``
    "a A N", ``{rn}`` "N", ``{rj}`` a role predicate, ``{rt}`` a touch predicate; movement
    fields (each empty when another one, or none, holds the movement) ``{ma}`` "A " before the
    noun, ``{mp}`` " participle", ``{mr}`` " that verb", ``{mw}`` ", which verb," mid-sentence,
    ``{mwe}`` ", which verb" at the end, ``{mc}`` " and verb", ``{mi}`` ", and it verb",
    ``{ms}`` " while participle".
    """

    roles: tuple[str, ...]
    template: str


_ALL = ROLES
_E, _M, _G = ("enemy",), ("message",), ("goal",)

#: split -> its frames.  About 60/20/20 per role; every role has at least 3 frames per split.
FRAMES: dict[str, tuple[Frame, ...]] = {
    "train": (
        Frame(_ALL, "the {ma}{e}{mp} is {rd}."),
        Frame(_ALL, "the {e}{mr} is {rij}{mc}."),
        Frame(_ALL, "{rdj} is the {ma}{e}{mwe}."),
        Frame(_ALL, "the {e}{mw} plays the role of {rd}{mi}."),
        Frame(_ALL, "the {e}{mp} acts as {rd}."),
        Frame(_E, "the {ma}{e} is {rj}{mc}."),
        Frame(_E, "avoid the {ma}{e}{mr}, because it is {rij}."),
        Frame(_E, "touching the {e}{mp} is {rt}."),
        Frame(_E, "watch out for the {ma}{e}, {rij}{mr}."),
        Frame(_E, "the {e}{mw} is {rt} to touch."),
        Frame(_M, "the {ma}{e} has {rdj}{mc}."),
        Frame(_M, "the {e}{mr} carries {rd}{mi}."),
        Frame(_M, "the {e} holds {rdj}{ms}."),
        Frame(_M, "{rd} is carried by the {ma}{e}{mwe}."),
        Frame(_M, "you can get {rdj} from the {e}{mp}."),
        Frame(_M, "the {e}{mw} is the one with {rd}."),
        Frame(_G, "reaching the {ma}{e}{mp} is {rj}."),
        Frame(_G, "you must reach the {e}{mr}, because it is {rd}."),
        Frame(_G, "your {rn} is the {ma}{e}{mwe}."),
        Frame(_G, "go to the {ma}{e}{mp}, because it is {rij}."),
        Frame(_G, "the {e}{mp} is {rij} you must reach."),
    ),
    "val": (
        Frame(_ALL, "it is the {ma}{e}{mp} that is {rd}."),
        Frame(_ALL, "the {ma}{e} has the role of {rd}{mi}."),
        Frame(_E, "you must avoid the {rj} {e}{mp}."),
        Frame(_E, "it is {rt} to touch the {ma}{e}{mwe}."),
        Frame(_M, "{rdj} is with the {ma}{e}{mwe}."),
        Frame(_M, "get {rd} from the {e}{mr}."),
        Frame(_G, "it is {rj} to reach the {ma}{e}{mwe}."),
        Frame(_G, "you must get to the {e}{mp}, because it is {rdj}."),
    ),
    "test": (
        Frame(_ALL, "it is the {e}{mp} that acts as {rd}."),
        Frame(_ALL, "as for the {ma}{e}{mwe}, it is {rd}."),
        Frame(_E, "the {ma}{e} is {rij} that you must avoid{mi}."),
        Frame(_E, "you must avoid touching the {e}{mr}, because it is {rt}."),
        Frame(_M, "the {e}{mw} is the one that carries {rdj}."),
        Frame(_M, "you can get {rd} by reaching the {ma}{e}{mwe}."),
        Frame(_G, "the {ma}{e} is {rj} to reach{mi}."),
        Frame(_G, "your {rn} is to reach the {ma}{e}{mr}."),
    ),
}

# ---------------------------------------------------------------------------------------------
# Expansion

_ENTITY_SLOT = "{0}"  # what the entity field becomes in a pre-expanded filling
_ROLE_FIELDS = frozenset({"rd", "rdj", "ri", "rij", "rn", "rj", "rt"})
_MOVEMENT_FIELDS = frozenset({"ma", "mp", "mr", "mw", "mwe", "mc", "mi", "ms"})


def _article(phrase: str) -> str:
    # Every lexicon word that starts with a vowel letter also starts with a vowel sound.
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def _role_fillers(role: str) -> dict[str, tuple[str, ...]]:
    nouns, adjective_nouns = ROLE_NOUNS[role], ROLE_PHRASES[role]
    return {
        "rd": tuple("the " + n for n in nouns),
        "rdj": tuple("the " + p for p in adjective_nouns),
        "ri": tuple(_article(n) for n in nouns),
        "rij": tuple(_article(p) for p in adjective_nouns),
        "rn": nouns,
        "rj": ROLE_PREDICATES.get(role, ()),
        "rt": TOUCH_PREDICATES if role == "enemy" else (),
    }


def _movement_fillers(movement: str) -> dict[str, tuple[str, ...]]:
    lex = MOVEMENTS_LEXICON[movement]
    verbs, participles = lex["verb"], lex["participle"]
    return {
        "ma": tuple(a + " " for a in lex["adjective"]),
        "mp": tuple(" " + p for p in participles),
        "mr": tuple(" that " + v for v in verbs),
        "mw": tuple(", which " + v + "," for v in verbs),
        "mwe": tuple(", which " + v for v in verbs),
        "mc": tuple(" and " + v for v in verbs),
        "mi": tuple(", and it " + v for v in verbs),
        "ms": tuple(" while " + p for p in participles),
    }


def _fields(template: str) -> list[str]:
    return [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]


def _expand(frame: Frame, role: str, movement: str) -> tuple[str, ...]:
    """Every filling of ``frame`` for (role, movement), with the entity left as ``{0}``."""
    fields = _fields(frame.template)
    role_fields = [f for f in fields if f in _ROLE_FIELDS]
    movement_fields = [f for f in fields if f in _MOVEMENT_FIELDS]
    role_fill, empty = _role_fillers(role), dict.fromkeys(movement_fields, "")
    if movement == UNKNOWN:
        movement_options = [empty]
    else:
        movement_fill = _movement_fillers(movement)
        movement_options = [{**empty, f: phrase} for f in movement_fields
                             for phrase in movement_fill[f]]
    out: dict[str, None] = {}  # ordered and duplicate-free, so sampling is reproducible
    for values in itertools.product(*(role_fill[f] for f in role_fields)):
        roles = dict(zip(role_fields, values))
        for moves in movement_options:
            out[frame.template.format(e=_ENTITY_SLOT, **roles, **moves)] = None
    return tuple(out)


def _check(split: str, entity: str | None, role: str, movement: str) -> None:
    for kind, value, valid in (("split", split, TEXT_SPLITS), ("role", role, ROLES),
                               ("movement", movement, TEXT_MOVEMENTS)):
        if value not in valid:
            raise ValueError(f"unknown {kind} {value!r}; expected one of {list(valid)}")
    if entity is not None and entity not in SYNONYMS:
        raise ValueError(f"unknown entity {entity!r}; expected one of {list(ENTITIES)}")


#: (split, role, movement) -> one tuple of fillings per frame; filled on first use
_TABLES: dict[tuple[str, str, str], tuple[tuple[str, ...], ...]] = {}


def _table(split: str, role: str, movement: str) -> tuple[tuple[str, ...], ...]:
    key = (split, role, movement)
    table = _TABLES.get(key)
    if table is None:
        _check(split, None, role, movement)
        table = tuple(_expand(f, role, movement) for f in FRAMES[split] if role in f.roles)
        _TABLES[key] = table
    return table


# ---------------------------------------------------------------------------------------------
# Public API


def frame_fillings(split: str, role: str, movement: str) -> tuple[tuple[str, ...], ...]:
    """The fillings of every frame of ``split`` that can say ``role`` (one tuple per frame), in
    the order :func:`sample_parts` draws from; each filling is a format string of the name."""
    return _TABLES.get((split, role, movement)) or _table(split, role, movement)


def sample_parts(rng: Uniform, split: str, entity: str, role: str, movement: str
                 ) -> tuple[str, str]:
    """A sentence as (filling, entity name): the sentence is ``filling.format(name)``.

    Draws a frame, a filling and a synonym (three ``rng.random()`` calls).  The split lets
    callers cache per filling (there are about 9,000) rather than per sentence (about 360,000).
    Raises ValueError for an unknown split, entity, role or movement.
    """
    table = frame_fillings(split, role, movement)
    if entity not in SYNONYMS:
        _check(split, entity, role, movement)  # raises: the entity is unknown
    names = SYNONYMS[entity]
    filling = choice(rng, choice(rng, table))
    return filling, choice(rng, names)


def sample_sentence(rng: Uniform, split: str, entity: str, role: str, movement: str) -> str:
    """One sentence saying ``entity`` is the ``role`` and moves like ``movement``.

    Reproducible from the stream; always a member of ``sentences(split, entity, role,
    movement)``.  Raises ValueError for an unknown split, entity, role or movement.
    """
    filling, name = sample_parts(rng, split, entity, role, movement)
    return filling.format(name)


# Bounded to one split's worth of pools (12 entities x 3 roles x 4 movements): all pools of all
# splits hold ~360k strings (~55 MB), more than a cache of an analysis helper should keep.
@functools.lru_cache(maxsize=len(ENTITIES) * len(ROLES) * len(TEXT_MOVEMENTS))
def sentences(split: str, entity: str, role: str, movement: str) -> tuple[str, ...]:
    """Every distinct sentence ``sample_sentence`` can return for these arguments, sorted."""
    _check(split, entity, role, movement)
    names = SYNONYMS[entity]
    return tuple(sorted({filling.format(name) for fillings in _table(split, role, movement)
                         for filling in fillings for name in names}))


@functools.lru_cache(maxsize=None)
def split_words(split: str) -> frozenset[str]:
    """Every token (as ``langstream.vocab.tokenize`` splits it) a sentence of ``split`` can hold.

    Computed from the fillings, not the sentences: every frame names the entity and every
    entity can take every frame, so the words are the fillings' words plus all synonyms.
    """
    if split not in TEXT_SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {list(TEXT_SPLITS)}")
    words = {name for names in SYNONYMS.values() for name in names}
    for role, movement in itertools.product(ROLES, TEXT_MOVEMENTS):
        for fillings in _table(split, role, movement):
            for filling in fillings:
                words.update(tokenize(filling.replace(_ENTITY_SLOT, " ")))
    return frozenset(words)
