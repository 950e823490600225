"""Transcript text -> lower-case words a pronouncing dictionary can look up.

``normalize_transcript("Dr. Smith paid $5, 3rd time!")`` ->
``['doctor', 'smith', 'paid', 'five', 'dollars', 'third', 'time']``.
Numbers, ordinals, years, money and percentages are spelled out; accents are
stripped; punctuation goes, apostrophes inside words stay (``don't``).
"""

from __future__ import annotations

import re
import unicodedata

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10 ** 12, "trillion"), (10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand"))
_ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth",
            "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
_ABBREVIATIONS = {
    "mr": "mister", "mrs": "missus", "ms": "miz", "dr": "doctor", "st": "saint",
    "jr": "junior", "sr": "senior", "vs": "versus", "etc": "etcetera", "prof": "professor",
}
_SYMBOLS = {"&": " and ", "%": " percent ", "+": " plus ", "=": " equals ", "@": " at ",
            "#": " number "}
_CURRENCY = {"$": "dollars", "£": "pounds", "€": "euros"}


def number_words(n: int) -> list[str]:
    """Cardinal words for a non-negative integer (``105`` -> one hundred five)."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    if n < 1000:
        return [_ONES[n // 100], "hundred"] + (number_words(n % 100) if n % 100 else [])
    for value, name in _SCALES:
        if n >= value:
            head = number_words(n // value) + [name]
            return head + (number_words(n % value) if n % value else [])
    raise ValueError(n)  # pragma: no cover


def ordinal_words(n: int) -> list[str]:
    """Ordinal words (``21`` -> twenty first)."""
    words = number_words(n)
    last = words[-1]
    if last in _ORDINAL:
        words[-1] = _ORDINAL[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return words


def year_words(n: int) -> list[str]:
    """Years the way they are read: 1984 -> nineteen eighty four, 2005 -> two thousand five."""
    hi, lo = divmod(n, 100)
    if 2000 <= n <= 2009 or lo == 0 and hi % 10 == 0:
        return number_words(n)
    return number_words(hi) + (["hundred"] if lo == 0 else
                               ["oh", _ONES[lo]] if lo < 10 else number_words(lo))


def _expand_number(token: str, currency: str | None) -> list[str]:
    """One numeric token (``3``, ``1,200``, ``3.5``, ``21st``, ``1990s``) -> words."""
    m = re.fullmatch(r"(\d+)(st|nd|rd|th)", token)
    if m:
        return ordinal_words(int(m.group(1)))
    m = re.fullmatch(r"(\d{4})s", token)
    if m:
        words = year_words(int(m.group(1)))
        last = words[-1]
        words[-1] = last[:-1] + "ies" if last.endswith("y") else last + "s"
        return words
    plain = token.replace(",", "")
    if "." in plain:
        whole, _, frac = plain.partition(".")
        words = number_words(int(whole or 0)) + ["point"] + [_ONES[int(d)] for d in frac]
    elif currency is None and len(plain) == 4 and 1100 <= int(plain) <= 2099 and "," not in token:
        words = year_words(int(plain))
    else:
        words = number_words(int(plain))
    if currency:
        words.append(currency if plain != "1" else currency.rstrip("s"))
    return words


def normalize_transcript(text: str) -> list[str]:
    """Lower-case dictionary words of ``text`` in spoken order.

    Handles digits (cardinal, decimal, ordinal, year, ``$``/``%``), common
    abbreviations, ``&``, hyphenated words (split), accents (stripped) and
    apostrophes (kept inside words, dropped at the edges).
    """
    s = unicodedata.normalize("NFKD", str(text))
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = s.replace("\u2019", "'").replace("\u2018", "'")
    for sym, rep in _SYMBOLS.items():
        s = s.replace(sym, rep)
    words: list[str] = []
    pattern = r"([$£€]?)(\d[\d,]*(?:\.\d+)?(?:st|nd|rd|th|s)?)|([A-Za-z][A-Za-z']*)"
    for m in re.finditer(pattern, s):
        cur, num, word = m.group(1), m.group(2), m.group(3)
        if num:
            words.extend(_expand_number(num.rstrip(","), _CURRENCY.get(cur)))
            continue
        w = word.strip("'").lower()
        if not w:
            continue
        end = m.end()
        if w in _ABBREVIATIONS and end < len(s) and s[end] == ".":
            w = _ABBREVIATIONS[w]
        words.extend(w.split())
    return words
