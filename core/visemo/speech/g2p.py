"""Text in (almost) any language → IPA phones, through espeak-ng's own letter-to-sound rules.

espeak-ng (GPL-3.0-or-later) is loaded with ctypes from the ``espeakng-loader``
package, which bundles the library and its data for Linux, Windows and macOS
(so the Blender extension can ship it too); a system ``libespeak-ng.so.1``
is the fallback.  :func:`phonemize` returns, per word, its IPA phones;
:func:`languages` lists the voices espeak-ng knows.  Calls are serialised
(espeak-ng keeps global state).

Used to turn a transcript into the mouth classes whose timing the
articulation model then finds (:mod:`visemo.speech.class_align`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import re
import threading

from ..errors import DependencyError, PromptError

_LOCK = threading.Lock()
AUDIO_OUTPUT_SYNCHRONOUS = 2
espeakCHARS_UTF8 = 1
espeakPHONEMES_IPA = 0x02
SEPARATOR = "_"


class _VoiceSpec(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_char_p), ("identifier", ctypes.c_char_p),
                ("gender", ctypes.c_ubyte), ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte),
                ("xx1", ctypes.c_ubyte), ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


@functools.lru_cache(maxsize=1)
def _library() -> ctypes.CDLL:
    """The initialised espeak-ng library (DependencyError when there is none)."""
    path = data = None
    try:
        import espeakng_loader

        path, data = espeakng_loader.get_library_path(), espeakng_loader.get_data_path()
    except ImportError:
        path = ctypes.util.find_library("espeak-ng")
    if not path:
        raise DependencyError("transcripts in other languages need espeak-ng; run `pip install espeakng-loader` "
                              "(or install the espeak-ng system package)")
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise DependencyError(f"espeak-ng could not be loaded from {path} ({e}); reinstall espeakng-loader") from None
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
    lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
    lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceSpec))
    lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
    if lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode() if data else None, 0) <= 0:
        raise DependencyError("espeak-ng did not start (its data folder is missing?); reinstall espeakng-loader")
    return lib


def available() -> bool:
    """Whether espeak-ng can be loaded."""
    try:
        _library()
    except DependencyError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def languages() -> tuple[str, ...]:
    """Language codes espeak-ng has voices for (``"en-us"``, ``"it"``, ``"cs"``, ...)."""
    lib = _library()
    out = set()
    with _LOCK:
        voices = lib.espeak_ListVoices(None)
        i = 0
        while voices[i]:
            langs = voices[i].contents.languages or b""
            # a list of (priority byte, NUL-terminated name) pairs ending with a 0 priority
            raw = ctypes.string_at(langs, 200)
            k = 0
            while k < len(raw) and raw[k] != 0 and b"\0" in raw[k + 1:]:
                end = raw.index(b"\0", k + 1)
                name = raw[k + 1:end].decode("ascii", "replace")
                if re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]+)*", name):
                    out.add(name)
                k = end + 1
            i += 1
    return tuple(sorted(out))


def _voice_name(language: str) -> str:
    lang = language.strip().lower().replace("_", "-")
    known = languages()
    if lang in known:
        return lang
    base = lang.split("-")[0]
    if base in known:
        return base
    for k in known:
        if k.split("-")[0] == base:
            return k
    raise PromptError(f"espeak-ng has no voice for language {language!r}; use an ISO code like "
                      f"en, fr, de, es, it, pt, cs, ru, ca, fi, pl (known: {len(known)})")


def phonemize(text: str, language: str) -> list[list[str]]:
    """IPA phones of each word of ``text`` spoken in ``language`` (ISO code), e.g.
    ``phonemize("ciao mamma", "it")`` → ``[["tʃ", "a", "o"], ["m", "a", "m", "m", "a"]]``.

    Stress marks are dropped; length marks stay on their phone.  Raises
    :class:`~visemo.errors.PromptError` for a language espeak-ng does not
    know and :class:`~visemo.errors.DependencyError` without espeak-ng.
    """
    lib = _library()
    voice = _voice_name(language)
    words: list[list[str]] = []
    with _LOCK:
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise PromptError(f"espeak-ng could not select the voice for {language!r}")
        buf = ctypes.create_string_buffer(text.encode("utf-8"))
        ptr = ctypes.c_void_p(ctypes.addressof(buf))
        mode = espeakPHONEMES_IPA | (ord(SEPARATOR) << 8)
        while ptr.value:
            out = lib.espeak_TextToPhonemes(ctypes.byref(ptr), espeakCHARS_UTF8, mode)
            if not out:
                break
            # "(en)…(ru)" marks a stretch espeak-ng read with another language's rules
            clause = re.sub(r"\([a-z-]+\)", " ", out.decode("utf-8", "replace"))
            for word in clause.split():
                phones = [p.replace("ˈ", "").replace("ˌ", "") for p in word.split(SEPARATOR)]
                phones = [p for p in phones if p]
                if phones:
                    words.append(phones)
    return words
