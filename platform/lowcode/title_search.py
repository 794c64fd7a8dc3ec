""""Title contains": the one search condition of the clue and task lists that no b-tree serves."""
from __future__ import annotations

from sqlalchemy import Text, and_, func, null
from sqlalchemy.dialects.postgresql import ARRAY

from lowcode.extensions import db


def contains(column, words: str, indexed: bool = True):
    """`column` contains `words`: on SQLite a LIKE. On PostgreSQL "has every character of `words`",
    which the title's GIN index of characters answers (models.mixins.title_chars_index), so a rare
    word is found without reading every title, and then strpos decides. strpos, not LIKE: the
    planner estimates a LIKE from the titles and would count the same rarity twice (the word's
    characters, then the word), and sort every match of a common word instead of walking the
    list's order to the first page. Not `indexed`: strpos alone, for rows a query reaches otherwise
    (the characters' index would read every row that has them, wherever it is)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return column.contains(words, autoescape=True)
    if not indexed:
        return func.strpos(column, words) != 0
    characters = func.string_to_array(column, null(), type_=ARRAY(Text))
    # strpos first: where a scan, not the index, reads the titles, most fail it before the array is made.
    return and_(func.strpos(column, words) != 0, characters.contains(sorted(set(words))))
